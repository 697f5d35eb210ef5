/**
 * A docker-archive tarball, as `docker load`, `ctr images import` and k3s's
 * air-gap import read it: `manifest.json` ([{Config, RepoTags, Layers}]),
 * `repositories`, the config and the layer blobs (gzip'd layer tars are
 * accepted by all three). The blobs sit at `blobs/sha256/<hex>` beside an
 * `oci-layout` and `index.json`, as `docker save` writes since Docker 25, so
 * the same file is an OCI archive too.
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
import { hexOf, type BlobStore } from "./blob-store.js";
import type { Descriptor, ImageManifest } from "./manifest.js";
import { OCI_INDEX, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "./media-types.js";
import { tarChunks, type TarEntry } from "./tar.js";

export interface DockerArchiveImage {
  /** The manifest as stored (its bytes hash to `descriptor.digest`). */
  readonly descriptor: Descriptor;
  readonly manifestBytes: Uint8Array;
  readonly manifest: ImageManifest;
  /** "registry/repository", as RepoTags and `repositories` name it; docker normalizes on load. */
  readonly repository: string;
  /** Absent for a pull by digest: the image loads untagged. */
  readonly tag?: string | undefined;
}

/**
 * Write `image`, whose blobs are in `store`, as a docker-archive at `file`.
 *
 * @example
 * await writeDockerArchive("/tmp/app.tar", store, { descriptor, manifestBytes, manifest, repository: "ghcr.io/o/app", tag: "1" });
 */
export async function writeDockerArchive(file: string, store: BlobStore, image: DockerArchiveImage): Promise<void> {
  const temp = join(dirname(file), `.${randomBytes(6).toString("hex")}.pullback.tmp`);
  try {
    await pipeline(Readable.from(tarChunks(archiveEntries(store, image))), createWriteStream(temp, { flush: true }));
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw isPullbackError(error) ? error : await ioError(`write ${file}`, file, error);
  }
  await syncDirectory(dirname(file));
}

/** The archive's entries, blobs first and the small JSON files last, as `docker save` orders them. */
export function archiveEntries(store: BlobStore, image: DockerArchiveImage): TarEntry[] {
  const { manifest, descriptor } = image;
  const blobPath = (digest: string): string => `blobs/sha256/${hexOf(digest)}`;
  const blobs: TarEntry[] = [manifest.config, ...manifest.layers].map((blob) => ({
    name: blobPath(blob.digest),
    file: store.path(blob.digest),
    size: blob.size,
  }));
  const uniqueBlobs = [...new Map(blobs.map((entry) => [entry.name, entry])).values()];
  const repoTag = image.tag === undefined ? undefined : `${image.repository}:${image.tag}`;
  const dockerManifest = [
    {
      Config: blobPath(manifest.config.digest),
      RepoTags: repoTag === undefined ? [] : [repoTag],
      Layers: manifest.layers.map((layer) => blobPath(layer.digest)),
    },
  ];
  const lastLayer = manifest.layers.at(-1);
  const repositories =
    image.tag === undefined || lastLayer === undefined ? {} : { [image.repository]: { [image.tag]: hexOf(lastLayer.digest) } };
  const indexEntry = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(repoTag === undefined ? {} : { annotations: { "io.containerd.image.name": repoTag, [REF_NAME_ANNOTATION]: image.tag } }),
  };
  const json = (value: unknown): Uint8Array => Buffer.from(`${JSON.stringify(value)}\n`);
  return [
    ...uniqueBlobs,
    { name: blobPath(descriptor.digest), bytes: image.manifestBytes },
    { name: "oci-layout", bytes: json({ imageLayoutVersion: OCI_LAYOUT_VERSION }) },
    { name: "index.json", bytes: json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [indexEntry] }) },
    { name: "manifest.json", bytes: json(dockerManifest) },
    { name: "repositories", bytes: json(repositories) },
  ];
}
