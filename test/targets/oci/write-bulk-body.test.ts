/**
 * writeBody for a body read straight into its buffers (bulkGet): every byte in order across
 * many batches and background flushes, and the prefix kept when the connection breaks —
 * with writes inline on the main thread (the default) and through the thread pool (what a
 * slow disk switches to).
 */
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { bulkGet } from "../../../src/registry/bulk-get.js";
import { BodyReadError, takeBatchPeak, useInlineWrites, writeBody } from "../../../src/targets/oci/write-body.js";

const BODY = Buffer.alloc(40 * 1024 * 1024 + 12_345);
for (let i = 0; i < BODY.length; i += 4096) BODY.writeUInt32BE(i, i);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0)) await undo();
});
afterAll(() => useInlineWrites(true));

/** Serves BODY with its length, in 1 MiB writes; stops after `breakAfter` bytes. */
async function serve(breakAfter?: number): Promise<URL> {
  const server: Server = createServer((socket) => {
    socket.once("data", () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n`);
      const end = breakAfter ?? BODY.length;
      for (let at = 0; at < end; at += 1024 * 1024) socket.write(BODY.subarray(at, Math.min(end, at + 1024 * 1024)));
      socket.end(); // short of Content-Length when breakAfter is given: the body breaks off there
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/app/blobs/sha256:0`);
}

async function download(url: URL): Promise<{ written: number | Error; file: Buffer; inspected: number }> {
  const dir = await mkdtemp(join(tmpdir(), "write-bulk-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const handle = await open(join(dir, "blob"), "w");
  let inspected = 0;
  try {
    const { body } = await bulkGet({ url, headers: {}, tls: undefined, connectTimeoutMs: 5000, idleTimeoutMs: 5000, signal: undefined });
    const written = await writeBody(body, handle, 0, { inspect: (chunk) => void (inspected += chunk.length) }).catch((e: Error) => e);
    return { written, file: await readFile(join(dir, "blob")), inspected };
  } finally {
    await handle.close();
  }
}

describe.each([
  ["inline on the main thread", true],
  ["through the thread pool", false],
])("writeBody of a bulk body, writes %s", (_, inline) => {
  it("writes every byte in order across many batches and background flushes", async () => {
    useInlineWrites(inline);
    const { written, file, inspected } = await download(await serve());
    expect(written).toBe(BODY.length);
    expect(inspected).toBe(BODY.length);
    expect(file.equals(BODY)).toBe(true);
  });

  // Node asks for the next read's buffer even as a read pauses the socket, and a batch handed out
  // then sat idle until the disk caught up: three per blob on a slow disk, +10 MB on a 1 GiB pull.
  it("holds one batch at a time, whatever the disk's pace", async () => {
    useInlineWrites(inline);
    takeBatchPeak();
    const { written } = await download(await serve());
    expect(written).toBe(BODY.length);
    expect(takeBatchPeak()).toBe(1);
  });

  it("keeps exactly the prefix that arrived when the connection breaks, as BodyReadError", async () => {
    useInlineWrites(inline);
    const cut = 3 * 1024 * 1024 + 777;
    const { written, file, inspected } = await download(await serve(cut));
    expect(written).toBeInstanceOf(BodyReadError);
    expect(inspected).toBe(cut);
    expect(file.equals(BODY.subarray(0, cut))).toBe(true);
  });
});
