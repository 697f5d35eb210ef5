/**
 * Copy a response body into a file: chunks are gathered into ~1 MiB batches and
 * written with one writev each (no copy into a bigger buffer), while the next
 * batch is being read — fewer syscalls than a 16 KiB write stream, and network
 * and disk overlap. At most two batches are held, and the body is not read
 * while a write is pending, so memory stays flat whatever the blob's size.
 */
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { PullbackError, isPullbackError, messageOf } from "../../errors.js";

const BATCH_BYTES = 1024 * 1024;

/** What went wrong: the body (network), the file (io), or the inspector (its own error). */
export class BodyReadError extends Error {
  override readonly name = "BodyReadError";
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
 * @example
 * await writeBody(response.body, handle, 0, { inspect: (chunk) => hash.update(chunk) });
 */
export async function writeBody(body: Readable, handle: FileHandle, position: number, observer: BodyObserver): Promise<number> {
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let at = position;
  let pending: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await pending; // one write in flight at a time keeps the order and the memory bound
    if (batchBytes === 0) return;
    pending = writeAll(handle, batch, at);
    // Awaited before the next write or at the end; a failure meanwhile (ENOSPC while the
    // next chunk is still on the network) must not count as an unhandled rejection.
    pending.catch(() => undefined);
    at += batchBytes;
    batch = [];
    batchBytes = 0;
  };
  try {
    const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } catch (error) {
        // Keep what arrived: it is the prefix the next try resumes from.
        await flush();
        await pending;
        throw new BodyReadError(messageOf(error), { cause: error });
      }
      if (next.done) break;
      observer.inspect(next.value);
      batch.push(next.value);
      batchBytes += next.value.length;
      if (batchBytes >= BATCH_BYTES) await flush();
    }
    await flush();
    await pending;
  } catch (error) {
    body.destroy();
    await pending.catch(() => undefined);
    throw error;
  }
  return at - position;
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
    throw isPullbackError(error) ? error : new PullbackError("io", `Could not write a blob to disk: ${messageOf(error)}`, { cause: error });
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
