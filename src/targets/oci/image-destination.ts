/**
 * The one contract a daemonless pull writes through, in the spirit of
 * containers/image's ImageDestination and go-containerregistry's layout.Path:
 * check the destination before any request, accept (or refuse) each image once
 * its manifests and config are known, store blobs, commit each image, seal once
 * every image of the run is in — or discard what a failed run cannot reuse.
 * One image is a set of one: pull-image.ts and pull-images.ts tell the same
 * story for every destination; a new destination is one new file and one line
 * in open-destination.ts.
 */
import type { ErrorKind } from "../../errors.js";
import { isPullbackError } from "../../errors.js";
import type { Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { BlobStore } from "./blob-store.js";
import type { ResolvedImage } from "./resolve-image.js";
import type { Lookup } from "./stored-image.js";

/** The image a destination receives: its manifests as the registry served them, and its name. */
export interface DestinationImage {
  readonly resolved: ResolvedImage;
  readonly reference: ImageReference;
}

/** How the pull wants the destination to behave. */
export interface DestinationOptions {
  /** Keep a whole multi-platform index (only destinations that can hold one accept it). */
  readonly allPlatforms: boolean;
  /** Replace an existing destination that holds another image, where that loses data. */
  readonly replace: boolean;
  /**
   * The images of a set (pullImages): each is named in the destination by its full reference.
   * Absent for one image (pullImage), named as the destination says (`oci:DIR:TAG`, or by digest only).
   */
  readonly set?: readonly ImageReference[] | undefined;
}

/**
 * One place images go: one image, or every image of a set.
 *
 * @example
 * await destination.exclusive(async () => {
 *   await destination.prepare();
 *   for (const image of images) { await destination.admit(image); ...; await destination.commit(image); }
 *   await destination.seal();
 * });
 */
export interface ImageDestination {
  /** "oci:DIR:TAG" or "docker-archive:FILE", as the user wrote it. */
  readonly description: string;
  /** Where blobs are stored, verified, and resumed from. Usable after `prepare`; shared by every image of a set. */
  readonly blobs: BlobStore;
  /** True when images become visible only at `seal` (an archive); a layout shows each image from its commit on. */
  readonly writesAtSeal: boolean;
  /** Where one image is found in this destination: "oci:DIR:REF" for an image of a set in a layout, else `description`. */
  describe(reference: ImageReference): string;
  /** Whether the destination already holds the image (for `platform`, when asked for); reads small files only. */
  find(reference: ImageReference, platform: Platform | undefined): Promise<Lookup>;
  /**
   * The pull policy uses the image `find` found: it stays in what `seal` writes (an archive carries it
   * over). False when it cannot be kept as it is (then it is pulled).
   */
  keep(reference: ImageReference): Promise<boolean>;
  /** Before any request, inside `exclusive`, once per run: can this destination take an image at all (path, type, permissions)? */
  prepare(): Promise<void>;
  /**
   * Once the manifests and config are known, before any layer: refuse the image or say what
   * committing it will change. Returns warnings for the user ("the tag moves from … to …").
   */
  admit(image: DestinationImage): Promise<readonly string[]>;
  /**
   * Every blob of the image is stored: a layout names it in its index at once, atomically;
   * an archive holds it for `seal`.
   */
  commit(image: DestinationImage): Promise<void>;
  /**
   * Every image of the run that is to be written is committed: write what holds them all, atomically
   * (an archive: one file with every committed and kept image). Nothing committed or kept: nothing is written.
   */
  seal(): Promise<void>;
  /**
   * Runs the whole pull while holding what this destination's writers must not share
   * (a docker-archive's staging area); a layout locks per blob and per index update instead.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** The run failed with `error` (and seals nothing): remove what a later run cannot reuse. Never throws. */
  discard(error: unknown): Promise<void>;
}

/** Failures after which the same command may succeed and reuse what was stored (partial and complete blobs). */
const RESUMABLE: ReadonlySet<ErrorKind> = new Set(["network", "rate-limited", "registry", "integrity", "other", "daemon-unreachable"]);

/**
 * True when a later run could reuse the blobs this one stored: outages, broken transfers, a full disk.
 *
 * @example
 * if (!isResumableFailure(error)) await rm(stagingDir, { recursive: true, force: true });
 */
export function isResumableFailure(error: unknown): boolean {
  if (!isPullbackError(error)) return true;
  if (error.kind === "io") return error.reason === "disk-full";
  const last = error.cause !== undefined && isPullbackError(error.cause) && error.name === "PullError" ? error.cause : error;
  return RESUMABLE.has(last.kind);
}
