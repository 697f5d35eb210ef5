/**
 * Reading what a daemonless destination already holds, for the pull policy and
 * for carrying images over when an archive is written again: index.json, the
 * manifest and config of one entry — small JSON files only, never a layer.
 * A layout is read file by file; a docker-archive by walking its tar headers.
 */
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { formatPlatform, normalizePlatform, platformRank, type Platform } from "../../platform.js";
import type { Presence } from "../../pull-policy.js";
import { hexOf } from "./blob-store.js";
import type { OciPulledImage } from "./pulled-image.js";

/** JSON documents read to decide; anything bigger is not ours. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const BLOCK = 512;
/** The archive's small files sit after the blobs; stop scanning after this many entries. */
const MAX_TAR_ENTRIES = 100_000;

/** Reads one file of the destination by its path inside it; undefined when there is none. */
export type ReadEntry = (name: string) => Promise<Buffer | undefined>;

/** An entry of index.json as found on disk: nothing in it is trusted. */
export interface StoredDescriptor {
  readonly mediaType?: unknown;
  readonly digest?: unknown;
  readonly size?: unknown;
  readonly annotations?: Readonly<Record<string, unknown>>;
  readonly platform?: { readonly os?: unknown; readonly architecture?: unknown; readonly variant?: unknown };
}

/** What a destination holds of one image: what pullImage would have reported writing it. */
export type StoredImage = Omit<OciPulledImage, "reference" | "destination">;

/** Whether a destination holds an image, and what it holds when it does. */
export interface Lookup {
  readonly presence: Presence;
  readonly stored?: StoredImage;
}

interface Manifest {
  readonly manifests?: unknown;
  readonly config?: { readonly digest?: unknown; readonly size?: unknown };
  readonly layers?: unknown;
}

/**
 * Look up the first index.json entry `names` accepts; `platform`, when asked for, must be one it holds.
 *
 * @example
 * await lookupStored(layoutReader("/srv/images"), (entry) => entry.annotations?.[REF_NAME_ANNOTATION] === "app-1", undefined)
 */
export async function lookupStored(
  read: ReadEntry,
  names: (entry: StoredDescriptor) => boolean,
  platform: Platform | undefined,
): Promise<Lookup> {
  const entry = (await storedEntries(read)).find(names);
  if (entry === undefined || typeof entry.digest !== "string") return { presence: { state: "absent" } };
  const manifest = parseJson(await read(`blobs/sha256/${hexOf(entry.digest)}`)) as Manifest | undefined;
  if (manifest === undefined) return { presence: { state: "absent" } };
  const platforms = await storedPlatforms(read, manifest);
  const stored: StoredImage = { digest: entry.digest, platform: platforms.map(formatPlatform).join(", "), ...sizes(manifest, entry) };
  if (platform === undefined || platforms.length === 0 || platforms.some((have) => platformRank(platform, have) !== undefined)) {
    return { presence: { state: "present" }, stored };
  }
  return { presence: { state: "other-platform", platform: stored.platform } };
}

/** The entries of the destination's index.json; none when it has none or it is not ours to read. */
export async function storedEntries(read: ReadEntry): Promise<StoredDescriptor[]> {
  const index = parseJson(await read("index.json")) as { manifests?: unknown } | undefined;
  return Array.isArray(index?.manifests) ? (index.manifests as StoredDescriptor[]) : [];
}

function sizes(manifest: Manifest, entry: StoredDescriptor): { layers: number; bytes: number } {
  const layers = Array.isArray(manifest.layers) ? (manifest.layers as { size?: unknown }[]) : [];
  const size = (value: unknown): number => (typeof value === "number" && Number.isSafeInteger(value) ? value : 0);
  return {
    layers: layers.length,
    bytes: size(entry.size) + size(manifest.config?.size) + layers.reduce((sum, layer) => sum + size(layer.size), 0),
  };
}

/** The platforms of a stored manifest: its config's for an image, its entries' for an index. */
async function storedPlatforms(read: ReadEntry, manifest: Manifest): Promise<Platform[]> {
  if (Array.isArray(manifest.manifests)) return (manifest.manifests as StoredDescriptor[]).flatMap((m) => platformFrom(m.platform));
  const configDigest = manifest.config?.digest;
  if (typeof configDigest !== "string") return [];
  return platformFrom(parseJson(await read(`blobs/sha256/${hexOf(configDigest)}`)) as StoredDescriptor["platform"]);
}

function platformFrom(value: StoredDescriptor["platform"]): Platform[] {
  const { os, architecture, variant } = value ?? {};
  if (typeof os !== "string" || typeof architecture !== "string" || os === "unknown") return [];
  return [normalizePlatform(typeof variant === "string" && variant !== "" ? { os, architecture, variant } : { os, architecture })];
}

/**
 * A reader over a layout directory's files.
 *
 * @example
 * const indexBytes = await layoutReader("/srv/images")("index.json");
 */
export function layoutReader(dir: string): ReadEntry {
  return async (name) => {
    try {
      const bytes = await readFile(join(dir, name));
      return bytes.length > MAX_JSON_BYTES ? undefined : bytes;
    } catch {
      return undefined;
    }
  };
}

/** Where an entry's content sits in a tar file. */
export interface TarSpan {
  readonly offset: number;
  readonly size: number;
}

/**
 * The entries of a tar file by name (ustar headers walked in place, content never streamed);
 * empty when there is no file or it is not a tar.
 *
 * @example
 * const spans = await tarSpans("bundle.tar"); spans.get("manifest.json")?.size
 */
export async function tarSpans(file: string): Promise<Map<string, TarSpan>> {
  const spans = new Map<string, TarSpan>();
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return spans;
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
      spans.set((prefix ? `${prefix}/${base}` : base).replace(/^\.\//, ""), { offset: position + BLOCK, size });
      position += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
  } catch {
    spans.clear();
  } finally {
    await handle.close();
  }
  return spans;
}

/**
 * A reader over a tar file's small entries.
 *
 * @example
 * const manifestJson = await (await tarReader("bundle.tar"))("manifest.json");
 */
export async function tarReader(file: string): Promise<ReadEntry> {
  const spans = await tarSpans(file);
  return async (name) => {
    const span = spans.get(name);
    if (span === undefined || span.size > MAX_JSON_BYTES) return undefined;
    const reader = await open(file, "r").catch(() => undefined);
    if (!reader) return undefined;
    try {
      const bytes = Buffer.alloc(span.size);
      await reader.read(bytes, 0, span.size, span.offset);
      return bytes;
    } finally {
      await reader.close();
    }
  };
}

/**
 * JSON, or undefined when the bytes are absent or not JSON.
 *
 * @example
 * parseJson(Buffer.from("{}")) // → {}
 */
export function parseJson(bytes: Buffer | undefined): unknown {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
