/**
 * The one contract a daemonless pull writes through, in the spirit of
 * containers/image's ImageDestination and go-containerregistry's layout.Path:
 * check the destination before any request, accept (or refuse) the image once
 * its manifests and config are known, store blobs, commit atomically — or
 * discard what a failed run cannot reuse. pull-image.ts tells one story for
 * every destination; a new destination is one new file and one line in
 * open-destination.ts.
 */
import type { ErrorKind } from "../../errors.js";
import { isPullbackError } from "../../errors.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { BlobStore } from "./blob-store.js";
import type { ResolvedImage } from "./resolve-image.js";

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
}

/**
 * One place images go.
 *
 * @example
 * await destination.prepare();
 * const warnings = await destination.admit(image);
 */
export interface ImageDestination {
  /** "oci:DIR:TAG" or "docker-archive:FILE", as the user wrote it. */
  readonly description: string;
  /** Where blobs are stored, verified, and resumed from. Usable after `prepare`. */
  readonly blobs: BlobStore;
  /** Before any request, inside `exclusive`: can this destination take an image at all (path, type, permissions)? */
  prepare(): Promise<void>;
  /**
   * Once the manifests and config are known, before any layer: refuse the image or say what
   * committing it will change. Returns warnings for the user ("the tag moves from … to …").
   */
  admit(image: DestinationImage): Promise<readonly string[]>;
  /** Every blob is stored: make the image visible, atomically. */
  commit(image: DestinationImage): Promise<void>;
  /**
   * Runs the whole pull while holding what this destination's writers must not share
   * (a docker-archive's staging area); a layout locks per blob and per index update instead.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** The pull failed with `error`: remove what a later run cannot reuse. Never throws. */
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
