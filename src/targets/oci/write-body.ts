/**
 * Copy a response body into a file: chunks are gathered into ~256 KiB batches and
 * written with one writev each (no copy into a bigger buffer), while the next
 * batch is being read — fewer syscalls than a 16 KiB write stream, and network
 * and disk overlap. At most two batches are held, and the body is not read
 * while a write is pending, so memory stays flat whatever the blob's size.
 */
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { PullbackError, isPullbackError, messageOf } from "../../errors.js";
import { ioReasonOf } from "../../files/io-error.js";

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
  return new Promise((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let at = position;
    let writing = false;
    let flushedAt = position;
    let flushing = false; // one background datasync at a time; the copy settles only once it is done
    let ended = false; // no more bytes will come: the body ended, broke, or was stopped
    // The first failure wins. A broken body keeps what arrived: the prefix the next try resumes from.
    let failure: { error: Error; keepPrefix: boolean } | undefined;
    // Called after every event: starts the next write, or settles, or reads on.
    const step = (): void => {
      if (writing) return; // one write in flight at a time keeps the order and the memory bound
      if (!flushing && !ended && at - flushedAt >= FLUSH_BEHIND_BYTES) flushBehind();
      if (batchBytes > 0 && (batchBytes >= BATCH_BYTES || ended) && (!failure || failure.keepPrefix)) {
        startWrite();
        if (!ended) body.resume(); // the next batch is read while this one is written
        return;
      }
      if (ended && flushing) return; // settles once the background flush is done
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
    const flushBehind = (): void => {
      flushing = true;
      flushedAt = at;
      handle.datasync().then(
        () => {
          flushing = false;
          step();
        },
        (error: unknown) => {
          flushing = false;
          stop(
            new PullbackError("io", `Could not flush a blob to disk: ${messageOf(error)}`, { cause: error, reason: ioReasonOf(error) }),
            false,
          );
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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** writev until every byte is down (a regular file may take fewer bytes than offered). */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  try {
    while (rest.length > 0) {
      const { bytesWritten } = await handle.writev(rest, at);
      at += bytesWritten;
      rest = dropBytes(rest, bytesWritten);
    }
  } catch (error) {
    throw isPullbackError(error)
      ? error
      : new PullbackError("io", `Could not write a blob to disk: ${messageOf(error)}`, { cause: error, reason: ioReasonOf(error) });
  }
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
