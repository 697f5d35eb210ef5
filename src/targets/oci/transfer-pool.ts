/**
 * A small pool of transfer worker threads, shared by every pull of the process:
 * started lazily (a pull that moves no blob starts none), each worker doing
 * whole blob transfers (transfer-worker.ts), the least busy one taking the next
 * job. Idle workers do not keep the process alive and stop after a few seconds.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Exchange } from "../../registry/http.js";
import type { BlobAnswer, BlobRequest, RegistryClient } from "../../registry/registry-client.js";
import type { BlobStore, BlobTarget, ProgressFn } from "./blob-store.js";
import {
  TransferFailure,
  errorFromWire,
  type FromWorker,
  type ToWorker,
  type TransferJob,
  type TransferResult,
} from "./transfer-protocol.js";

/** Idle workers stop after this long: a long-lived process does not keep their memory. */
const IDLE_STOP_MS = 5_000;

interface Listeners {
  readonly onProgress: ProgressFn;
  readonly onExchange: ((exchange: Exchange) => void) | undefined;
  readonly onWarning: ((message: string) => void) | undefined;
}

interface Pending extends Listeners {
  readonly worker: PoolWorker;
  readonly resolve: (answer: BlobAnswer<TransferResult>) => void;
  readonly reject: (error: unknown) => void;
}

interface PoolWorker {
  readonly thread: Worker;
  active: number;
}

class TransferPool {
  readonly #workers: PoolWorker[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #idleTimer: NodeJS.Timeout | undefined;

  /** Run one try of one blob in a worker; rejects with TransferFailure, or the signal's reason when cancelled. */
  run(job: Omit<TransferJob, "id">, listeners: Listeners, signal: AbortSignal | undefined): Promise<BlobAnswer<TransferResult>> {
    signal?.throwIfAborted();
    clearTimeout(this.#idleTimer);
    const worker = this.#pick();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const cancel = (): void => {
        this.#settle(id);
        this.#send(worker, { type: "abort", id });
        reject(signal?.reason);
      };
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          signal?.removeEventListener("abort", cancel);
          fn(value);
        };
      this.#pending.set(id, { ...listeners, worker, resolve: settle(resolve), reject: settle(reject) });
      signal?.addEventListener("abort", cancel, { once: true });
      worker.active++;
      worker.thread.ref(); // a job in flight keeps the process alive
      this.#send(worker, { type: "job", job: { ...job, id } });
    });
  }

  /** Close every worker's connections for `configId`. */
  release(configId: number): void {
    for (const worker of this.#workers) this.#send(worker, { type: "release", configId });
  }

  /** A worker with room: a new one while fewer than the cores, else the least busy. */
  #pick(): PoolWorker {
    const idle = this.#workers.find((worker) => worker.active === 0);
    if (idle) return idle;
    if (this.#workers.length < Math.max(1, availableParallelism())) return this.#start();
    return this.#workers.reduce((a, b) => (b.active < a.active ? b : a));
  }

  #start(): PoolWorker {
    const thread = new Worker(...workerEntry());
    const worker: PoolWorker = { thread, active: 0 };
    thread.on("message", (message: FromWorker) => this.#receive(message));
    thread.on("error", (error) => this.#lost(worker, error));
    thread.on("exit", (code) => this.#lost(worker, new Error(`a transfer worker stopped (exit code ${code})`)));
    thread.unref();
    this.#workers.push(worker);
    return worker;
  }

  #receive(message: FromWorker): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return; // cancelled: its late reports are dropped
    if (message.type === "progress") pending.onProgress(message.received);
    else if (message.type === "exchange") pending.onExchange?.(message.exchange);
    else if (message.type === "warning") pending.onWarning?.(message.message);
    else {
      this.#settle(message.id);
      if (message.type === "done") pending.resolve(message.answer);
      else pending.reject(new TransferFailure(errorFromWire(message.error), message.received));
    }
  }

  /** A worker died (out of memory, a bug): its jobs fail, and the next job starts a fresh one. */
  #lost(worker: PoolWorker, error: Error): void {
    const index = this.#workers.indexOf(worker);
    if (index < 0) return;
    this.#workers.splice(index, 1);
    for (const [id, pending] of this.#pending) {
      if (pending.worker !== worker) continue;
      this.#pending.delete(id);
      pending.reject(new TransferFailure(error, 0));
    }
  }

  #settle(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (--pending.worker.active === 0) pending.worker.thread.unref();
    if (this.#pending.size === 0) {
      this.#idleTimer = setTimeout(() => this.#stopAll(), IDLE_STOP_MS);
      this.#idleTimer.unref();
    }
  }

  #stopAll(): void {
    for (const worker of this.#workers.splice(0)) void worker.thread.terminate();
  }

  #send(worker: PoolWorker, message: ToWorker): void {
    worker.thread.postMessage(message);
  }
}

/**
 * The worker's module. From the built package it is the .js beside this file; run from
 * source (the tests), the .ts beside it, loaded through tsx as the source is.
 */
function workerEntry(): [URL, { execArgv?: string[] }] {
  const built = new URL("./transfer-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return [built, {}];
  return [new URL("./transfer-worker.ts", import.meta.url), { execArgv: ["--import", "tsx"] }];
}

let pool: TransferPool | undefined;
let nextConfigId = 1;

/** Moves whole transfers of one image's blobs into the pool's workers. */
export interface BlobTransfers {
  /** One try at one blob, as BlobStore.ingest would make it in this thread; throws TransferFailure or the request's error. */
  readonly ingest: (target: BlobTarget, what: string, onProgress: ProgressFn, signal: AbortSignal | undefined) => Promise<void>;
  /** Close the workers' connections for this client. */
  readonly release: () => void;
}

/**
 * Transfers of `repository`'s blobs into `store`, asked for with `client`'s auth and sent with its HTTP settings.
 *
 * @example
 * const transfers = blobTransfers(client, "public/app", store);
 * try { await transfers.ingest(layer, "layer …", () => undefined, undefined); } finally { transfers.release(); }
 */
export function blobTransfers(
  client: RegistryClient,
  repository: string,
  store: BlobStore,
  listeners: Omit<Listeners, "onProgress"> = { onExchange: undefined, onWarning: undefined },
): BlobTransfers {
  const configId = nextConfigId++;
  const config = client.transferConfig;
  let used = false;
  return {
    ingest: async (target, what, onProgress, signal) => {
      used = true;
      pool ??= new TransferPool();
      const running = pool;
      await client.sendBlob(repository, target.digest, (request: BlobRequest) =>
        running.run({ configId, config, storeRoot: store.root, target, what, request }, { ...listeners, onProgress }, signal),
      );
    },
    release: () => {
      if (used) pool?.release(configId);
    },
  };
}
