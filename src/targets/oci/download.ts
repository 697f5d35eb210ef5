/**
 * Fetching a set of blobs into a BlobStore: a bounded number at a time, each
 * blob once however many manifests name it, blobs already stored skipped, and
 * a transfer that breaks off resumed where it stopped.
 */
import { emit, type PullEventListener } from "../../events.js";
import { isPullbackError } from "../../errors.js";
import type { BlobStore, BlobTarget, OpenBlob, Transferred } from "./blob-store.js";

/**
 * Blobs fetched at once: what containers/image (skopeo, podman) fetches. Many small layers are
 * the common shape, and their per-blob waits (request, fsync) overlap better than with 4
 * (40-layer pull: 490 → 448 ms in-process, median of 5; 8 gave 428).
 */
export const DEFAULT_CONCURRENCY = 6;
/** How often a broken transfer is resumed within one pull, as long as each try made progress. */
export const RESUME_TRIES = 5;
/**
 * Breaks before the first byte that are retried anyway: a reset right after the headers
 * (the peer's RST can discard bytes already in flight) is as transient as one later on.
 */
export const NO_PROGRESS_RETRIES = 1;
/** Progress events per blob at most this often: enough for a progress bar, few enough to be cheap. */
const PROGRESS_INTERVAL_MS = 250;

export interface BlobJob extends BlobTarget {
  /** Emit `layer` events for this blob (layers yes; configs no, as docker does). */
  readonly reportProgress: boolean;
}

export interface DownloadOptions {
  readonly concurrency?: number | undefined;
  readonly onEvent?: PullEventListener | undefined;
  /** Opens a blob's body from an offset — the registry client's getBlob. */
  readonly open: (digest: string, offset: number, signal?: AbortSignal) => ReturnType<OpenBlob>;
  /** Cancels the downloads: no new transfer starts, those in flight are given up (their partials kept for a resume). */
  readonly signal?: AbortSignal | undefined;
  /** Names a blob in messages: "layer sha256:… of public/app:1". */
  readonly describe?: ((digest: string) => string) | undefined;
}

/** Bytes actually transferred; blobs already present count zero. */
export interface DownloadResult {
  readonly fetchedBytes: number;
  readonly fetchedBlobs: number;
}

/**
 * Make every blob of `jobs` present in `store`.
 *
 * @example
 * await downloadBlobs(store, [{ digest, size, reportProgress: true }], {
 *   open: (digest, offset) => client.getBlob("public/app", digest, { offset }),
 * });
 */
export async function downloadBlobs(store: BlobStore, jobs: readonly BlobJob[], options: DownloadOptions): Promise<DownloadResult> {
  const unique = [...new Map(jobs.map((job) => [job.digest, job])).values()];
  const limit = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  for (const job of unique) if (job.reportProgress) layerEvent(options, job, "waiting");
  let next = 0;
  let fetchedBytes = 0;
  let fetchedBlobs = 0;
  let failed = false;
  // Blobs whose bytes are in, being flushed to disk: a slot goes to the next transfer meanwhile.
  const flushing: Promise<void>[] = [];
  const fail = (error: unknown): never => {
    failed = true;
    throw error;
  };
  const worker = async (): Promise<void> => {
    // Once one blob failed the pull has failed: start no more transfers.
    while (!failed && next < unique.length) {
      options.signal?.throwIfAborted();
      const job = unique[next++];
      if (!job) break;
      const transferred = await fetchOne(store, job, options).catch(fail);
      if (!transferred) continue;
      flushing.push(
        transferred.committed.then(() => {
          fetchedBytes += job.size;
          fetchedBlobs++;
          if (job.reportProgress) layerEvent(options, job, "done", job.size);
        }, fail),
      );
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, unique.length) }, worker));
  // Every flush is waited for, even after a failure: nothing of this pull is still writing once it returns.
  const flushed = await Promise.allSettled(flushing);
  const rejected = [...results, ...flushed].find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (rejected) throw rejected.reason;
  return { fetchedBytes, fetchedBlobs };
}

/**
 * One blob: skip when present, else download, resuming after breaks that made progress.
 * Resolves once its bytes are in, with the flush to wait for; undefined when it was present.
 */
async function fetchOne(store: BlobStore, job: BlobJob, options: DownloadOptions): Promise<Transferred | undefined> {
  if (await store.has(job)) {
    if (job.reportProgress) layerEvent(options, job, "exists", job.size);
    return undefined;
  }
  const progress = throttledProgress(options, job);
  const what = options.describe?.(job.digest) ?? job.digest;
  let idleBreaks = 0;
  for (let tries = 1; ; tries++) {
    let reached = -1;
    const onProgress = (current: number): void => {
      reached = current;
      progress(current);
    };
    try {
      options.signal?.throwIfAborted();
      return await store.transfer(job, (offset) => options.open(job.digest, offset, options.signal), onProgress, what);
    } catch (error) {
      // Cancelled: the partial stays for a later resume, and no other try is made.
      options.signal?.throwIfAborted();
      // A transfer that broke off after making progress is worth resuming; one that made none
      // only once (the registry may be refusing for good, and the request level already retried).
      if (!isPullbackError(error, "network") || tries >= RESUME_TRIES) throw error;
      if (reached <= 0 && ++idleBreaks > NO_PROGRESS_RETRIES) throw error;
    }
  }
}

function throttledProgress(options: DownloadOptions, job: BlobJob): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (!job.reportProgress || (now - last < PROGRESS_INTERVAL_MS && current < job.size)) return;
    last = now;
    layerEvent(options, job, "downloading", current);
  };
}

function layerEvent(options: DownloadOptions, job: BlobJob, status: string, current?: number): void {
  emit(options.onEvent, {
    type: "layer",
    id: shortDigest(job.digest),
    status,
    current,
    total: job.size,
  });
}

/**
 * The 12 hex characters docker shows for a layer.
 *
 * @example
 * shortDigest("sha256:4abcf2066143…") // → "4abcf2066143"
 */
export function shortDigest(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 13);
}
