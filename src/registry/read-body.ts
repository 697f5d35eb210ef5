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
    throw new PullbackError("network", `${what}: the connection broke off after ${size} bytes: ${messageOf(error)}`, { cause: error });
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks);
}
