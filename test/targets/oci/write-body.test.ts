import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { PullbackError } from "../../../src/errors.js";
import { BodyReadError, writeBody } from "../../../src/targets/oci/write-body.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "write-body-"));
  dirs.push(dir);
  return join(dir, "blob");
}

/** `count` chunks of `size` bytes, each filled with its index, then optionally an error. */
function chunks(count: number, size: number, error?: Error): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield Buffer.alloc(size, i);
      if (error) throw error;
    })(),
  );
}

function expected(count: number, size: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.alloc(size, i)));
}

describe("writeBody", () => {
  it("writes every byte in order at the position, across many batches and background flushes", async () => {
    const path = await tempFile();
    const handle = await open(path, "w");
    const seen: number[] = [];
    // 40 MiB in 64 KiB chunks: 40 batches and two flush-behind points.
    const written = await writeBody(chunks(640, 65_536), handle, 0, { inspect: (chunk) => void seen.push(chunk[0]!) }).finally(() =>
      handle.close(),
    );
    expect(written).toBe(640 * 65_536);
    expect(seen).toEqual(Array.from({ length: 640 }, (_, i) => i % 256));
    expect((await readFile(path)).equals(expected(640, 65_536))).toBe(true);
  });

  it("keeps the prefix that arrived when the body breaks, and reports the break as BodyReadError", async () => {
    const path = await tempFile();
    const handle = await open(path, "w");
    const error = await writeBody(chunks(3, 1000, new Error("other side closed")), handle, 0, { inspect: () => undefined })
      .catch((e: unknown) => e)
      .finally(() => handle.close());
    expect(error).toBeInstanceOf(BodyReadError);
    expect((error as Error).message).toBe("other side closed");
    expect((await readFile(path)).equals(expected(3, 1000))).toBe(true);
  });

  it("reports a body that broke before the copy started instead of waiting for events that already fired", async () => {
    const path = await tempFile();
    const handle = await open(path, "w");
    const body = chunks(1, 10);
    body.on("error", () => undefined);
    body.destroy(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
    await new Promise((resolve) => setImmediate(resolve));
    const error = await writeBody(body, handle, 0, { inspect: () => undefined })
      .catch((e: unknown) => e)
      .finally(() => handle.close());
    expect(error).toBeInstanceOf(BodyReadError);
    expect((error as Error).message).toBe("aborted");
  });

  it("stops reading and rethrows when the observer refuses a chunk", async () => {
    const path = await tempFile();
    const handle = await open(path, "w");
    let seen = 0;
    const refusal = new PullbackError("integrity", "too long");
    const error = await writeBody(chunks(100, 1000), handle, 0, {
      inspect: () => {
        if (++seen === 5) throw refusal;
      },
    })
      .catch((e: unknown) => e)
      .finally(() => handle.close());
    expect(error).toBe(refusal);
    expect(seen).toBe(5);
  });
});
