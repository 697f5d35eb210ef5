/**
 * An OCI image layout directory: `oci-layout`, `blobs/sha256/…` and `index.json`.
 * index.json is written last and atomically (temp file, fsync, rename), so a pull
 * that is interrupted leaves the previous index — and every image it names — intact.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PullbackError } from "../../errors.js";
import { writeFileAtomic } from "../../files/atomic-write.js";
import { ioError } from "../../files/io-error.js";
import { withLock } from "../../files/lock.js";
import { OCI_INDEX, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "./media-types.js";

/** index.json is small; a huge one is not ours to rewrite. */
const MAX_INDEX_BYTES = 16 * 1024 * 1024;

/** An entry of index.json, kept as found (unknown fields included) when it is not ours to replace. */
export type IndexEntry = Readonly<Record<string, unknown>> & {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
};

export interface LayoutIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly IndexEntry[];
  readonly [key: string]: unknown;
}

/**
 * Make `dir` an OCI layout: create it and write `oci-layout` when missing. A directory
 * whose `oci-layout` names another version is refused rather than mixed.
 *
 * @example
 * await initLayout("/srv/images");
 */
export async function initLayout(dir: string): Promise<void> {
  const marker = join(dir, "oci-layout");
  let existing: string | undefined;
  try {
    existing = await readFile(marker, "utf8");
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    const version = layoutVersion(existing);
    if (version !== OCI_LAYOUT_VERSION) {
      throw new PullbackError(
        "io",
        `${dir} is an OCI layout of version ${JSON.stringify(version)}; pullback writes version ${OCI_LAYOUT_VERSION} only`,
      );
    }
    return;
  }
  await writeFileAtomic(marker, `${JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION })}\n`);
}

/** The layout's index.json, or an empty index when there is none yet. */
export async function readLayoutIndex(dir: string): Promise<LayoutIndex> {
  const file = join(dir, "index.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
    throw await ioError(`read ${file}`, file, error);
  }
  if (text.length > MAX_INDEX_BYTES) throw new PullbackError("limit", `${file} is larger than ${MAX_INDEX_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PullbackError("io", `${file} is not valid JSON; fix or remove it before pulling into this layout`, { cause: error });
  }
  const manifests = (json as { manifests?: unknown } | null)?.manifests;
  if (typeof json !== "object" || json === null || !Array.isArray(manifests)) {
    throw new PullbackError(
      "io",
      `${file} is not an OCI image index (no "manifests" list); fix or remove it before pulling into this layout`,
    );
  }
  return { ...(json as Record<string, unknown>), schemaVersion: 2, manifests: manifests as IndexEntry[] };
}

/**
 * The index with `entry` added: an entry of the same ref name is replaced (a tag
 * names one image); without a ref name, an unnamed entry of the same digest is.
 * Every other entry is kept as it was.
 *
 * @example
 * withEntry(index, { mediaType, digest, size, annotations: { "org.opencontainers.image.ref.name": "1" } })
 */
export function withEntry(index: LayoutIndex, entry: IndexEntry): LayoutIndex {
  const name = entry.annotations?.[REF_NAME_ANNOTATION];
  const kept = index.manifests.filter((existing) => {
    const existingName = refNameOf(existing);
    return name === undefined ? existingName !== undefined || existing.digest !== entry.digest : existingName !== name;
  });
  return { ...index, manifests: [...kept, entry] };
}

/**
 * Add `entry` to the layout's index.json, atomically.
 *
 * @example
 * await addToLayoutIndex("/srv/images", { mediaType, digest, size, annotations: { "org.opencontainers.image.ref.name": "app-1" } });
 */
export async function addToLayoutIndex(dir: string, entry: IndexEntry): Promise<void> {
  const file = join(dir, "index.json");
  // Read-modify-write under a lock, or two processes adding tags at once lose one.
  await withLock(
    file,
    async () => {
      const next = withEntry(await readLayoutIndex(dir), entry);
      await writeFileAtomic(file, `${JSON.stringify(next)}\n`);
    },
    { timeoutMs: 60_000, what: `the index of ${dir}` },
  );
}

/**
 * The digest the layout's index names under `tag`, if any.
 *
 * @example
 * taggedDigest(await readLayoutIndex("/srv/images"), "app-1") // → "sha256:…" or undefined
 */
export function taggedDigest(index: LayoutIndex, tag: string): string | undefined {
  return index.manifests.find((entry) => refNameOf(entry) === tag)?.digest;
}

function refNameOf(entry: IndexEntry): string | undefined {
  const annotations = entry.annotations;
  const name = typeof annotations === "object" && annotations !== null ? annotations[REF_NAME_ANNOTATION] : undefined;
  return typeof name === "string" ? name : undefined;
}

function layoutVersion(text: string): unknown {
  try {
    return (JSON.parse(text) as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  } catch {
    return undefined;
  }
}
