/**
 * Parsing and checking manifests from a registry, and choosing the platform
 * from an index. Everything here distrusts its input: sizes, depth and counts
 * are capped before anything is allocated per entry, and every digest is checked.
 */
import { createHash } from "node:crypto";
import { PullbackError } from "../../errors.js";
import { isImageMediaType, isIndexMediaType } from "./media-types.js";
import { formatPlatform, normalizePlatform, platformRank, type Platform } from "../../platform.js";

/** Larger manifests are refused: real ones are a few KiB; this is a defence, not a format rule. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_LAYERS = 10_000;
export const MAX_INDEX_ENTRIES = 10_000;
/** JSON nesting deeper than this is refused: manifests nest four or five levels. */
export const MAX_JSON_DEPTH = 32;

/** A content descriptor, checked: sha256 digest, a non-negative integer size. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageManifest {
  readonly kind: "image";
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export interface IndexManifest {
  readonly kind: "index";
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

export type ParsedManifest = ImageManifest | IndexManifest;

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * The sha256 digest of some bytes, "sha256:<hex>".
 *
 * @example
 * sha256Digest(Buffer.from("")) // → "sha256:e3b0c442…b855"
 */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Throws `integrity` unless `bytes` hash to `expected` (and, when given, have `size` bytes). */
export function verifyBytes(bytes: Uint8Array, expected: string, what: string, size?: number): void {
  if (size !== undefined && bytes.length !== size) {
    throw new PullbackError("integrity", `${what} has ${bytes.length} bytes, but ${size} were promised; refusing it`);
  }
  const actual = sha256Digest(bytes);
  if (actual !== expected) throw new PullbackError("integrity", `${what} hashes to ${actual}, not ${expected}; refusing it`);
}

/**
 * Parse and check a manifest or index.
 *
 * @example
 * const m = parseManifest(bytes, "application/vnd.oci.image.manifest.v1+json", "public/app:1");
 * if (m.kind === "image") console.log(m.layers.length);
 */
export function parseManifest(bytes: Uint8Array, contentType: string, what: string): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new PullbackError("limit", `The manifest of ${what} is ${bytes.length} bytes; pullback accepts at most ${MAX_MANIFEST_BYTES}`);
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw new PullbackError("limit", `The manifest of ${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  const json = parseJsonObject(text, what);
  const mediaType =
    typeof json.mediaType === "string" && json.mediaType !== "" ? json.mediaType : (contentType.split(";")[0]?.trim() ?? "");
  if (isIndexMediaType(mediaType) || (mediaType === "" && Array.isArray(json.manifests))) {
    return {
      kind: "index",
      mediaType: mediaType || "application/vnd.oci.image.index.v1+json",
      manifests: descriptors(json.manifests, MAX_INDEX_ENTRIES, what, "manifests"),
    };
  }
  if (isImageMediaType(mediaType) || (mediaType === "" && json.config !== undefined)) {
    const config = descriptor(json.config, what, "config");
    const layers = descriptors(json.layers, MAX_LAYERS, what, "layers");
    return { kind: "image", mediaType: mediaType || "application/vnd.oci.image.manifest.v1+json", config, layers };
  }
  throw new PullbackError(
    "registry",
    `The manifest of ${what} has media type ${JSON.stringify(mediaType)}, which pullback cannot pull (it reads OCI and Docker schema 2 manifests)`,
  );
}

/**
 * Pick the manifest for `wanted` from an index: an exact match first, then a
 * compatible older variant. No match is a `platform` error naming what is offered.
 *
 * @example
 * selectPlatform(index, parsePlatform("linux/arm64"), "public/multi:1").digest
 */
export function selectPlatform(index: IndexManifest, wanted: Platform, what: string): Descriptor {
  let best: { descriptor: Descriptor; rank: number } | undefined;
  for (const entry of index.manifests) {
    if (entry.platform === undefined || !isImageMediaType(entry.mediaType)) continue;
    const rank = platformRank(wanted, entry.platform);
    if (rank !== undefined && (best === undefined || rank < best.rank)) best = { descriptor: entry, rank };
  }
  if (best) return best.descriptor;
  const offered = offeredPlatforms(index);
  throw new PullbackError(
    "platform",
    `${what} has no variant for ${formatPlatform(wanted)}; it offers ${offered.length === 0 ? "no runnable platform" : offered.join(", ")}`,
  );
}

/** The runnable platforms an index lists (attestation entries, "unknown/unknown", left out). */
export function offeredPlatforms(index: IndexManifest): string[] {
  const seen = new Set<string>();
  for (const entry of index.manifests) {
    if (entry.platform === undefined || entry.platform.os === "unknown" || !isImageMediaType(entry.mediaType)) continue;
    seen.add(formatPlatform(entry.platform));
  }
  return [...seen];
}

/** The deepest nesting of arrays and objects, counted without parsing (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PullbackError("registry", `The manifest of ${what} is not valid JSON`, { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new PullbackError("registry", `The manifest of ${what} is not a JSON object`);
  return json as Record<string, unknown>;
}

function descriptors(value: unknown, max: number, what: string, field: string): Descriptor[] {
  if (!Array.isArray(value)) throw malformed(what, `"${field}" is not a list`);
  if (value.length > max)
    throw new PullbackError("limit", `The manifest of ${what} lists ${value.length} ${field}; pullback accepts at most ${max}`);
  return value.map((entry, i) => descriptor(entry, what, `${field}[${i}]`));
}

function descriptor(value: unknown, what: string, field: string): Descriptor {
  if (typeof value !== "object" || value === null) throw malformed(what, `"${field}" is not an object`);
  const { mediaType, digest, size, platform, annotations } = value as Record<string, unknown>;
  if (typeof digest !== "string" || !SHA256_DIGEST.test(digest)) {
    throw malformed(what, `"${field}" has digest ${JSON.stringify(digest)}; pullback verifies sha256 digests only`);
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw malformed(what, `"${field}" has no valid size`);
  const result: { -readonly [K in keyof Descriptor]: Descriptor[K] } = {
    mediaType: typeof mediaType === "string" ? mediaType : "",
    digest,
    size,
  };
  const parsedPlatform = platformOf(platform);
  if (parsedPlatform) result.platform = parsedPlatform;
  const parsedAnnotations = stringRecord(annotations);
  if (parsedAnnotations) result.annotations = parsedAnnotations;
  return result;
}

function platformOf(value: unknown): Platform | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { os, architecture, variant } = value as Record<string, unknown>;
  if (typeof os !== "string" || typeof architecture !== "string") return undefined;
  return normalizePlatform(typeof variant === "string" && variant !== "" ? { os, architecture, variant } : { os, architecture });
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const entries = Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string");
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

function malformed(what: string, detail: string): PullbackError {
  return new PullbackError("registry", `The manifest of ${what} is malformed: ${detail}`);
}
