/**
 * Many images, one daemonless destination: every image of a set into one OCI
 * layout (each named by its reference, blobs shared between images stored and
 * fetched once) or one docker-archive (written once, with every image, when the
 * set is done). The same story as pullImage for each image; one SharedRun for
 * the set, so credentials, tokens and refusal warnings are shared.
 */
import { setMaxListeners } from "node:events";
import { PullbackError, isPullbackError } from "../../errors.js";
import type { PullDestination } from "../../reference/destination.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { cancelledError, notWrittenError } from "../../sets/cancelled.js";
import { runImageSet } from "../../sets/run-image-set.js";
import type { ImageSetItem } from "../../sets/set-result.js";
import { SharedRun } from "../../sets/shared-run.js";
import { checkPullImages } from "../../validation/entry-points.js";
import { isResumableFailure, type ImageDestination } from "./image-destination.js";
import { openDestination } from "./open-destination.js";
import { pullInto, type PullImageOptions } from "./pull-image.js";
import type { OciPulledImage } from "./pulled-image.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";

/** Images at once when the caller does not say. */
export const DEFAULT_JOBS = 4;

/**
 * Options of pullImages: those of pullImage (applied to every image), plus how many images at once,
 * whether to go on after a failure, and a signal that cancels the set.
 *
 * @example
 * await pullImages(["nginx:1.27", "redis:7"], { to: "docker-archive:bundle.tar", jobs: 2, keepGoing: true });
 */
export interface PullImagesOptions extends Omit<PullImageOptions, "to"> {
  /**
   * "oci:DIR" (each image named by its full reference, e.g. `oci:DIR:docker.io/library/nginx:1.27` for skopeo)
   * or "docker-archive:FILE" (one archive holding every image). `oci:DIR:TAG` takes one image only.
   */
  readonly to: PullDestination | string;
  /** Images pulled at once, 1–64; default 4. Each image fetches up to `concurrency` blobs at once. */
  readonly jobs?: number | undefined;
  /**
   * Default false: after the first failure no new image starts (the rest end `cancelled`) and a
   * docker-archive is not written (images pulled end `not-written`). True: every image is tried and
   * the archive holds those that succeeded.
   */
  readonly keepGoing?: boolean | undefined;
  /** Cancels the whole set: no archive is written; a layout keeps what was committed and every stored blob. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Pull every image of `refs` into one OCI layout or one docker-archive, with no daemon.
 * Resolves to one item per reference, in order; never rejects for an image's failure
 * (only for bad input, before any request or file is touched).
 *
 * @example
 * const items = await pullImages(["ghcr.io/o/api:1", "ghcr.io/o/web:1"], { to: "oci:./images" });
 * for (const item of items) console.log(item.image, item.ok ? item.outcome.image.destination : item.error.message);
 */
export async function pullImages(
  refs: readonly (string | ImageReference)[],
  options: PullImagesOptions,
): Promise<ImageSetItem<OciPulledImage>[]> {
  const { references, to } = checkPullImages(refs, options);
  const destination = openDestination(to, {
    allPlatforms: options.allPlatforms === true,
    replace: options.replace === true,
    set: references,
  });
  if (references.length === 0) return [];
  // Cancelled before it began: nothing is created or asked.
  if (options.signal?.aborted)
    return references.map((reference) => ({ ok: false, image: reference.toString(), error: cancelledError(), durationMs: 0 }));
  const started = Date.now();
  try {
    return await destination.exclusive(() => pullSet(destination, references, options));
  } catch (error) {
    // The destination could not be locked or prepared: every image fails with that.
    const failure = isPullbackError(error) ? error : new PullbackError("io", String(error), { cause: error });
    return references.map((reference) => ({ ok: false, image: reference.toString(), error: failure, durationMs: Date.now() - started }));
  }
}

async function pullSet(
  destination: ImageDestination,
  references: readonly ImageReference[],
  options: PullImagesOptions,
): Promise<ImageSetItem<OciPulledImage>[]> {
  await destination.prepare();
  const run = new SharedRun();
  const jobs = options.jobs ?? DEFAULT_JOBS;
  const items = await runImageSet(
    references.map((reference) => ({ image: reference.toString(), reference })),
    (job, signal): Promise<PullOutcome<OciPulledImage>> => {
      // The set's signal is heard by every image running (one listener each): its limit is the set's size.
      setMaxListeners(jobs + 8, signal);
      const onEvent = run.listenerFor(options.onEvent, { image: job.image });
      return pullInto(run, destination, job.reference, options, { onEvent, signal });
    },
    { jobs, keepGoing: options.keepGoing === true, signal: options.signal },
  ).finally(() => run.close());
  return finish(destination, items, options);
}

/**
 * Seal the destination with what succeeded, or not at all: an abort, or a failure without keepGoing,
 * writes no archive (its images end `not-written`); a layout shows each image from its commit on.
 */
async function finish(
  destination: ImageDestination,
  items: ImageSetItem<OciPulledImage>[],
  options: PullImagesOptions,
): Promise<ImageSetItem<OciPulledImage>[]> {
  const failures = items.flatMap((item) => (item.ok ? [] : [item]));
  const cause = failures.find((item) => item.error.reason !== "cancelled") ?? failures[0];
  const aborted = options.signal?.aborted === true;
  if (aborted || (cause !== undefined && options.keepGoing !== true)) {
    const why = aborted ? "the set was cancelled" : `${cause?.image ?? "another image"} failed`;
    await destination.discard(aborted ? cancelledError() : resumableFirst(failures));
    return destination.writesAtSeal ? items.map((item) => (item.ok ? notWritten(destination, item, why) : item)) : items;
  }
  try {
    await destination.seal();
  } catch (error) {
    await destination.discard(error);
    return items.map((item) =>
      item.ok && destination.writesAtSeal
        ? { ...item, ok: false, error: isPullbackError(error) ? error : new PullbackError("io", String(error), { cause: error }) }
        : item,
    );
  }
  if (failures.length === items.length) await destination.discard(resumableFirst(failures));
  return items;
}

function notWritten(destination: ImageDestination, item: ImageSetItem<OciPulledImage>, why: string): ImageSetItem<OciPulledImage> {
  return { image: item.image, durationMs: item.durationMs, ok: false, error: notWrittenError(destination.description, why) };
}

/** What the destination's discard judges by: a failure a later run could resume keeps what was stored. */
function resumableFirst(failures: readonly { readonly error: PullbackError }[]): PullbackError | undefined {
  return (failures.find((failure) => isResumableFailure(failure.error)) ?? failures[0])?.error;
}
