/**
 * The one fallback policy every pull path shares: try with the credential, and
 * when — and only when — the registry refused it, try once more anonymously.
 */
import type { Credential } from "../credentials/credential.js";
import { PullbackError } from "../errors.js";
import { emit, type AttemptIdentity, type PullEventListener } from "../events.js";
import { userText } from "../text/user-text.js";
import { classifyPullError, type Classification } from "./classification.js";
import { diagnosePullFailure, refusedBy } from "./diagnose.js";
import { PullError, type PullAttempt, type PullOutcome } from "./pull-outcome.js";
import { checkPullWithFallback } from "../validation/entry-points.js";

/**
 * What the fallback policy needs to know about the pull it wraps.
 *
 * @example
 * await pullWithFallback(attempt, { image: "ghcr.io/acme/app:1", registry: "ghcr.io", credential, fallback: false });
 */
export interface FallbackOptions {
  /** The image as the user wrote it or as it is canonically named; used in events and messages. */
  readonly image: string;
  /** The registry host, named in warnings and diagnoses. */
  readonly registry: string;
  readonly credential: Credential | undefined;
  /** `false` turns the anonymous retry off. Default true. */
  readonly fallback?: boolean | undefined;
  readonly onEvent?: PullEventListener | undefined;
  /** The remote host a pull runs on, carried by events of the SSH path. */
  readonly host?: string | undefined;
}

/**
 * What every pull function lets its caller choose about the fallback: compose it, don't re-declare it.
 *
 * @example
 * export interface MyTargetOptions extends FallbackChoiceOptions { readonly dir: string }
 */
export interface FallbackChoiceOptions {
  /** `false` turns the anonymous retry off. Default true. */
  readonly fallback?: boolean | undefined;
  /** Receives every PullEvent of the pull. */
  readonly onEvent?: PullEventListener | undefined;
}

/**
 * The fallback options every target builds the same way: the image by its canonical name, its
 * registry, the chosen credential, and the caller's `fallback`/`onEvent` passed straight through.
 *
 * @example
 * await pullWithFallback(attempt, fallbackOptionsFor(reference, credential, options, docker.remoteHost));
 */
export function fallbackOptionsFor(
  reference: { readonly registry: string; toString(): string },
  credential: Credential | undefined,
  options: FallbackChoiceOptions,
  host?: string,
): FallbackOptions {
  return {
    image: reference.toString(),
    registry: reference.registry,
    credential,
    fallback: options.fallback,
    onEvent: options.onEvent,
    host,
  };
}

/**
 * One try: pull with this credential (undefined = anonymous).
 *
 * @example
 * const attempt: PullAttemptFn<{ digest?: string }> = async (credential) => myTarget.pull(ref, credential);
 */
export type PullAttemptFn<Image> = (credential: Credential | undefined, attempt: number) => Promise<Image>;

/**
 * Run `pull` with the fallback policy.
 *
 * @example
 * const outcome = await pullWithFallback((cred) => daemon.pull(ref, cred), {
 *   image: ref.toString(), registry: ref.registry, credential,
 *   onEvent: (e) => e.type === "warning" && console.warn(e.message),
 * });
 */
export async function pullWithFallback<
  Image extends { readonly digest?: string | undefined; readonly alreadyPresent?: boolean | undefined },
>(pull: PullAttemptFn<Image>, options: FallbackOptions): Promise<PullOutcome<Image>> {
  checkPullWithFallback(pull, options);
  const attempts: PullAttempt[] = [];
  const classifications: Classification[] = [];
  const warnings: string[] = [];
  const plan: (Credential | undefined)[] = [options.credential];

  for (let index = 0; index < plan.length; index++) {
    const credential = plan[index];
    const attempt = index + 1;
    const identity = identityOf(credential);
    emit(options.onEvent, { type: "attempt-started", attempt, image: options.image, identity, host: options.host });
    try {
      const image = await pull(credential, attempt);
      attempts.push({ attempt, identity, succeeded: true });
      emit(options.onEvent, {
        type: "done",
        image: options.image,
        digest: image.digest,
        upToDate: image.alreadyPresent === true ? true : undefined,
        host: options.host,
      });
      return { image, attempts, warnings, fellBack: attempt > 1 };
    } catch (error) {
      const classification = classifyPullError(error);
      classifications.push(classification);
      const message = userText(error instanceof Error ? error.message : classification.reason);
      attempts.push({
        attempt,
        identity,
        succeeded: false,
        failure: { kind: classification.kind, reason: classification.reason, message },
      });
      const retry = shouldRetryAnonymously(classification, credential, options);
      const reason = error instanceof PullbackError ? error.reason : undefined;
      emit(options.onEvent, {
        type: "attempt-failed",
        attempt,
        kind: classification.kind,
        reason,
        message,
        willRetryAnonymously: retry,
        host: options.host,
      });
      if (retry && credential) {
        const warning = refusedWarning(credential, options.registry, classification.reason);
        warnings.push(warning);
        emit(options.onEvent, {
          type: "warning",
          code: "credentials-refused",
          message: warning,
          host: options.host,
          registry: options.registry,
          source: credential.describe(),
        });
        plan.push(undefined);
        continue;
      }
      throw finalError(error, classifications, attempts, options);
    }
  }
  // The loop always returns or throws; this satisfies the type checker.
  throw new PullbackError("other", "unreachable: fallback plan exhausted without a result");
}

/** Retry anonymously only on a refused credential: never on not-found, rate limits, outages, or when nobody was named. */
function shouldRetryAnonymously(classification: Classification, credential: Credential | undefined, options: FallbackOptions): boolean {
  return credential !== undefined && options.fallback !== false && classification.anonymousRetry.allowed;
}

function identityOf(credential: Credential | undefined): AttemptIdentity {
  return credential ? { anonymous: false, source: credential.describe() } : { anonymous: true };
}

function refusedWarning(credential: Credential, registry: string, reason: string): string {
  return `${refusedBy(credential.describe(), registry)}: ${reason}; pulling anonymously instead. Fix or remove them so later pulls of private images work.`;
}

/**
 * The last attempt decides the kind, as it arose: an `io` failure stays `io`, an `integrity`
 * failure stays `integrity`. An error that arrives with its own diagnosis or reason (a TLS
 * failure, a full disk) keeps them. A refusal the registry also gives for a missing repository
 * is said to be exactly that — unless an attempt was refused for wrong credentials.
 */
function finalError(error: unknown, classifications: Classification[], attempts: PullAttempt[], options: FallbackOptions): PullError {
  const last = classifications.at(-1) ?? classifyPullError(error);
  const ambiguous = last.ambiguousNotFound && classifications.every((c) => c.kind !== "auth" || c.ambiguousNotFound);
  const classification: Classification = { ...last, ambiguousNotFound: ambiguous };
  const inner = error instanceof PullbackError ? error : undefined;
  const diagnosis =
    inner?.diagnosis ??
    diagnosePullFailure({
      classification,
      attempts,
      image: options.image,
      registry: options.registry,
      credentialSource: options.credential?.describe(),
      fallbackDisabled: options.fallback === false,
    });
  const reason = inner?.reason ?? (ambiguous ? "not-found-or-denied" : undefined);
  return new PullError(`${diagnosis.summary}: ${attempts.at(-1)?.failure?.message ?? last.reason}`, {
    classification,
    attempts,
    diagnosis,
    cause: error,
    reason,
  });
}
