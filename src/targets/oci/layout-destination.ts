/**
 * An OCI image layout as a destination: blobs straight into `DIR/blobs/sha256`,
 * the index entry last and atomically. A tag that moves to another image is
 * said out loud (the old image's blobs stay; skopeo moves the tag silently).
 */
import { access, constants, rm, stat } from "node:fs/promises";
import { ioRefusal, ioStep } from "../../files/io-error.js";
import { makeDirectory } from "../../files/make-directory.js";
import { BlobStore } from "./blob-store.js";
import type { PullDestination } from "../../reference/destination.js";
import { formatDestination } from "../../reference/destination.js";
import { isResumableFailure, type DestinationImage, type DestinationOptions, type ImageDestination } from "./image-destination.js";
import { REF_NAME_ANNOTATION } from "./media-types.js";
import { addToLayoutIndex, initLayout, readLayoutIndex, taggedDigest } from "./oci-layout.js";

type LayoutTarget = Extract<PullDestination, { kind: "oci" }>;

export class LayoutDestination implements ImageDestination {
  readonly description: string;
  readonly blobs: BlobStore;
  readonly #to: LayoutTarget;
  /** True when this run created the directory: a failed run that cannot be resumed removes it again. */
  #created = false;
  #committed = false;

  constructor(to: LayoutTarget, _options: DestinationOptions) {
    this.#to = to;
    this.description = formatDestination(to);
    this.blobs = new BlobStore(to.dir);
  }

  async prepare(): Promise<void> {
    const dir = this.#to.dir;
    const existing = await stat(dir).catch(() => undefined);
    if (existing && !existing.isDirectory())
      throw ioRefusal("not-a-directory", dir, `${dir} is a file, not a directory; an OCI layout is a directory`);
    if (!existing) {
      await ioStep(() => makeDirectory(dir), `create ${dir}`, dir);
      this.#created = true;
    }
    await ioStep(() => access(dir, constants.W_OK), `write into ${dir}`, dir);
    await initLayout(dir);
    await this.blobs.init();
  }

  async admit(image: DestinationImage): Promise<readonly string[]> {
    const tag = this.#to.tag;
    if (tag === undefined) return [];
    const before = taggedDigest(await readLayoutIndex(this.#to.dir), tag);
    const after = image.resolved.root.descriptor.digest;
    if (before === undefined || before === after) return [];
    return [
      `${this.description} named ${before}; it will name ${after} (${image.reference.familiar()}). The image it named before stays in the layout, untagged.`,
    ];
  }

  async commit(image: DestinationImage): Promise<void> {
    const { descriptor } = image.resolved.root;
    const tag = this.#to.tag;
    await addToLayoutIndex(this.#to.dir, {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      ...(tag === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: tag } }),
    });
    this.#committed = true;
  }

  /** Writers of one layout share it safely: blobs and the index take their own locks. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  async discard(error: unknown): Promise<void> {
    if (!this.#created || this.#committed || isResumableFailure(error)) return;
    await rm(this.#to.dir, { recursive: true, force: true }).catch(() => undefined);
    this.#created = false;
  }
}
