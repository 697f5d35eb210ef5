/**
 * Regression: on a full disk, the failed write of one batch rejected while the next chunk
 * was still awaited from the network — an unhandled rejection (fatal in a CLI) before
 * writeBody reported `io`. Found by the fault matrix's 8 MiB tmpfs scenario.
 */
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { writeBody } from "../../src/targets/oci/write-body.js";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
});

/** A file whose every write fails with ENOSPC, as a full tmpfs does. */
const fullDisk = {
  writev: () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })),
} as unknown as FileHandle;

/** 2 MiB at once, then a pause (the network), then more. */
async function* slowBody(): AsyncGenerator<Buffer> {
  yield Buffer.alloc(2 * 1024 * 1024);
  await sleep(100);
  yield Buffer.alloc(1024);
}

describe("writeBody on a full disk", () => {
  it("fails as io, with no unhandled rejection while the body is still arriving", async () => {
    process.on("unhandledRejection", onUnhandled);
    const error = await writeBody(Readable.from(slowBody()), fullDisk, 0, { inspect: () => undefined }).catch((e: unknown) => e);
    await sleep(20);
    expect(error).toMatchObject({ kind: "io" });
    expect(unhandled).toEqual([]);
  });
});
