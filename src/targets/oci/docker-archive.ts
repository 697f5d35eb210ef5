/**
 * A docker-archive tarball of one image or several, as `docker save IMG...`
 * writes it and `docker load`, `ctr images import` and k3s's air-gap import
 * read it: `manifest.json` (one {Config, RepoTags, Layers} per image),
 * `repositories`, the configs and the layer blobs — each blob once, however
 * many images share it (gzip'd layer tars are accepted by all three). The
 * blobs sit at `blobs/sha256/<hex>` beside an `oci-layout` and `index.json`
 * (one entry per name), as `docker save` writes since Docker 25, so the same
 * file is an OCI archive too.
 *
 * Written to a temp file beside the target and renamed when complete: an
 * interrupted pull never leaves a truncated archive under the target's name.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isPullbackError } from "../../errors.js";
import { syncDirectory } from "../../files/atomic-write.js";
import { ioError } from "../../files/io-error.js";
import { hexOf } from "./blob-store.js";
import type { Descriptor, ImageManifest } from "./manifest.js";
import { CONTAINERD_NAME_ANNOTATION, OCI_INDEX, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "./media-types.js";
import { tarChunks, type TarEntry } from "./tar.js";

/** Where a blob's bytes are: a file of its own (a blob store), or a span of a bigger file (an earlier archive). */
export interface BlobFile {
  readonly file: string;
  readonly offset?: number | undefined;
}

export interface DockerArchiveImage {
  /** The manifest as stored (its bytes hash to `descriptor.digest`). */
  readonly descriptor: Descriptor;
  readonly manifestBytes: Uint8Array;
  readonly manifest: ImageManifest;
  /** "registry/repository", as RepoTags and `repositories` name it; docker normalizes on load. */
  readonly repository: string;
  /** Absent for a pull by digest: the image loads untagged. */
  readonly tag?: string | undefined;
  /** Where the config and layers of this image are read from. */
  readonly blobs: (digest: string) => BlobFile;
}

/**
 * Write `images` (in this order) as one docker-archive at `file`.
 *
 * @example
 * await writeDockerArchive("/tmp/app.tar", [{ descriptor, manifestBytes, manifest, repository: "ghcr.io/o/app", tag: "1", blobs: (d) => ({ file: store.path(d) }) }]);
 */
export async function writeDockerArchive(file: string, images: readonly DockerArchiveImage[]): Promise<void> {
  const temp = join(dirname(file), `.${randomBytes(6).toString("hex")}.pullback.tmp`);
  try {
    await pipeline(Readable.from(tarChunks(archiveEntries(images))), createWriteStream(temp, { flush: true }));
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw isPullbackError(error) ? error : await ioError(`write ${file}`, file, error);
  }
  await syncDirectory(dirname(file));
}

const blobPath = (digest: string): string => `blobs/sha256/${hexOf(digest)}`;
const json = (value: unknown): Uint8Array => Buffer.from(`${JSON.stringify(value)}\n`);

/** The archive's entries, blobs first and the small JSON files last, as `docker save` orders them. */
export function archiveEntries(images: readonly DockerArchiveImage[]): TarEntry[] {
  const blobs = new Map<string, TarEntry>();
  for (const image of images) {
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      const name = blobPath(blob.digest);
      if (!blobs.has(name)) blobs.set(name, { name, size: blob.size, ...image.blobs(blob.digest) });
    }
  }
  for (const image of images) {
    const name = blobPath(image.descriptor.digest);
    if (!blobs.has(name)) blobs.set(name, { name, bytes: image.manifestBytes });
  }
  return [
    ...blobs.values(),
    { name: "oci-layout", bytes: json({ imageLayoutVersion: OCI_LAYOUT_VERSION }) },
    { name: "index.json", bytes: json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: indexEntries(images) }) },
    { name: "manifest.json", bytes: json(dockerManifest(images)) },
    { name: "repositories", bytes: json(repositories(images)) },
  ];
}

const repoTagOf = (image: DockerArchiveImage): string | undefined =>
  image.tag === undefined ? undefined : `${image.repository}:${image.tag}`;

/** One entry per image (by manifest), with every name it was pulled under, as `docker save a:1 a:latest` writes. */
function dockerManifest(images: readonly DockerArchiveImage[]): { Config: string; RepoTags: string[]; Layers: string[] }[] {
  const entries = new Map<string, { Config: string; RepoTags: string[]; Layers: string[] }>();
  for (const image of images) {
    const entry = entries.get(image.descriptor.digest) ?? {
      Config: blobPath(image.manifest.config.digest),
      RepoTags: [],
      Layers: image.manifest.layers.map((layer) => blobPath(layer.digest)),
    };
    const repoTag = repoTagOf(image);
    if (repoTag !== undefined && !entry.RepoTags.includes(repoTag)) entry.RepoTags.push(repoTag);
    entries.set(image.descriptor.digest, entry);
  }
  return [...entries.values()];
}

/** The legacy `repositories` file: repository → tag → the image's top layer. */
function repositories(images: readonly DockerArchiveImage[]): Record<string, Record<string, string>> {
  const result: Record<string, Record<string, string>> = {};
  for (const image of images) {
    const lastLayer = image.manifest.layers.at(-1);
    if (image.tag === undefined || lastLayer === undefined) continue;
    result[image.repository] = { ...result[image.repository], [image.tag]: hexOf(lastLayer.digest) };
  }
  return result;
}

/** index.json: one entry per name (containerd and docker load read `io.containerd.image.name`); an untagged image once. */
function indexEntries(images: readonly DockerArchiveImage[]): unknown[] {
  const entries = new Map<string, unknown>();
  for (const image of images) {
    const { mediaType, digest, size } = image.descriptor;
    const repoTag = repoTagOf(image);
    const key = repoTag ?? digest;
    if (entries.has(key)) continue;
    entries.set(key, {
      mediaType,
      digest,
      size,
      ...(repoTag === undefined ? {} : { annotations: { [CONTAINERD_NAME_ANNOTATION]: repoTag, [REF_NAME_ANNOTATION]: image.tag } }),
    });
  }
  return [...entries.values()];
}
