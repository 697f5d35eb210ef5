/**
 * The pull policy (`missing`/`never`) at a daemonless destination: the destination
 * says whether it already holds the image (for the platform asked for); this module
 * turns that into an outcome with no attempt and no registry request.
 */
import type { Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { decidePull, type PullPolicy } from "../../pull-policy.js";
import type { ImageDestination } from "./image-destination.js";
import type { OciPulledImage } from "./pulled-image.js";

/**
 * The outcome of using what `destination` holds, or undefined when the registry must be asked.
 * `never` without a usable image throws `not-found`.
 *
 * @example
 * const present = await usePresentImage(destination, ref, "missing", undefined);
 * if (present) return present;
 */
export async function usePresentImage(
  destination: ImageDestination,
  reference: ImageReference,
  policy: PullPolicy,
  platform: Platform | undefined,
): Promise<PullOutcome<OciPulledImage> | undefined> {
  if (policy === "always") return undefined;
  const where = destination.describe(reference);
  const found = await destination.find(reference, platform);
  if (decidePull(policy, found.presence, { image: reference.familiar(), where }) === "pull" || found.stored === undefined) return undefined;
  if (!(await destination.keep(reference))) return undefined;
  const image: OciPulledImage = { reference: reference.toString(), ...found.stored, destination: where };
  return { image, attempts: [], warnings: [], fellBack: false };
}
