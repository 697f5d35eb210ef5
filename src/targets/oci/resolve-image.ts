/**
 * From a reference to the manifests a pull stores: the top-level manifest as
 * the registry serves it, and the image manifest(s) chosen from it.
 */
import { PullbackError } from "../../errors.js";
import type { Manifest } from "../../registry/registry-client.js";
import {
  parseManifest,
  selectPlatform,
  sha256Digest,
  verifyBytes,
  type Descriptor,
  type ImageManifest,
  type IndexManifest,
} from "./manifest.js";
import { MANIFEST_ACCEPT, isImageMediaType } from "./media-types.js";
import type { Platform } from "../../platform.js";

/** A manifest with its bytes, exactly as the registry served them. */
export interface FetchedManifest<M> {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
  readonly manifest: M;
}

export interface ResolvedImage {
  /** What the layout's index.json (or the archive) points at: the chosen image manifest, or the whole index. */
  readonly root: FetchedManifest<ImageManifest> | FetchedManifest<IndexManifest>;
  /** The image manifests whose blobs are pulled. */
  readonly images: readonly FetchedManifest<ImageManifest>[];
  /** True when the reference named a single image (no index): its config decides the platform. */
  readonly single: boolean;
}

export type GetManifest = (reference: string, accept: readonly string[]) => Promise<Manifest>;

/**
 * Resolve `reference` (tag or digest) to the manifests to store.
 *
 * @example
 * const resolved = await resolveImage((r, a) => client.getManifest("public/multi", r, a), "1", { platform, allPlatforms: false, what: "public/multi:1" });
 */
export async function resolveImage(
  getManifest: GetManifest,
  reference: string,
  options: { readonly platform: Platform; readonly allPlatforms: boolean; readonly what: string },
): Promise<ResolvedImage> {
  const top = await fetchManifest(getManifest, reference, undefined, options.what);
  if (top.manifest.kind === "image") {
    const image = top as FetchedManifest<ImageManifest>;
    return { root: image, images: [image], single: true };
  }
  const index = top as FetchedManifest<IndexManifest>;
  if (options.allPlatforms) {
    const nested = index.manifest.manifests.find((entry) => !isImageMediaType(entry.mediaType));
    if (nested)
      throw new PullbackError(
        "registry",
        `${options.what} lists ${nested.digest} of media type ${JSON.stringify(nested.mediaType)}; pullback copies indexes of image manifests only`,
      );
    const images = await Promise.all(index.manifest.manifests.map((entry) => fetchImage(getManifest, entry, options.what)));
    return { root: index, images, single: false };
  }
  const chosen = await fetchImage(getManifest, selectPlatform(index.manifest, options.platform, options.what), options.what);
  return { root: chosen, images: [chosen], single: false };
}

async function fetchImage(getManifest: GetManifest, entry: Descriptor, what: string): Promise<FetchedManifest<ImageManifest>> {
  const fetched = await fetchManifest(getManifest, entry.digest, entry, `${what} (${entry.digest})`);
  if (fetched.manifest.kind !== "image")
    throw new PullbackError("registry", `${what}: ${entry.digest} is listed as an image but is an index`);
  return fetched as FetchedManifest<ImageManifest>;
}

/** GET a manifest and check it: against the descriptor that named it, or against the digest asked for. */
async function fetchManifest(
  getManifest: GetManifest,
  reference: string,
  expected: Descriptor | undefined,
  what: string,
): Promise<FetchedManifest<ImageManifest> | FetchedManifest<IndexManifest>> {
  const response = await getManifest(reference, MANIFEST_ACCEPT);
  const bytes = new Uint8Array(response.bytes.buffer, response.bytes.byteOffset, response.bytes.byteLength);
  if (expected) verifyBytes(bytes, expected.digest, `The manifest ${what}`, expected.size);
  else if (reference.startsWith("sha256:")) verifyBytes(bytes, reference, `The manifest ${what}`);
  const manifest = parseManifest(bytes, response.mediaType, what);
  const descriptor: Descriptor = { mediaType: manifest.mediaType, digest: sha256Digest(bytes), size: bytes.length };
  return manifest.kind === "image" ? { descriptor, bytes, manifest } : { descriptor, bytes, manifest };
}
