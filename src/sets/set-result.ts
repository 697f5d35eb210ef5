/**
 * What one image of a set came to, on one host: the outcome or the error, and how long it took.
 * The shape every set function resolves to (ensureImages, pullRemoteImages, pullImages).
 */
import type { PullbackError } from "../errors.js";
import type { PullOutcome } from "../fallback/pull-outcome.js";

/**
 * One image × host of a set. Exactly one of `outcome` / `error` is set; `ok` tells which.
 *
 * @example
 * for (const item of await ensureImages(docker, refs)) console.log(item.image, item.ok ? item.outcome.image.digest : item.error.kind);
 */
export type ImageSetItem<Image> = ImageSetSuccess<Image> | ImageSetFailure;

interface ImageSetItemBase {
  /** The image as the caller named it (canonical reference where it parsed). */
  readonly image: string;
  /** The daemon host it went to (an SSH alias stays an alias); absent for one local daemon and for daemonless sets. */
  readonly host?: string | undefined;
  /** Wall time of this item, from its start to its end, in milliseconds. */
  readonly durationMs: number;
}

/**
 * The image is there.
 *
 * @example
 * if (item.ok) console.log(item.image, item.outcome.image.digest, item.outcome.fellBack);
 */
export interface ImageSetSuccess<Image> extends ImageSetItemBase {
  readonly ok: true;
  readonly outcome: PullOutcome<Image>;
}

/**
 * The image is not there. `error.reason` is `cancelled` for items the set stopped before they finished
 * (an abort, or an earlier failure without `keepGoing`).
 *
 * @example
 * if (!item.ok) console.error(item.image, item.error.kind, item.error.reason ?? "", item.error.message);
 */
export interface ImageSetFailure extends ImageSetItemBase {
  readonly ok: false;
  readonly error: PullbackError;
}
