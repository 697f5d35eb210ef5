/**
 * Reading a body that must arrive whole (a manifest): a connection that breaks
 * mid-body is a `network` failure, never a shorter document.
 */
import type { Readable } from "node:stream";
import { PullbackError, messageOf } from "../errors.js";

/**
 * Read up to `limit` bytes (the rest is discarded, so the caller can tell "too large" by
 * getting more than it accepts). Throws `network` when the body breaks off.
 *
 * @example
 * const bytes = await readBodyWhole(response.body, MANIFEST_SIZE_LIMIT + 1, "manifest app:1 from ghcr.io");
 */
export async function readBodyWhole(body: Readable, limit: number, what: string): Promise<Buffer> {
  const { bytes, broke } = await collect(body, limit);
  if (broke !== undefined) {
    throw new PullbackError("network", `${what}: the connection broke off after ${bytes.length} bytes: ${messageOf(broke.error)}`, {
      cause: broke.error,
    });
  }
  return bytes;
}

/**
 * Read up to `limit` bytes of an error body and discard the rest; never throws: for an
 * explanation, the part that arrived before a reset is still the best there is.
 *
 * @example
 * const text = (await readBodyCapped(response.body)).toString("utf8");
 */
export async function readBodyCapped(body: Readable, limit: number = ERROR_BODY_LIMIT): Promise<Buffer> {
  return (await collect(body, limit)).bytes;
}

/** Bodies read for an explanation are capped: the first 64 KiB say all there is to say. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** Up to `limit` bytes, and the error that broke the body off, if one did. The body is always released. */
async function collect(body: Readable, limit: number): Promise<{ bytes: Buffer; broke?: { error: unknown } }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      chunks.push(buffer.subarray(0, limit - size));
      size += Math.min(buffer.length, limit - size);
      if (size >= limit) break;
    }
  } catch (error) {
    return { bytes: Buffer.concat(chunks), broke: { error } };
  } finally {
    body.destroy();
  }
  return { bytes: Buffer.concat(chunks) };
}
