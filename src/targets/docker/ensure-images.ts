/**
 * ensureImages — a set of images into one Docker daemon: ensureImage for each, at most
 * `jobs` at once, credentials chosen and refusals warned about once per registry, one
 * result per image instead of a throw at the first failure.
 */
import { runImageSet } from "../../sets/run-image-set.js";
import type { ImageSetItem } from "../../sets/set-result.js";
import { SharedRun } from "../../sets/shared-run.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { checkEnsureImages } from "../../validation/entry-points.js";
import type { DockerConnection } from "./connect-docker.js";
import type { DaemonImage } from "./daemon-pull.js";
import { ensureImageIn, type EnsureImageOptions } from "./ensure-image.js";

/**
 * Options of ensureImages: those of ensureImage (but `tagAs`, which names one image), and how the set runs.
 *
 * @example
 * await ensureImages(docker, refs, { jobs: 8, keepGoing: true, signal: AbortSignal.timeout(600_000) });
 */
export interface EnsureImagesOptions extends Omit<EnsureImageOptions, "tagAs"> {
  /** Images at once, an integer from 1 to 64; default 4. */
  readonly jobs?: number;
  /** Default false: after the first failure no new image starts; the rest end `cancelled`. */
  readonly keepGoing?: boolean;
  /** Cancels the whole set: running pulls are stopped, the rest end `cancelled`. */
  readonly signal?: AbortSignal;
}

/**
 * Make sure every image of `refs` is in the daemon's store, like ensureImage for each. Resolves
 * to one item per reference, in order, with its outcome or its error; rejects only for bad input,
 * before anything is asked of the daemon. Every event carries its `image`; a refused credential
 * is warned about once per registry and credential source.
 *
 * @example
 * const docker = await connectDocker();
 * try {
 *   const items = await ensureImages(docker, ["ghcr.io/acme/app:1", "ghcr.io/acme/worker:1"], { keepGoing: true });
 *   for (const item of items) console.log(item.image, item.ok ? item.outcome.image.digest : item.error.message);
 * } finally { docker.close() }
 */
export async function ensureImages(
  docker: DockerConnection,
  refs: readonly (string | ImageReference)[],
  options: EnsureImagesOptions = {},
): Promise<ImageSetItem<DaemonImage>[]> {
  const { references, jobs, keepGoing } = checkEnsureImages(docker, refs, options);
  const run = new SharedRun();
  const targets = references.map((reference, index) => {
    const given = refs[index];
    return { reference, input: typeof given === "string" ? given : reference.toString(), image: reference.toString() };
  });
  return runImageSet(
    targets,
    (target, signal) =>
      ensureImageIn(run, docker, target, {
        ...options,
        signal,
        onEvent: run.listenerFor(options.onEvent, { image: target.image }),
      }),
    { jobs, keepGoing, signal: options.signal },
  );
}
