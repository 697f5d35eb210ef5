/**
 * Regression: a blob whose connection broke right after the headers (no byte arrived —
 * a peer's RST discards bytes in flight) failed the whole pull; the fault matrix caught it
 * as a flaky "reset mid-blob, once". One such break is now retried within the pull.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { BlobStore, type BlobBody } from "../../src/targets/oci/blob-store.js";
import { downloadBlobs } from "../../src/targets/oci/download.js";
import { sha256Digest } from "../../src/targets/oci/manifest.js";

const bytes = randomBytes(64 * 1024);
const job = { digest: sha256Digest(bytes), size: bytes.length, reportProgress: false };
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function store(): Promise<{ store: BlobStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "pullback-resume-"));
  dirs.push(dir);
  const blobs = new BlobStore(dir);
  await blobs.init();
  return { store: blobs, dir };
}

/** A body that dies before its first byte, as undici's does after a reset. */
const brokenBody = (): BlobBody => ({
  body: new Readable({
    read() {
      this.destroy(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    },
  }),
  rangeHonoured: false,
});
// A copy each time: the hasher takes over (transfers) the buffers it is given.
const goodBody = (): BlobBody => ({ body: Readable.from([Buffer.from(bytes)]), rangeHonoured: false });

describe("a transfer that breaks before its first byte", () => {
  it("is retried once within the pull and then stored", async () => {
    const { store: blobs, dir } = await store();
    const opened: number[] = [];
    const result = await downloadBlobs(blobs, [job], {
      open: (_digest, offset) => {
        opened.push(offset);
        return Promise.resolve(opened.length === 1 ? brokenBody() : goodBody());
      },
    });
    expect(result).toEqual({ fetchedBlobs: 1, fetchedBytes: bytes.length });
    expect(opened).toEqual([0, 0]);
    expect(await readdir(join(dir, "blobs", "sha256"))).toEqual([job.digest.slice(7)]);
  });

  it("fails as network when it breaks before the first byte again, after two opens", async () => {
    const { store: blobs } = await store();
    let opens = 0;
    const error = await downloadBlobs(blobs, [job], {
      open: () => {
        opens++;
        return Promise.resolve(brokenBody());
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "network" });
    expect(opens).toBe(2);
  });
});
