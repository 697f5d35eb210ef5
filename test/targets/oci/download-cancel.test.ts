/**
 * Cancelling a set of downloads (an image set given up by its caller): the transfer in
 * flight stops without another try, its partial stays for a later resume, and no other
 * blob is started.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { BlobStore, type BlobBody } from "../../../src/targets/oci/blob-store.js";
import { downloadBlobs } from "../../../src/targets/oci/download.js";
import { sha256Digest } from "../../../src/targets/oci/manifest.js";

const first = randomBytes(256 * 1024);
const second = randomBytes(1024);
const jobs = [first, second].map((bytes) => ({ digest: sha256Digest(bytes), size: bytes.length, reportProgress: false }));
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function store(): Promise<{ store: BlobStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "pullback-cancel-"));
  dirs.push(dir);
  const blobs = new BlobStore(dir);
  await blobs.init();
  return { store: blobs, dir: join(dir, "blobs", "sha256") };
}

/** Half of `bytes`, then silence until the signal fires; then the body dies as a cancelled request's does. */
function stalledBody(bytes: Buffer, signal: AbortSignal | undefined): BlobBody {
  const body = new Readable({ read: () => undefined });
  body.push(bytes.subarray(0, bytes.length / 2));
  signal?.addEventListener("abort", () => body.destroy(Object.assign(new Error("The operation was aborted"), { name: "AbortError" })));
  return { body, rangeHonoured: false };
}

describe("downloadBlobs with a signal", () => {
  it("gives up the transfer in flight with the signal's reason, keeps its partial, starts no other blob", async () => {
    const { store: blobs, dir } = await store();
    const controller = new AbortController();
    const reason = new Error("the caller gave up");
    const opened: string[] = [];
    const error = await downloadBlobs(blobs, jobs, {
      concurrency: 1,
      signal: controller.signal,
      open: (digest, _offset, signal) => {
        opened.push(digest);
        setTimeout(() => controller.abort(reason), 20);
        return Promise.resolve(stalledBody(first, signal));
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(opened).toEqual([jobs[0]!.digest]);
    const left = await readdir(dir);
    expect(left).toEqual([`${jobs[0]!.digest.slice("sha256:".length)}.partial`]);
  });

  it("opens nothing when the signal fired before it began", async () => {
    const { store: blobs, dir } = await store();
    const controller = new AbortController();
    controller.abort(new Error("already given up"));
    let opens = 0;
    const error = await downloadBlobs(blobs, jobs, {
      signal: controller.signal,
      open: () => {
        opens++;
        return Promise.resolve(stalledBody(first, undefined));
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "already given up" });
    expect(opens).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });
});
