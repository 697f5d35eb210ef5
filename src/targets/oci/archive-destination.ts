/**
 * A docker-archive tarball as a destination, of one image or of a set. Blobs are
 * staged beside the file (same filesystem; shared by every image; a run after an
 * interruption resumes them) and the archive is written once, at seal, with every
 * committed image, to a temp file renamed over the target: a run that seals
 * nothing leaves the old file (or none) as it was.
 *
 * An existing archive of other images is not replaced unless asked (skopeo
 * refuses to modify an existing archive; `docker save -o` overwrites silently,
 * losing the old images): pulling the same image(s) again is fine. An image the
 * pull policy finds in the old archive is carried over into the new one.
 */
import { access, constants, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PullbackError } from "../../errors.js";
import type { Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { ioRefusal, ioStep } from "../../files/io-error.js";
import { withLock } from "../../files/lock.js";
import { makeDirectory } from "../../files/make-directory.js";
import { BlobStore } from "./blob-store.js";
import { formatDestination, type PullDestination } from "../../reference/destination.js";
import { writeDockerArchive, type DockerArchiveImage } from "./docker-archive.js";
import { isResumableFailure, type DestinationImage, type DestinationOptions, type ImageDestination } from "./image-destination.js";
import { parseManifest, sha256Digest, type ImageManifest } from "./manifest.js";
import { CONTAINERD_NAME_ANNOTATION } from "./media-types.js";
import type { FetchedManifest } from "./resolve-image.js";
import { lookupStored, parseJson, storedEntries, tarReader, tarSpans, type Lookup, type StoredDescriptor } from "./stored-image.js";
import { readTarEntry } from "./tar.js";

type ArchiveTarget = Extract<PullDestination, { kind: "docker-archive" }>;

/** manifest.json of a docker-archive is a few hundred bytes per image. */
const MAX_ARCHIVE_MANIFEST_BYTES = 1024 * 1024;

export class ArchiveDestination implements ImageDestination {
  readonly description: string;
  readonly blobs: BlobStore;
  readonly writesAtSeal = true;
  readonly #to: ArchiveTarget;
  readonly #options: DestinationOptions;
  readonly #staging: string;
  /** What seal writes; in the set's order however the pulls finished, so the same set gives the same archive. */
  readonly #images: { readonly image: DockerArchiveImage; readonly order: number }[] = [];
  /** Images committed (pulled) this run; with none, the archive already holds every image kept. */
  #committed = 0;
  /** An existing archive of other images is refused (or its replacement warned about) once per run. */
  #replacement: Promise<readonly string[]> | undefined;

  constructor(to: ArchiveTarget, options: DestinationOptions) {
    this.#to = to;
    this.#options = options;
    this.description = formatDestination(to);
    this.#staging = join(dirname(to.file), `.${basename(to.file)}.pullback-blobs`);
    this.blobs = new BlobStore(this.#staging);
    // Refused before anything is created or asked: this is a usage error, not a destination problem.
    if (this.#options.allPlatforms) {
      throw new PullbackError(
        "usage",
        "A docker-archive holds the image of one platform; to keep every platform, pull into an OCI layout (oci:DIR) instead",
        {
          diagnosis: {
            summary: "A docker-archive holds the image of one platform",
            explanation: "docker load and ctr import read one image per archive entry; a multi-platform index has no place in it.",
            steps: [
              { text: "Keep every platform in an OCI layout", command: "pullback pull IMAGE --to oci:./images --all-platforms" },
              {
                text: "Or pull one platform into the archive",
                command: `pullback pull IMAGE --to ${this.description} --platform linux/amd64`,
              },
            ],
            retryable: false,
          },
        },
      );
    }
  }

  describe(): string {
    return this.description;
  }

  /** An archive names an image by its full reference, as docker load reads it, or holds it by digest. */
  async find(reference: ImageReference, platform: Platform | undefined): Promise<Lookup> {
    return lookupStored(await tarReader(this.#to.file), (entry) => namesImage(entry, reference), platform);
  }

  /** Carried over from the archive as it is now: its blobs are read from the old file while the new one is written. */
  async keep(reference: ImageReference): Promise<boolean> {
    const carried = await carriedImage(this.#to.file, reference).catch(() => undefined);
    if (carried !== undefined) this.#images.push({ image: carried, order: this.#orderOf(reference) });
    return carried !== undefined;
  }

  async prepare(): Promise<void> {
    const file = this.#to.file;
    const existing = await stat(file).catch(() => undefined);
    if (existing?.isDirectory())
      throw ioRefusal(
        "is-a-directory",
        file,
        `${file} is a directory; a docker-archive is a file — name a file inside it, e.g. ${join(file, "image.tar")}`,
      );
    const dir = dirname(file);
    await ioStep(() => makeDirectory(dir), `create ${dir}`, dir);
    await ioStep(() => access(dir, constants.W_OK), `write into ${dir}`, dir);
    await this.blobs.init();
  }

  async admit(image: DestinationImage): Promise<readonly string[]> {
    singleImage(image);
    // Decided once for the run, by the first image admitted: the question is about the file, not the image.
    const first = this.#replacement === undefined;
    this.#replacement ??= this.#replacing(image);
    const warnings = await this.#replacement;
    return first ? warnings : [];
  }

  /** What writing the archive replaces: nothing, a warning (`replace`), or a refusal. */
  async #replacing(image: DestinationImage): Promise<readonly string[]> {
    const root = singleImage(image);
    const held = await heldImages(this.#to.file);
    const config = `blobs/sha256/${root.manifest.config.digest.slice("sha256:".length)}`;
    const names = new Set(
      (this.#options.set ?? [image.reference]).flatMap((ref) => (ref.tag === undefined ? [] : [`${ref.name}:${ref.tag}`])),
    );
    // One image: the same image again. A set: every image held is named by the set (it is pulled again or carried over).
    const lost = held.filter((entry) =>
      this.#options.set === undefined
        ? entry.config !== config
        : entry.repoTags.length === 0
          ? entry.config !== config
          : !entry.repoTags.every((tag) => names.has(tag)),
    );
    if (lost.length === 0) return [];
    const what = lost.map((entry) => (entry.repoTags.length > 0 ? entry.repoTags.join(", ") : "an untagged image")).join("; ");
    const by =
      this.#options.set === undefined || this.#options.set.length === 1 ? image.reference.familiar() : `${this.#options.set.length} images`;
    if (this.#options.replace) return [`${this.#to.file} held ${what}; it is replaced by ${by}`];
    const summary = `${this.#to.file} already holds ${lost.length === held.length ? "" : "other "}${held.length === 1 ? "another image" : "other images"} (${what})`;
    throw new PullbackError("usage", `${summary}; pullback does not replace it unless asked`, {
      reason: "destination-exists",
      diagnosis: {
        summary,
        explanation:
          "Writing the archive would replace what it holds. skopeo refuses to modify an existing archive; pullback does the same unless told to replace it.",
        steps: [
          {
            text: "Replace it",
            command: `pullback pull ${this.#options.set === undefined ? image.reference.familiar() : "IMAGE..."} --to ${this.description} --replace`,
          },
          { text: "Or write to another file" },
        ],
        retryable: false,
      },
    });
  }

  commit(image: DestinationImage): Promise<void> {
    const root = singleImage(image);
    const archived: DockerArchiveImage = {
      ...root,
      manifestBytes: root.bytes,
      repository: image.reference.name,
      tag: image.reference.tag,
      blobs: (digest) => ({ file: this.blobs.path(digest) }),
    };
    this.#images.push({ image: archived, order: this.#orderOf(image.reference) });
    this.#committed++;
    return Promise.resolve();
  }

  #orderOf(reference: ImageReference): number {
    const index = this.#options.set?.findIndex((member) => member.toString() === reference.toString()) ?? -1;
    return index === -1 ? this.#images.length : index;
  }

  async seal(): Promise<void> {
    if (this.#committed === 0) return;
    const ordered = [...this.#images].sort((a, b) => a.order - b.order).map((entry) => entry.image);
    await writeDockerArchive(this.#to.file, ordered);
    await rm(this.#staging, { recursive: true, force: true });
  }

  /** Writers of one archive take turns: they share its staging area, which the one that finishes removes. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const dir = dirname(this.#to.file);
    await ioStep(() => makeDirectory(dir), `create ${dir}`, dir);
    return withLock(this.#to.file, work);
  }

  async discard(error: unknown): Promise<void> {
    if (isResumableFailure(error)) return;
    await rm(this.#staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

function singleImage(image: DestinationImage): FetchedManifest<ImageManifest> {
  const { root } = image.resolved;
  if (root.manifest.kind !== "image")
    throw new PullbackError("usage", "A docker-archive holds the image of one platform, not a multi-platform index");
  return root as FetchedManifest<ImageManifest>;
}

/** The images of an existing archive (config path and tags); none when there is no archive. */
async function heldImages(file: string): Promise<{ readonly config: string; readonly repoTags: readonly string[] }[]> {
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size === 0) return [];
  const bytes = await readTarEntry(file, "manifest.json", MAX_ARCHIVE_MANIFEST_BYTES).catch(() => undefined);
  const entries = parseJson(bytes) as { Config?: unknown; RepoTags?: unknown }[] | undefined;
  // Not an archive we can read: it is still somebody's file.
  if (!Array.isArray(entries) || entries.length === 0)
    return [{ config: "", repoTags: [`a file that is not a docker-archive, ${info.size} bytes`] }];
  return entries.map((entry) => ({
    config: typeof entry?.Config === "string" ? entry.Config : "",
    repoTags: Array.isArray(entry?.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === "string") : [],
  }));
}

/** An archive's index.json names an image by `registry/repository:tag`; a pull by digest matches the digest. */
function namesImage(entry: StoredDescriptor, reference: ImageReference): boolean {
  if (reference.tag !== undefined) return entry.annotations?.[CONTAINERD_NAME_ANNOTATION] === `${reference.name}:${reference.tag}`;
  return reference.digest !== undefined && entry.digest === reference.digest;
}

/**
 * An image of the archive as it is now, to be written again: its manifest from the old file, its
 * blobs as spans of it. Undefined when the old file no longer holds it whole (then it is left out).
 */
async function carriedImage(file: string, reference: ImageReference): Promise<DockerArchiveImage | undefined> {
  const read = await tarReader(file);
  const entry = (await storedEntries(read)).find((candidate) => namesImage(candidate, reference));
  if (entry === undefined || typeof entry.digest !== "string") return undefined;
  const manifestBytes = await read(`blobs/sha256/${entry.digest.slice("sha256:".length)}`);
  if (manifestBytes === undefined || sha256Digest(manifestBytes) !== entry.digest) return undefined;
  const mediaType = typeof entry.mediaType === "string" ? entry.mediaType : undefined;
  const manifest = parseManifest(manifestBytes, mediaType ?? "", reference.familiar());
  if (manifest.kind !== "image") return undefined;
  const spans = await tarSpans(file);
  const blobs = [manifest.config, ...manifest.layers];
  if (!blobs.every((blob) => spans.get(`blobs/sha256/${blob.digest.slice("sha256:".length)}`)?.size === blob.size)) return undefined;
  return {
    descriptor: { mediaType: manifest.mediaType, digest: entry.digest, size: manifestBytes.length },
    manifestBytes,
    manifest,
    repository: reference.name,
    tag: reference.tag,
    blobs: (digest) => ({ file, offset: spans.get(`blobs/sha256/${digest.slice("sha256:".length)}`)?.offset ?? 0 }),
  };
}
