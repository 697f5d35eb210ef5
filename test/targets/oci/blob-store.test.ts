import { randomBytes } from "node:crypto";
import { get, createServer, type IncomingMessage, type Server } from "node:http";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PullEvent } from "../../../src/events.js";
import { BlobStore, type BlobBody } from "../../../src/targets/oci/blob-store.js";
import { downloadBlobs } from "../../../src/targets/oci/download.js";
import { sha256Digest } from "../../../src/targets/oci/manifest.js";

/** What the server does with the next requests. */
interface Behaviour {
  honourRange: boolean;
  /** Flip a byte of the body. */
  corrupt: boolean;
  /** Destroy the connection after this many body bytes, this many times. */
  resetAfter?: { bytes: number; times: number };
}

const content = randomBytes(300_000);
const blob = { digest: sha256Digest(content), size: content.length };
let server: Server;
let base: string;
let behaviour: Behaviour;
let requests: { range: string | undefined }[];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({ range: request.headers.range });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on("close", () => inFlight--);
    const payload = request.url === "/other" ? Buffer.from("other blob") : Buffer.from(content);
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
    const start = behaviour.honourRange && range ? Number(range[1]) : 0;
    let body = payload.subarray(start);
    if (behaviour.corrupt) {
      body = Buffer.from(body);
      body[10] = (body[10] ?? 0) ^ 0xff;
    }
    response.writeHead(start > 0 ? 206 : 200, { "content-length": String(body.length) });
    const reset = behaviour.resetAfter;
    if (reset && reset.times > 0) {
      reset.times--;
      response.write(body.subarray(0, reset.bytes), () => setTimeout(() => response.destroy(), 20));
      return;
    }
    setTimeout(() => response.end(body), 30); // slow enough that concurrency shows
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "pullback-blobs-"));
  behaviour = { honourRange: true, corrupt: false };
  requests = [];
  maxInFlight = 0;
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function open(path = "/blob"): (offset: number) => Promise<BlobBody> {
  return (offset) =>
    new Promise((resolve, reject) => {
      const headers = offset > 0 ? { range: `bytes=${offset}-` } : {};
      get(`${base}${path}`, { headers }, (response: IncomingMessage) =>
        resolve({ body: response, rangeHonoured: response.statusCode === 206 }),
      ).on("error", reject);
    });
}

async function newStore(): Promise<BlobStore> {
  const store = new BlobStore(root);
  await store.init();
  return store;
}

describe("BlobStore.ingest", () => {
  it("stores a verified blob under its digest and nothing else", async () => {
    const store = await newStore();
    await store.ingest(blob, open());
    expect((await readFile(store.path(blob.digest))).equals(content)).toBe(true);
    expect(await readdir(store.dir)).toEqual([blob.digest.slice(7)]);
    expect(await store.has(blob)).toBe(true);
  });

  it("rejects a corrupted body as integrity and keeps nothing", async () => {
    const store = await newStore();
    behaviour.corrupt = true;
    await expect(store.ingest(blob, open())).rejects.toMatchObject({ kind: "integrity", message: expect.stringContaining(blob.digest) });
    expect(await readdir(store.dir)).toEqual([]);
  });

  it("rejects a body longer than promised without writing past it", async () => {
    const store = await newStore();
    await expect(store.ingest({ digest: blob.digest, size: 1000 }, open())).rejects.toMatchObject({ kind: "integrity" });
    expect(await readdir(store.dir)).toEqual([]);
  });

  it("rejects a body shorter than promised", async () => {
    const store = await newStore();
    await expect(store.ingest({ digest: blob.digest, size: content.length + 1 }, open())).rejects.toMatchObject({ kind: "integrity" });
    expect(await readdir(store.dir)).toEqual([]);
  });

  it("leaves a partial after a broken transfer and resumes it with Range", async () => {
    const store = await newStore();
    behaviour.resetAfter = { bytes: 100_000, times: 1 };
    await expect(store.ingest(blob, open())).rejects.toMatchObject({ kind: "network" });
    expect(existsSync(store.partialPath(blob.digest))).toBe(true);
    await store.ingest(blob, open());
    expect(requests.map((r) => r.range)).toEqual([undefined, "bytes=100000-"]);
    expect((await readFile(store.path(blob.digest))).equals(content)).toBe(true);
    expect(existsSync(store.partialPath(blob.digest))).toBe(false);
  });

  it("starts over when the registry ignores Range", async () => {
    const store = await newStore();
    behaviour.honourRange = false;
    await writeFile(store.partialPath(blob.digest), content.subarray(0, 5000));
    await store.ingest(blob, open());
    expect(requests.map((r) => r.range)).toEqual(["bytes=5000-"]);
    expect((await readFile(store.path(blob.digest))).equals(content)).toBe(true);
  });

  it("takes a whole, verified partial left before its rename into place without a request", async () => {
    const store = await newStore();
    await writeFile(store.partialPath(blob.digest), content);
    await store.ingest(blob, open());
    expect(requests).toEqual([]);
    expect((await readFile(store.path(blob.digest))).equals(content)).toBe(true);
    expect(existsSync(store.partialPath(blob.digest))).toBe(false);
  });

  it("transfer resolves with the bytes in; the blob has its final name once committed settles", async () => {
    const store = await newStore();
    const { committed } = await store.transfer(blob, open());
    await committed;
    expect((await readFile(store.path(blob.digest))).equals(content)).toBe(true);
    expect(await readdir(store.dir)).toEqual([blob.digest.slice(7)]);
    // A blob already present: nothing to transfer, and nothing left to commit.
    const again = await store.transfer(blob, open());
    await again.committed;
    expect(requests).toHaveLength(1);
  });

  it("does not trust a partial that is not a prefix of the blob", async () => {
    const store = await newStore();
    await writeFile(store.partialPath(blob.digest), Buffer.alloc(5000, 1));
    await expect(store.ingest(blob, open())).rejects.toMatchObject({ kind: "integrity" });
    expect(await readdir(store.dir)).toEqual([]); // the bad prefix is gone: the next run starts clean
    await store.ingest(blob, open());
    expect(await store.has(blob)).toBe(true);
  });
});

describe("downloadBlobs", () => {
  const other = { digest: sha256Digest(Buffer.from("other blob")), size: 10 };
  const byDigest = (digest: string, offset: number): Promise<BlobBody> => open(digest === other.digest ? "/other" : "/blob")(offset);

  it("fetches each blob once, skips present ones, bounds concurrency and reports layers sparingly", async () => {
    const store = await newStore();
    const events: PullEvent[] = [];
    const jobs = [
      { ...blob, reportProgress: true },
      { ...other, reportProgress: false },
      { ...blob, reportProgress: true },
    ];
    const first = await downloadBlobs(store, jobs, { open: byDigest, concurrency: 1, onEvent: (e) => events.push(e) });
    expect(first).toEqual({ fetchedBlobs: 2, fetchedBytes: blob.size + other.size });
    expect(requests).toHaveLength(2);
    expect(maxInFlight).toBe(1);
    const layerEvents = events.filter((e) => e.type === "layer");
    expect(layerEvents.every((e) => e.type === "layer" && e.id === blob.digest.slice(7, 19))).toBe(true);
    expect(layerEvents.at(0)).toMatchObject({ status: "waiting", total: blob.size });
    expect(layerEvents.at(-1)).toMatchObject({ status: "done", current: blob.size, total: blob.size });
    expect(layerEvents.length).toBeLessThan(10); // not one per chunk

    events.length = 0;
    const second = await downloadBlobs(store, jobs, { open: byDigest, onEvent: (e) => events.push(e) });
    expect(second).toEqual({ fetchedBlobs: 0, fetchedBytes: 0 });
    expect(requests).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: "layer", status: "exists" });
  });

  it("runs several transfers at once up to the limit", async () => {
    const store = await newStore();
    const many = Array.from({ length: 6 }, (_, i) => {
      const bytes = Buffer.from(`blob ${i}`);
      return { digest: sha256Digest(bytes), size: bytes.length, reportProgress: false, bytes };
    });
    const serveFromMap = (digest: string): Promise<BlobBody> => {
      const job = many.find((m) => m.digest === digest)!;
      return open(`/x`)(0).then(({ body }) => {
        body.resume(); // the server's answer only paces the test; the content comes from the job
        return { body: Readable.from([job.bytes]), rangeHonoured: false };
      });
    };
    await downloadBlobs(store, many, { open: serveFromMap, concurrency: 3 });
    expect(maxInFlight).toBe(3);
    for (const job of many) expect(await store.has(job)).toBe(true);
  });

  it("resumes a transfer that broke off, within the same pull", async () => {
    const store = await newStore();
    behaviour.resetAfter = { bytes: 50_000, times: 2 };
    await downloadBlobs(store, [{ ...blob, reportProgress: true }], { open: byDigest });
    expect(requests.map((r) => r.range)).toEqual([undefined, "bytes=50000-", "bytes=100000-"]);
    expect((await readFile(store.path(blob.digest))).equals(content)).toBe(true);
  });
});
