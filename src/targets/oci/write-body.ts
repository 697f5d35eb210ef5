/**
 * Copy a response body into a file: chunks are gathered into ~256 KiB batches and
 * written with one writev each (no copy into a bigger buffer, no write over 256 KiB), while the next
 * batch is being read — fewer syscalls than a 16 KiB write stream, and network
 * and disk overlap. At most two batches are held, and the body is not read
 * while a write is pending, so memory stays flat whatever the blob's size.
 */
import { writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { PullbackError, isPullbackError, messageOf } from "../../errors.js";
import { ioReasonOf } from "../../files/io-error.js";
import { BulkBody, type BodySink } from "../../registry/bulk-get.js";

/** Batches of 1 MiB saved no time over 256 KiB and held ~25 MB more at the peak of a 256 MiB pull (measured). */
const BATCH_BYTES = 256 * 1024;
/**
 * Written bytes are flushed to disk in the background every this many bytes, while the
 * download goes on: the caller's closing datasync then finds little left to do instead of
 * a whole blob's dirty pages (measured: ~40 ms off a 4 × 64 MiB pull).
 */
const FLUSH_BEHIND_BYTES = 16 * 1024 * 1024;

/** What went wrong: the body (network), the file (io), or the inspector (its own error). */
export class BodyReadError extends PullbackError {
  override readonly name = "BodyReadError";

  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super("network", message, options);
  }
}

export interface BodyObserver {
  /**
   * Every chunk as it arrives, in order, before it is written (counting, limits,
   * hashing while the previous batch is on its way to disk); may throw to stop the copy.
   */
  readonly inspect: (chunk: Buffer) => void;
}

/**
 * Write `body` at `position`. Returns the bytes written. A failure of the body
 * throws BodyReadError; of the file, `io`; of the observer, its own error.
 *
 * Read with `data` events, not the async iterator: the iterator's read() concatenates
 * whatever is buffered into a new Buffer (a copy of every byte) and costs a promise per chunk.
 *
 * @example
 * await writeBody(response.body, handle, 0, { inspect: (chunk) => hash.update(chunk) });
 */
export function writeBody(body: Readable, handle: FileHandle, position: number, observer: BodyObserver): Promise<number> {
  if (body instanceof BulkBody) return writeBulkBody(body, handle, position, observer);
  return new Promise((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let at = position;
    let writing = false;
    // The copy settles only once a background flush is done.
    const flush = new FlushBehind(handle, position, (error) => (error ? stop(error, false) : step()));
    let ended = false; // no more bytes will come: the body ended, broke, or was stopped
    // The first failure wins. A broken body keeps what arrived: the prefix the next try resumes from.
    let failure: { error: Error; keepPrefix: boolean } | undefined;
    // Called after every event: starts the next write, or settles, or reads on.
    const step = (): void => {
      if (writing) return; // one write in flight at a time keeps the order and the memory bound
      if (!ended) flush.startIfDue(at);
      if (batchBytes > 0 && (batchBytes >= BATCH_BYTES || ended) && (!failure || failure.keepPrefix)) {
        startWrite();
        if (!ended) body.resume(); // the next batch is read while this one is written
        return;
      }
      if (ended && flush.running) return; // settles once the background flush is done
      if (failure) return reject(failure.error);
      if (ended) return resolve(at - position);
      body.resume();
    };
    const startWrite = (): void => {
      const buffers = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      writing = true;
      // Handled right here, so a failure while the next chunk is still on the network
      // (ENOSPC) is never an unhandled rejection.
      writeAll(handle, buffers, at).then(
        () => {
          at += bytes;
          writing = false;
          step();
        },
        (error: unknown) => {
          writing = false;
          stop(error, false);
        },
      );
    };
    const stop = (error: unknown, keepPrefix: boolean): void => {
      if (!failure) failure = { error: asError(error), keepPrefix };
      if (!ended) {
        ended = true;
        if (!keepPrefix) body.destroy();
      }
      step();
    };
    body.on("data", (chunk: Buffer) => {
      if (failure) return;
      try {
        observer.inspect(chunk);
      } catch (error) {
        return stop(error, false);
      }
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes < BATCH_BYTES) return;
      // Not read while a write is pending: at most two batches are held.
      if (writing) body.pause();
      else step();
    });
    body.once("end", () => {
      if (failure) return;
      ended = true;
      step();
    });
    const broke = (error: unknown): void => {
      if (!ended) stop(new BodyReadError(messageOf(error), { cause: error }), true);
    };
    const closedEarly = (): Error =>
      body.errored ?? Object.assign(new Error("the body closed before its end"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
    // The body may have broken before it got here (a reset while the file was being opened):
    // its error and close events are gone, so ask the stream itself.
    if (body.destroyed) return broke(closedEarly());
    body.on("error", broke);
    body.once("close", () => broke(closedEarly()));
  });
}

/** A body read into our own buffers is gathered in batches of this size (4 × fewer hand-offs than 256 KiB; see writeInline). */
const BULK_BATCH_BYTES = 1024 * 1024;
/**
 * No single write(2) is larger than this. Linux (6.x, ext4 with large folios) backs a write with page-cache
 * folios as large as the write, and in a VM that hands freed memory back to its host (Firecracker here) those
 * large allocations fault on fresh host pages: writing 256 MiB in 1 MiB writes took 0.55–0.65 s of system
 * time, in 256 KiB writes 0.04 s (dd, same file system; measured on this project's CI machine). skopeo's
 * 32 KiB writes never meet it. The extra system calls cost ~10 µs per MiB.
 */
const MAX_WRITE_BYTES = 256 * 1024;
/**
 * An inline write slower than this means the disk pushes back (throttled dirty pages, a slow
 * device): from then on, writes go to the thread pool. Not lower: on a 1 GiB pull here a
 * 10 ms limit was crossed in most runs.
 */
const SLOW_WRITE_MS = 50;

/**
 * Batches are written from the main thread right after they are hashed, while still in the
 * CPU's cache, with no hand-off to a pool thread and back (measured on the 256 MiB pull:
 * 0.95 → 0.72 s wall, 0.90 → 0.65 s CPU, with 1 MiB batches). That holds the event loop
 * for as long as the page cache takes a MiB (well under a millisecond); once one write takes
 * longer than 50 ms — a slow disk or dirty-page throttling — the process goes back to pool
 * writes, so a library user's event loop is held that long once at most.
 */
let inlineWrites = true;

/** @internal Tests switch between inline and pool writes, to prove both. */
export function useInlineWrites(on: boolean): void {
  inlineWrites = on;
}

function writeInline(handle: FileHandle, bytes: Buffer, position: number): void {
  const started = performance.now();
  try {
    for (let done = 0; done < bytes.length;)
      done += writeSync(handle.fd, bytes, done, Math.min(bytes.length - done, MAX_WRITE_BYTES), position + done);
  } catch (error) {
    throw new PullbackError("io", `Could not write a blob to disk: ${messageOf(error)}`, { cause: error, reason: ioReasonOf(error) });
  }
  if (performance.now() - started > SLOW_WRITE_MS) inlineWrites = false;
}

/**
 * Batches not in use, shared by every blob of the process: a pull of many small layers
 * reuses a few buffers instead of leaving each blob's for the GC (~20 MB at the peak of 40 layers).
 */
const idleBatches: Buffer[] = [];
const MAX_IDLE_BATCHES = 8;

/** Batches taken and not yet given back, and the most at once: what tests hold the memory bound to. */
let batchesHeld = 0;
let batchesPeak = 0;

function takeBatch(): Buffer {
  batchesPeak = Math.max(batchesPeak, ++batchesHeld);
  return idleBatches.pop() ?? Buffer.allocUnsafe(BULK_BATCH_BYTES);
}

/** Only once nothing reads into or writes from `batch` any more. */
function releaseBatch(batch: Buffer): void {
  batchesHeld--;
  if (idleBatches.length < MAX_IDLE_BATCHES) idleBatches.push(batch);
}

/** @internal The most batches held at once since the last call (tests of the memory bound). */
export function takeBatchPeak(): number {
  const peak = batchesPeak;
  batchesPeak = batchesHeld;
  return peak;
}

/** A read is offered at least this much room: smaller pieces cost a system call each for little. */
const MIN_READ_SPACE = 16 * 1024;

/**
 * `writeBody` for a body that reads straight into our buffers: the socket fills a batch, which is
 * hashed as it fills and written once full, and batches are reused — no copy and no allocation per
 * chunk. The socket waits while its batch is written (the other blobs' transfers go on), so a blob
 * holds one batch however slow the disk: memory stays flat from a 20 MiB to a 1 GiB image.
 * Same contract and failure rules as `writeBody`.
 */
function writeBulkBody(body: BulkBody, handle: FileHandle, position: number, observer: BodyObserver): Promise<number> {
  return new Promise((resolve, reject) => {
    const waiting: { batch: Buffer; length: number }[] = [];
    let current: Buffer | undefined;
    let fill = 0;
    let at = position;
    let writing = false;
    const flush = new FlushBehind(handle, position, (error) => (error ? stop(error, false) : step()));
    let ended = false;
    let paused = false;
    let failure: { error: Error; keepPrefix: boolean } | undefined;
    /** The batch being filled goes in line for the disk. */
    const seal = (): void => {
      if (current !== undefined && fill > 0) waiting.push({ batch: current, length: fill });
      current = undefined;
      fill = 0;
    };
    const step = (): void => {
      if (writing) return;
      if (!ended) flush.startIfDue(at);
      const next = waiting.shift();
      if (next !== undefined && (!failure || failure.keepPrefix)) return startWrite(next);
      if (ended && flush.running) return;
      if (failure) return reject(failure.error);
      if (ended) {
        body.destroy();
        if (current !== undefined) releaseBatch(current); // the socket is gone: nothing reads into it any more
        current = undefined;
        return resolve(at - position);
      }
      if (paused) {
        paused = false;
        body.resume();
      }
    };
    const startWrite = ({ batch, length }: { batch: Buffer; length: number }): void => {
      if (inlineWrites) {
        try {
          writeInline(handle, batch.subarray(0, length), at);
        } catch (error) {
          return stop(error, false);
        }
        at += length;
        releaseBatch(batch);
        return step();
      }
      writing = true;
      writeAll(handle, [batch.subarray(0, length)], at).then(
        () => {
          at += length;
          writing = false;
          releaseBatch(batch);
          step();
        },
        (error: unknown) => {
          writing = false;
          stop(error, false);
        },
      );
    };
    const stop = (error: unknown, keepPrefix: boolean): void => {
      if (!failure) failure = { error: asError(error), keepPrefix };
      if (!ended) {
        ended = true;
        if (keepPrefix) seal();
        else body.destroy();
      }
      step();
    };
    const sink: BodySink = {
      space: () => {
        if (current === undefined || current.length - fill < MIN_READ_SPACE) {
          seal();
          current = takeBatch();
        }
        return current.subarray(fill);
      },
      arrived: (count) => {
        const chunk = (current ?? Buffer.alloc(0)).subarray(fill, fill + count);
        fill += count;
        if (failure) return false;
        try {
          observer.inspect(chunk);
        } catch (error) {
          stop(error, false);
          return false;
        }
        if (fill + MIN_READ_SPACE > BULK_BATCH_BYTES) seal();
        step();
        // Nothing is read while a batch waits for the disk: one batch per blob, however slow the disk.
        paused = writing || waiting.length > 0;
        return !paused;
      },
      end: () => {
        if (ended) return;
        ended = true;
        seal();
        step();
      },
    };
    const broke = (error: unknown): void => {
      if (!ended) stop(new BodyReadError(messageOf(error), { cause: error }), true);
    };
    // Only built when it is news: the body of every blob that arrived whole is closed at its end.
    const closedEarly = (): void => {
      if (!ended) broke(body.errored ?? Object.assign(new Error("the body closed before its end"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    };
    if (body.destroyed) return closedEarly();
    body.on("error", broke);
    body.once("close", closedEarly);
    body.readInto(sink);
  });
}

/** One background datasync at a time, started once FLUSH_BEHIND_BYTES more have been written. */
class FlushBehind {
  readonly #handle: FileHandle;
  readonly #settled: (error?: PullbackError) => void;
  #flushedAt: number;
  #running = false;

  constructor(handle: FileHandle, position: number, settled: (error?: PullbackError) => void) {
    this.#handle = handle;
    this.#flushedAt = position;
    this.#settled = settled;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Start a flush when none is running and enough was written since the last one (`at`: the end of what is written). */
  startIfDue(at: number): void {
    if (this.#running || at - this.#flushedAt < FLUSH_BEHIND_BYTES) return;
    this.#running = true;
    this.#flushedAt = at;
    this.#handle.datasync().then(
      () => {
        this.#running = false;
        this.#settled();
      },
      (error: unknown) => {
        this.#running = false;
        this.#settled(
          new PullbackError("io", `Could not flush a blob to disk: ${messageOf(error)}`, { cause: error, reason: ioReasonOf(error) }),
        );
      },
    );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** writev until every byte is down (a regular file may take fewer bytes than offered), at most MAX_WRITE_BYTES a call. */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  try {
    while (rest.length > 0) {
      const { bytesWritten } = await handle.writev(firstBytes(rest, MAX_WRITE_BYTES), at);
      at += bytesWritten;
      rest = dropBytes(rest, bytesWritten);
    }
  } catch (error) {
    throw isPullbackError(error)
      ? error
      : new PullbackError("io", `Could not write a blob to disk: ${messageOf(error)}`, { cause: error, reason: ioReasonOf(error) });
  }
}

/** The leading `count` bytes of `buffers`, as views. */
function firstBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  const out: Buffer[] = [];
  for (const buffer of buffers) {
    if (left <= 0) break;
    out.push(buffer.length > left ? buffer.subarray(0, left) : buffer);
    left -= buffer.length;
  }
  return out;
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  const out: Buffer[] = [];
  for (const buffer of buffers) {
    if (left >= buffer.length) left -= buffer.length;
    else {
      out.push(left > 0 ? buffer.subarray(left) : buffer);
      left = 0;
    }
  }
  return out;
}
