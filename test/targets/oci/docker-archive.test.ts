import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore } from "../../../src/targets/oci/blob-store.js";
import { archiveEntries, writeDockerArchive, type DockerArchiveImage } from "../../../src/targets/oci/docker-archive.js";
import { sha256Digest, type Descriptor, type ImageManifest } from "../../../src/targets/oci/manifest.js";
import { tarSpans } from "../../../src/targets/oci/stored-image.js";
import { readTarEntry } from "../../../src/targets/oci/tar.js";

const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const descriptorOf = (bytes: Uint8Array, mediaType = LAYER): Descriptor => ({ mediaType, digest: sha256Digest(bytes), size: bytes.length });

let dir: string;
let store: BlobStore;
const base = randomBytes(4096);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullback-archive-unit-"));
  store = new BlobStore(dir);
  await store.init();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An image of the shared base layer and a layer of its own, its blobs in the store. */
async function image(name: string, tag: string | undefined): Promise<DockerArchiveImage> {
  const own = Buffer.from(`${name} own layer`);
  const config = Buffer.from(JSON.stringify({ os: "linux", architecture: "amd64", name }));
  const manifest: ImageManifest = {
    kind: "image",
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: descriptorOf(config, "application/vnd.oci.image.config.v1+json"),
    layers: [descriptorOf(base), descriptorOf(own)],
  };
  for (const bytes of [base, own, config]) await store.writeBytes(descriptorOf(bytes), bytes, name);
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: manifest.mediaType, config: manifest.config, layers: manifest.layers }),
  );
  return {
    descriptor: descriptorOf(manifestBytes, manifest.mediaType),
    manifestBytes,
    manifest,
    repository: `127.0.0.1:5000/public/${name}`,
    tag,
    blobs: (digest) => ({ file: store.path(digest) }),
  };
}

describe("a docker-archive of several images", () => {
  it("holds each blob once, one manifest.json entry per image with every name, repositories and one index entry per name", async () => {
    const a = await image("a", "1");
    const b = await image("b", "1");
    const aLatest = { ...a, tag: "latest" };
    const entries = archiveEntries([a, b, aLatest]);
    const names = entries.map((entry) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((name) => name === `blobs/sha256/${a.manifest.layers[0]!.digest.slice(7)}`)).toHaveLength(1);
    const json = (name: string): unknown => {
      const entry = entries.find((candidate) => candidate.name === name);
      return entry && "bytes" in entry ? JSON.parse(Buffer.from(entry.bytes).toString()) : undefined;
    };
    expect(json("manifest.json")).toEqual([
      {
        Config: `blobs/sha256/${a.manifest.config.digest.slice(7)}`,
        RepoTags: ["127.0.0.1:5000/public/a:1", "127.0.0.1:5000/public/a:latest"],
        Layers: a.manifest.layers.map((layer) => `blobs/sha256/${layer.digest.slice(7)}`),
      },
      {
        Config: `blobs/sha256/${b.manifest.config.digest.slice(7)}`,
        RepoTags: ["127.0.0.1:5000/public/b:1"],
        Layers: b.manifest.layers.map((layer) => `blobs/sha256/${layer.digest.slice(7)}`),
      },
    ]);
    expect(json("repositories")).toEqual({
      "127.0.0.1:5000/public/a": { "1": a.manifest.layers[1]!.digest.slice(7), latest: a.manifest.layers[1]!.digest.slice(7) },
      "127.0.0.1:5000/public/b": { "1": b.manifest.layers[1]!.digest.slice(7) },
    });
    const index = json("index.json") as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests.map((entry) => [entry.digest, entry.annotations["io.containerd.image.name"]])).toEqual([
      [a.descriptor.digest, "127.0.0.1:5000/public/a:1"],
      [b.descriptor.digest, "127.0.0.1:5000/public/b:1"],
      [a.descriptor.digest, "127.0.0.1:5000/public/a:latest"],
    ]);
  });

  it("copies an image of an earlier archive from its spans, byte for byte", async () => {
    const a = await image("carried", "1");
    const first = join(dir, "first.tar");
    await writeDockerArchive(first, [a]);
    const spans = await tarSpans(first);
    const carried: DockerArchiveImage = {
      ...a,
      blobs: (digest) => ({ file: first, offset: spans.get(`blobs/sha256/${digest.slice(7)}`)?.offset }),
    };
    const second = join(dir, "second.tar");
    await writeDockerArchive(second, [carried]);
    expect(await readFile(second)).toEqual(await readFile(first));
  });

  it("leaves no file when a blob is not what its descriptor says", async () => {
    const a = await image("short", "1");
    const target = join(dir, "short.tar");
    const broken: DockerArchiveImage = { ...a, blobs: () => ({ file: join(dir, "tiny") }) };
    await writeFile(join(dir, "tiny"), "x");
    await expect(writeDockerArchive(target, [broken])).rejects.toMatchObject({ kind: "io" });
    await expect(readTarEntry(target, "manifest.json", 1024).catch(() => "absent")).resolves.toBe("absent");
  });
});

describe("blobs several images want at once", () => {
  it("are fetched once: a second ingest of the same digest waits for the first", async () => {
    const bytes = randomBytes(200_000);
    const target = { digest: sha256Digest(bytes), size: bytes.length };
    const shared = new BlobStore(join(dir, "shared"));
    await shared.init();
    let opened = 0;
    const open = (): Promise<{ body: Readable; rangeHonoured: boolean }> => {
      opened++;
      // Slow enough that both ingests are under way before the first ends.
      return Promise.resolve({ body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), rangeHonoured: false });
    };
    await Promise.all([shared.ingest(target, open), shared.ingest(target, open), shared.ingest(target, open)]);
    expect(opened).toBe(1);
    expect(await readFile(shared.path(target.digest))).toEqual(bytes);
  });

  it("are fetched by the next one when the first fails", async () => {
    const bytes = randomBytes(1000);
    const target = { digest: sha256Digest(bytes), size: bytes.length };
    const shared = new BlobStore(join(dir, "retry"));
    await shared.init();
    const refused = (): Promise<never> => Promise.reject(new Error("refused for this identity"));
    let opened = 0;
    const good = (): Promise<{ body: Readable; rangeHonoured: boolean }> => {
      opened++;
      return Promise.resolve({ body: Readable.from([bytes]), rangeHonoured: false });
    };
    const results = await Promise.allSettled([shared.ingest(target, refused), shared.ingest(target, good)]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "fulfilled"]);
    expect(opened).toBe(1);
  });
});
