/**
 * An OCI image layout as a destination: blobs straight into `DIR/blobs/sha256`
 * (shared by every image of the layout, so a base layer is stored once), each
 * image's index entry last and atomically. A tag that moves to another image is
 * said out loud (the old image's blobs stay; skopeo moves the tag silently).
 *
 * Names: `oci:DIR:TAG` names one image TAG; `oci:DIR` names one image by its
 * digest only. In a set each image is named by its full reference
 * (`127.0.0.1:5000/public/app:1`, `docker.io/library/nginx:latest`), which the
 * OCI ref.name grammar allows and skopeo reads as `oci:DIR:REFERENCE` — a tag
 * alone would name twelve images `1`. The same name goes into
 * `io.containerd.image.name`, which containerd reads first.
 */
import { access, constants, rm, stat } from "node:fs/promises";
import { ioRefusal, ioStep } from "../../files/io-error.js";
import { makeDirectory } from "../../files/make-directory.js";
import type { Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { BlobStore } from "./blob-store.js";
import type { PullDestination } from "../../reference/destination.js";
import { formatDestination } from "../../reference/destination.js";
import { isResumableFailure, type DestinationImage, type DestinationOptions, type ImageDestination } from "./image-destination.js";
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION } from "./media-types.js";
import { addToLayoutIndex, initLayout, readLayoutIndex, taggedDigest } from "./oci-layout.js";
import { layoutReader, lookupStored, type Lookup } from "./stored-image.js";

type LayoutTarget = Extract<PullDestination, { kind: "oci" }>;

export class LayoutDestination implements ImageDestination {
  readonly description: string;
  readonly blobs: BlobStore;
  readonly writesAtSeal = false;
  readonly #to: LayoutTarget;
  readonly #inSet: boolean;
  /** True when this run created the directory: a failed run that cannot be resumed removes it again. */
  #created = false;
  #committed = false;

  constructor(to: LayoutTarget, options: DestinationOptions) {
    this.#to = to;
    this.#inSet = options.set !== undefined;
    this.description = formatDestination(to);
    this.blobs = new BlobStore(to.dir);
  }

  /** The ref.name the image gets: the destination's tag, or in a set its reference; none for one untagged image. */
  #nameOf(reference: ImageReference): string | undefined {
    return this.#to.tag ?? (this.#inSet ? reference.toString() : undefined);
  }

  describe(reference: ImageReference): string {
    const name = this.#nameOf(reference);
    return name === undefined ? this.description : formatDestination({ kind: "oci", dir: this.#to.dir, tag: name });
  }

  find(reference: ImageReference, platform: Platform | undefined): Promise<Lookup> {
    const name = this.#nameOf(reference);
    return lookupStored(
      layoutReader(this.#to.dir),
      (entry) =>
        name !== undefined
          ? entry.annotations?.[REF_NAME_ANNOTATION] === name
          : reference.digest !== undefined && entry.digest === reference.digest,
      platform,
    );
  }

  /** A layout keeps what it holds. */
  keep(): Promise<boolean> {
    return Promise.resolve(true);
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
    const name = this.#nameOf(image.reference);
    if (name === undefined) return [];
    const before = taggedDigest(await readLayoutIndex(this.#to.dir), name);
    const after = image.resolved.root.descriptor.digest;
    if (before === undefined || before === after) return [];
    return [
      `${this.describe(image.reference)} named ${before}; it will name ${after} (${image.reference.familiar()}). The image it named before stays in the layout, untagged.`,
    ];
  }

  async commit(image: DestinationImage): Promise<void> {
    const { descriptor } = image.resolved.root;
    const name = this.#nameOf(image.reference);
    const annotations =
      name === undefined
        ? undefined
        : this.#inSet && this.#to.tag === undefined
          ? { [CONTAINERD_NAME_ANNOTATION]: name, [REF_NAME_ANNOTATION]: name }
          : { [REF_NAME_ANNOTATION]: name };
    await addToLayoutIndex(this.#to.dir, {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      ...(annotations === undefined ? {} : { annotations }),
    });
    this.#committed = true;
  }

  /** Each image's index entry was written at commit. */
  seal(): Promise<void> {
    return Promise.resolve();
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
