/**
 * The two ways an image of a set ends without a failure of its own: cancelled
 * (an abort, or an earlier failure without keepGoing, before it finished) and
 * not written (it was pulled, but the destination that holds the set was not
 * written because another image failed). Callers deciding an exit code leave
 * both out: they are consequences, not causes.
 */
import { PullbackError } from "../errors.js";

/**
 * An item the caller cancelled: kind `other`, reason `cancelled` (docker says "context canceled").
 *
 * @example
 * if (signal.aborted) throw cancelledError("cancelled before it finished", signal.reason);
 */
export function cancelledError(message = "cancelled before it finished", cause?: unknown): PullbackError {
  return new PullbackError("other", message, { reason: "cancelled", cause });
}

/**
 * An image that was pulled but is not in the destination, because of `why` ("public/b:1 failed").
 *
 * @example
 * notWrittenError("docker-archive:bundle.tar", "public/b:1 failed")
 */
export function notWrittenError(destination: string, why: string, cause?: unknown): PullbackError {
  return new PullbackError("other", `pulled, but not written to ${destination}: ${why}`, { reason: "not-written", cause });
}

/**
 * True for the items of a set that ended because of another (`cancelled`, `not-written`).
 *
 * @example
 * const causes = failures.filter((error) => !isConsequence(error));
 */
export function isConsequence(error: PullbackError): boolean {
  return error.reason === "cancelled" || error.reason === "not-written";
}
