/**
 * A transfer worker thread: takes whole blob transfers — the request, the body,
 * its sha256 and the write into the store — so the bytes never cross threads and
 * the pull's own thread only schedules and reports. Its HttpClient is built from
 * the pull's client's settings: the same trust, proxies, timeouts and retries.
 */
import { parentPort } from "node:worker_threads";
import { HttpClient } from "../../registry/http.js";
import { readBodyCapped } from "../../registry/read-body.js";
import type { BlobAnswer } from "../../registry/registry-client.js";
import { BlobStore } from "./blob-store.js";
import { errorToWire, type FromWorker, type ToWorker, type TransferJob, type TransferResult } from "./transfer-protocol.js";

/** Progress goes to the pull's thread at most this often per blob: a message per chunk would cost more than the chunk. */
const PROGRESS_INTERVAL_MS = 100;

const port = parentPort;
if (port === null) throw new Error("transfer-worker.js runs as a worker thread");
const clients = new Map<number, HttpClient>();
const running = new Map<number, AbortController>();

const post = (message: FromWorker): void => port.postMessage(message);

port.on("message", (message: ToWorker) => {
  if (message.type === "job") void run(message.job);
  else if (message.type === "abort") running.get(message.id)?.abort(new Error("the transfer was cancelled"));
  else {
    const client = clients.get(message.configId);
    clients.delete(message.configId);
    void client?.close();
  }
});

function clientFor(job: TransferJob): HttpClient {
  let client = clients.get(job.configId);
  if (client === undefined) {
    client = new HttpClient({
      ...job.config,
      // Reported with the job that was running when they happened; the pull's thread says them once.
      onExchange: (exchange) => post({ type: "exchange", id: job.id, exchange }),
      onWarning: (message) => post({ type: "warning", id: job.id, message }),
    });
    clients.set(job.configId, client);
  }
  return client;
}

/** The registry answered, but not with the blob: the pull's thread judges it (401 re-auth, error documents). */
class Declined extends Error {
  constructor(readonly answer: BlobAnswer<TransferResult>) {
    super("declined");
  }
}

async function run(job: TransferJob): Promise<void> {
  const controller = new AbortController();
  running.set(job.id, controller);
  const client = clientFor(job);
  let received = 0;
  let reported = 0;
  const onProgress = (current: number): void => {
    received = current;
    const now = Date.now();
    if (now - reported < PROGRESS_INTERVAL_MS && current < job.target.size) return;
    reported = now;
    post({ type: "progress", id: job.id, received: current });
  };
  try {
    await new BlobStore(job.storeRoot).ingest(
      job.target,
      async (offset) => {
        const response = await client.send({
          method: "GET",
          url: job.request.url,
          headers: offset > 0 ? { ...job.request.headers, range: `bytes=${offset}-` } : job.request.headers,
          credentialed: job.request.credentialed,
          signal: controller.signal,
        });
        if (response.status >= 200 && response.status < 300)
          return { body: response.body, rangeHonoured: offset > 0 && response.status === 206 };
        const body = await readBodyCapped(response.body);
        const headers = { "www-authenticate": response.headerValues("www-authenticate") };
        throw new Declined({ ok: false, status: response.status, url: String(response.url), headers, body });
      },
      onProgress,
      job.what,
    );
    post({ type: "done", id: job.id, answer: { ok: true, value: { received: job.target.size } } });
  } catch (error) {
    if (error instanceof Declined) post({ type: "done", id: job.id, answer: error.answer });
    else post({ type: "failed", id: job.id, error: errorToWire(error), received });
  } finally {
    running.delete(job.id);
  }
}
