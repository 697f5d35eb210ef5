/**
 * sha256 of a blob while it downloads, off the main thread. Hashing is the
 * largest CPU cost of a pull (about a third of it, measured); in a worker it
 * runs on another core while the main thread keeps reading and writing.
 *
 * Memory stays bounded: each hasher lets at most HASH_BACKLOG_BYTES wait in a
 * worker's queue, and `update` resolves only once the backlog is below that.
 * Where workers cannot start, hashing happens inline with the same interface.
 */
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { PullbackError, messageOf } from "../../errors.js";

/** Bytes a hasher may have queued in its worker before `update` waits. */
export const HASH_BACKLOG_BYTES = 4 * 1024 * 1024;

export interface StreamHasher {
  /** Hash `data` next. The buffer is handed over: the caller must not touch it afterwards. */
  update(data: Buffer): Promise<void>;
  /** "sha256:<hex>" of everything given; the hasher is finished after this. */
  digest(): Promise<string>;
}

// CommonJS source, so it runs the same from TypeScript (tsx), from dist/ and from a bundle.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.t === "u") {
    let h = hashes.get(m.id);
    if (!h) { h = createHash("sha256"); hashes.set(m.id, h); }
    h.update(new Uint8Array(m.b, m.o, m.n));
    parentPort.postMessage({ id: m.id, ack: m.n });
  } else {
    const h = hashes.get(m.id) || createHash("sha256");
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: h.digest("hex") });
  }
});`;

interface Pending {
  backlog: number;
  wake: (() => void) | undefined;
  done: ((hex: string) => void) | undefined;
  fail: ((error: Error) => void) | undefined;
}

class HashWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #busy = 0;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true });
    this.#worker.unref(); // an idle pool must not keep the process alive
    this.#worker.on("message", (message: { id: number; ack?: number; digest?: string }) => this.#onMessage(message));
    this.#worker.on("error", (error) => {
      // A broken worker fails the blobs it was hashing; later hashers run inline.
      broken = true;
      for (const state of this.#pending.values()) {
        state.wake?.();
        state.fail?.(new PullbackError("other", `The hashing worker failed: ${messageOf(error)}`, { cause: error }));
      }
      this.#pending.clear();
    });
  }

  get load(): number {
    return this.#busy;
  }

  hasher(id: number): StreamHasher {
    const state: Pending = { backlog: 0, wake: undefined, done: undefined, fail: undefined };
    this.#pending.set(id, state);
    this.#busy++;
    return {
      update: async (data) => {
        // Transfer, not copy: the buffer must own its memory, so copy the rare shared slice first.
        // (Buffer.from would not do: small copies land in Node's shared pool, which must never be transferred.)
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);
        state.backlog += own.byteLength;
        this.#worker.postMessage({ t: "u", id, b: own.buffer, o: 0, n: own.byteLength }, [own.buffer as ArrayBuffer]);
        while (state.backlog > HASH_BACKLOG_BYTES && !broken) await new Promise<void>((resolve) => (state.wake = resolve));
      },
      digest: () =>
        new Promise<string>((resolve, reject) => {
          if (broken) return reject(new PullbackError("other", "The hashing worker failed"));
          state.done = (hex) => resolve(`sha256:${hex}`);
          state.fail = reject;
          this.#worker.ref(); // a pending digest is work: keep the process alive until it arrives
          this.#worker.postMessage({ t: "d", id });
        }),
    };
  }

  #onMessage(message: { id: number; ack?: number; digest?: string }): void {
    const state = this.#pending.get(message.id);
    if (!state) return;
    if (message.ack !== undefined) {
      state.backlog -= message.ack;
      const wake = state.wake;
      state.wake = undefined;
      wake?.();
    } else if (message.digest !== undefined) {
      this.#pending.delete(message.id);
      this.#busy--;
      if (this.#busy === 0) this.#worker.unref();
      state.done?.(message.digest);
    }
  }
}

let pool: HashWorker[] | undefined;
let broken = false;
let nextId = 0;

/**
 * A hasher for one blob: in the least busy worker of a small pool (one fewer
 * than the cores, at least one, at most four), or inline where workers fail.
 *
 * @example
 * const hasher = createStreamHasher();
 * await hasher.update(Buffer.from("abc"));
 * await hasher.digest(); // "sha256:ba7816bf…"
 */
export function createStreamHasher(): StreamHasher {
  if (!broken) {
    try {
      pool ??= Array.from({ length: Math.min(4, Math.max(1, availableParallelism() - 1)) }, () => new HashWorker());
      const worker = pool.reduce((least, candidate) => (candidate.load < least.load ? candidate : least));
      return worker.hasher(nextId++);
    } catch {
      broken = true;
    }
  }
  return inlineHasher();
}

/** The same interface on the calling thread. */
export function inlineHasher(): StreamHasher {
  const hash = createHash("sha256");
  return {
    update: (data) => {
      hash.update(data);
      return Promise.resolve();
    },
    digest: () => Promise.resolve(`sha256:${hash.digest("hex")}`),
  };
}
