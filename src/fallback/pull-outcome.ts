/**
 * What a pull returns or throws, the same for every target.
 */
import { PullbackError, type Diagnosis, type ErrorKind } from "../errors.js";
import type { AttemptIdentity } from "../events.js";
import type { Classification } from "./classification.js";

/**
 * One try at pulling: as whom, and how it ended. Never holds a secret.
 *
 * @example
 * for (const a of outcome.attempts) console.log(a.attempt, a.succeeded, a.failure?.reason);
 */
export interface PullAttempt {
  readonly attempt: number;
  readonly identity: AttemptIdentity;
  readonly succeeded: boolean;
  /** Present when the attempt failed. */
  readonly failure?: AttemptFailure;
}

/**
 * How an attempt failed: its kind, the registry's own words (`reason`) and the message.
 *
 * @example
 * if (attempt.failure?.kind === "auth") console.log(attempt.failure.reason);
 */
export interface AttemptFailure {
  readonly kind: ErrorKind;
  /** The registry's own words, short and secret-free ("denied: requested access to the resource is denied"). */
  readonly reason: string;
  readonly message: string;
}

/**
 * A successful pull: the image, every attempt made, and warnings the user must see.
 *
 * @example
 * const { image, fellBack, warnings } = await ensureImage(docker, "ghcr.io/acme/app:1");
 * if (fellBack) warnings.forEach((w) => console.warn(w));
 */
export interface PullOutcome<Image> {
  readonly image: Image;
  readonly attempts: readonly PullAttempt[];
  /** Human sentences; a fallback always adds one naming the registry, the credential source and the reason. */
  readonly warnings: readonly string[];
  /** True when the image came from an anonymous retry after the credentials were refused. */
  readonly fellBack: boolean;
}

/**
 * Every attempt failed: the kind of the last one (as it arose — `io`, `integrity`, `auth` …),
 * its reason and diagnosis, all attempts, and the classification that decided the fallback.
 *
 * @example
 * try { await pullImage(ref, { to }) } catch (e) {
 *   if (e instanceof PullError) console.error(e.kind, e.attempts.length, e.diagnosis.steps);
 * }
 */
export class PullError extends PullbackError {
  override readonly name = "PullError";
  readonly attempts: readonly PullAttempt[];
  readonly classification: Classification;
  override readonly diagnosis: Diagnosis;

  constructor(
    message: string,
    details: {
      classification: Classification;
      attempts: readonly PullAttempt[];
      diagnosis: Diagnosis;
      cause: unknown;
      reason?: string | undefined;
    },
  ) {
    super(details.classification.kind, message, { cause: details.cause, diagnosis: details.diagnosis, reason: details.reason });
    this.classification = details.classification;
    this.attempts = details.attempts;
    this.diagnosis = details.diagnosis;
  }
}
