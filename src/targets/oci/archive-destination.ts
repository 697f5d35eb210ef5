/**
 * A docker-archive tarball as a destination. Blobs are staged beside the file
 * (same filesystem; a run after an interruption resumes them) and the archive
 * is written at commit, to a temp file renamed over the target.
 *
 * An existing archive of another image is not replaced unless asked (skopeo
 * refuses to modify an existing archive; `docker save -o` overwrites silently,
 * losing the old image): pulling the same image again is fine.
 */
import { access, constants, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PullbackError } from "../../errors.js";
import { ioRefusal, ioStep } from "../../files/io-error.js";
import { withLock } from "../../files/lock.js";
import { makeDirectory } from "../../files/make-directory.js";
import { BlobStore } from "./blob-store.js";
import { formatDestination, type PullDestination } from "../../reference/destination.js";
import { writeDockerArchive } from "./docker-archive.js";
import { isResumableFailure, type DestinationImage, type DestinationOptions, type ImageDestination } from "./image-destination.js";
import type { ImageManifest } from "./manifest.js";
import type { FetchedManifest } from "./resolve-image.js";
import { readTarEntry } from "./tar.js";

type ArchiveTarget = Extract<PullDestination, { kind: "docker-archive" }>;

/** manifest.json of a docker-archive is a few hundred bytes per image. */
const MAX_ARCHIVE_MANIFEST_BYTES = 1024 * 1024;

export class ArchiveDestination implements ImageDestination {
  readonly description: string;
  readonly blobs: BlobStore;
  readonly #to: ArchiveTarget;
  readonly #options: DestinationOptions;
  readonly #staging: string;

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
    const root = singleImage(image);
    const held = await heldImage(this.#to.file);
    if (held === undefined || held.config === `blobs/sha256/${root.manifest.config.digest.slice("sha256:".length)}`) return [];
    const what = held.repoTags.length > 0 ? held.repoTags.join(", ") : "an untagged image";
    if (this.#options.replace) return [`${this.#to.file} held ${what}; it is replaced by ${image.reference.familiar()}`];
    const summary = `${this.#to.file} already holds another image (${what})`;
    throw new PullbackError("usage", `${summary}; pullback does not replace it unless asked`, {
      reason: "destination-exists",
      diagnosis: {
        summary,
        explanation:
          "Writing the archive would replace that image. skopeo refuses to modify an existing archive; pullback does the same unless told to replace it.",
        steps: [
          { text: "Replace it", command: `pullback pull ${image.reference.familiar()} --to ${this.description} --replace` },
          { text: "Or write to another file" },
        ],
        retryable: false,
      },
    });
  }

  async commit(image: DestinationImage): Promise<void> {
    const root = singleImage(image);
    await writeDockerArchive(this.#to.file, this.blobs, {
      ...root,
      manifestBytes: root.bytes,
      repository: image.reference.name,
      tag: image.reference.tag,
    });
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

/** The first image of an existing archive (its config path and tags); undefined when there is no archive. */
async function heldImage(file: string): Promise<{ readonly config: string; readonly repoTags: readonly string[] } | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size === 0) return undefined;
  const bytes = await readTarEntry(file, "manifest.json", MAX_ARCHIVE_MANIFEST_BYTES).catch(() => undefined);
  let first: { Config?: unknown; RepoTags?: unknown } | undefined;
  try {
    first = bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as { Config?: unknown; RepoTags?: unknown }[])[0];
  } catch {
    first = undefined;
  }
  // Not an archive we can read: it is still somebody's file.
  if (first === undefined) return { config: "", repoTags: [`a file that is not a docker-archive, ${info.size} bytes`] };
  const repoTags = Array.isArray(first.RepoTags) ? first.RepoTags.filter((t): t is string => typeof t === "string") : [];
  return { config: typeof first.Config === "string" ? first.Config : "", repoTags };
}
