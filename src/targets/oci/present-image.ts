/**
 * Whether a daemonless destination already holds an image, for the pull policy
 * (`missing`/`never`): the OCI layout's index.json entry for the tag, or the
 * docker-archive's entry for the reference — and, when a platform was asked for,
 * whether the stored image is for it. Reads only small JSON files; no registry.
 */
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatPlatform, normalizePlatform, platformRank, type Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { decidePull, type Presence, type PullPolicy } from "../../pull-policy.js";
import { hexOf } from "./blob-store.js";
import { formatDestination, type PullDestination } from "../../reference/destination.js";
import type { OciPulledImage } from "./pulled-image.js";
import { REF_NAME_ANNOTATION } from "./media-types.js";

/** JSON documents read to decide; anything bigger is not ours. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const BLOCK = 512;
/** The archive's small files sit after the blobs; stop scanning after this many entries. */
const MAX_TAR_ENTRIES = 100_000;

/** Reads one file of the destination by its path inside it; undefined when there is none. */
type ReadEntry = (name: string) => Promise<Buffer | undefined>;

interface Descriptor {
  readonly digest?: unknown;
  readonly size?: unknown;
  readonly annotations?: Readonly<Record<string, unknown>>;
  readonly platform?: { readonly os?: unknown; readonly architecture?: unknown; readonly variant?: unknown };
}

/**
 * The pull policy at a daemonless destination: the outcome of using what is there
 * (no attempt, no registry request), or undefined when the registry must be asked.
 * `never` without a usable image throws `not-found`.
 *
 * @example
 * const present = await usePresentImage(ref, parseDestination("oci:./images:app-1"), "missing", undefined);
 * if (present) return present;
 */
export async function usePresentImage(
  reference: ImageReference,
  to: PullDestination,
  policy: PullPolicy,
  platform: Platform | undefined,
): Promise<PullOutcome<OciPulledImage> | undefined> {
  if (policy === "always") return undefined;
  const found = await findStored(to, reference, platform);
  if (
    decidePull(policy, found.presence, { image: reference.familiar(), where: formatDestination(to) }) === "pull" ||
    found.stored === undefined
  )
    return undefined;
  const image: OciPulledImage = { reference: reference.toString(), ...found.stored, destination: formatDestination(to) };
  return { image, attempts: [], warnings: [], fellBack: false };
}

type Stored = Omit<OciPulledImage, "reference" | "destination">;

/** What `to` holds under `reference`, for `platform` when one was asked for. */
async function findStored(
  to: PullDestination,
  reference: ImageReference,
  platform: Platform | undefined,
): Promise<{ presence: Presence; stored?: Stored }> {
  const read: ReadEntry = to.kind === "oci" ? (name) => readSmall(join(to.dir, name)) : await tarReader(to.file);
  const index = parseJson(await read("index.json")) as { manifests?: unknown } | undefined;
  const entries = Array.isArray(index?.manifests) ? (index.manifests as Descriptor[]) : [];
  const entry = entries.find((candidate) => names(candidate, to, reference));
  if (entry === undefined || typeof entry.digest !== "string") return { presence: { state: "absent" } };
  const manifest = parseJson(await read(`blobs/sha256/${hexOf(entry.digest)}`)) as Manifest | undefined;
  if (manifest === undefined) return { presence: { state: "absent" } };
  const platforms = await storedPlatforms(read, manifest);
  const stored: Stored = { digest: entry.digest, platform: platforms.map(formatPlatform).join(", "), ...sizes(manifest, entry) };
  if (platform === undefined || platforms.length === 0 || platforms.some((have) => platformRank(platform, have) !== undefined)) {
    return { presence: { state: "present" }, stored };
  }
  return { presence: { state: "other-platform", platform: stored.platform } };
}

interface Manifest {
  readonly manifests?: unknown;
  readonly config?: { readonly digest?: unknown; readonly size?: unknown };
  readonly layers?: unknown;
}

function sizes(manifest: Manifest, entry: Descriptor): { layers: number; bytes: number } {
  const layers = Array.isArray(manifest.layers) ? (manifest.layers as { size?: unknown }[]) : [];
  const size = (value: unknown): number => (typeof value === "number" && Number.isSafeInteger(value) ? value : 0);
  return {
    layers: layers.length,
    bytes: size(entry.size) + size(manifest.config?.size) + layers.reduce((sum, layer) => sum + size(layer.size), 0),
  };
}

/** An OCI layout names an image by its tag; a docker-archive by the full reference, as docker load reads it. */
function names(entry: Descriptor, to: PullDestination, reference: ImageReference): boolean {
  if (to.kind === "oci") {
    if (to.tag !== undefined) return entry.annotations?.[REF_NAME_ANNOTATION] === to.tag;
    return reference.digest !== undefined && entry.digest === reference.digest;
  }
  if (reference.tag !== undefined) return entry.annotations?.["io.containerd.image.name"] === `${reference.name}:${reference.tag}`;
  return reference.digest !== undefined && entry.digest === reference.digest;
}

/** The platforms of a stored manifest: its config's for an image, its entries' for an index. */
async function storedPlatforms(read: ReadEntry, manifest: Manifest): Promise<Platform[]> {
  if (Array.isArray(manifest.manifests)) return (manifest.manifests as Descriptor[]).flatMap((m) => platformFrom(m.platform));
  const configDigest = manifest.config?.digest;
  if (typeof configDigest !== "string") return [];
  return platformFrom(parseJson(await read(`blobs/sha256/${hexOf(configDigest)}`)) as Descriptor["platform"]);
}

function platformFrom(value: Descriptor["platform"]): Platform[] {
  const { os, architecture, variant } = value ?? {};
  if (typeof os !== "string" || typeof architecture !== "string" || os === "unknown") return [];
  return [normalizePlatform(typeof variant === "string" && variant !== "" ? { os, architecture, variant } : { os, architecture })];
}

async function readSmall(file: string): Promise<Buffer | undefined> {
  try {
    const bytes = await readFile(file);
    return bytes.length > MAX_JSON_BYTES ? undefined : bytes;
  } catch {
    return undefined;
  }
}

/** A reader over a tar file's entries (ustar headers walked in place, content never streamed). */
async function tarReader(file: string): Promise<ReadEntry> {
  const offsets = new Map<string, { offset: number; size: number }>();
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return () => Promise.resolve(undefined);
  try {
    const header = Buffer.alloc(BLOCK);
    let position = 0;
    for (let count = 0; count < MAX_TAR_ENTRIES; count++) {
      const { bytesRead } = await handle.read(header, 0, BLOCK, position);
      if (bytesRead < BLOCK || header.every((byte) => byte === 0)) break;
      const size = parseInt(header.toString("ascii", 124, 136).replace(/\0.*$/, "").trim() || "0", 8);
      if (!Number.isSafeInteger(size) || size < 0) break;
      const prefix = header.toString("utf8", 345, 500).replace(/\0.*$/s, "");
      const base = header.toString("utf8", 0, 100).replace(/\0.*$/s, "");
      offsets.set((prefix ? `${prefix}/${base}` : base).replace(/^\.\//, ""), { offset: position + BLOCK, size });
      position += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
    return async (name) => {
      const entry = offsets.get(name);
      if (entry === undefined || entry.size > MAX_JSON_BYTES) return undefined;
      const reader = await open(file, "r").catch(() => undefined);
      if (!reader) return undefined;
      try {
        const bytes = Buffer.alloc(entry.size);
        await reader.read(bytes, 0, entry.size, entry.offset);
        return bytes;
      } finally {
        await reader.close();
      }
    };
  } catch {
    return () => Promise.resolve(undefined);
  } finally {
    await handle.close();
  }
}

function parseJson(bytes: Buffer | undefined): unknown {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
