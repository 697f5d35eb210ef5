/**
 * Error classification — the one place that decides what a pull failure means.
 * (Contract; implementation to follow.)
 */

/** What a failed pull attempt means for the fallback decision and for the user. */
export type FailureKind = "auth" | "not-found" | "rate-limited" | "network" | "registry" | "platform" | "other";

export interface Classification {
  readonly kind: FailureKind;
  /** The registry's own reason, short and secret-free ("denied", "incorrect username or password"). */
  readonly reason: string;
  /**
   * Docker Hub's "pull access denied …, repository does not exist or may require 'docker login'":
   * an auth failure for deciding a fallback, a not-found when the anonymous retry says the same.
   */
  readonly ambiguousNotFound: boolean;
}
