/**
 * One error family for the whole library: `PullbackError` with a closed set of
 * kinds. Subclasses (PullError, RegistryResponseError, DaemonResponseError)
 * only add data; the kind, diagnosis and reason mean the same on every one.
 *
 * Every message is built from redacted material only: callers pass URLs through
 * `redactUrl` and never put a secret into a message, so an error can be printed,
 * logged or serialized as it is.
 */

/**
 * What went wrong, in the terms a user acts on. Closed: add a kind here, never ad hoc.
 *
 * @example
 * if (error instanceof PullbackError && error.kind === "auth") console.error("check the token");
 */
export type ErrorKind =
  | "usage" // the caller asked for something malformed (bad flag, bad option)
  | "reference" // an image reference that does not parse
  | "credentials" // a credential source is broken (helper crashed, config unreadable)
  | "auth" // the registry refused the credentials, or anonymous access
  | "not-found" // repository, tag or digest does not exist
  | "rate-limited" // 429 / toomanyrequests
  | "network" // DNS, TCP, TLS, timeout, reset
  | "registry" // the registry answered 5xx or something that breaks the protocol
  | "platform" // no matching platform, or architecture mismatch
  | "daemon-unreachable" // the Docker daemon cannot be reached
  | "local-only" // a locally built image that is missing; pulling cannot help
  | "config" // a config file (registries.yaml, docker config) is malformed
  | "integrity" // a blob whose digest or size differs from what was promised
  | "limit" // a response larger or deeper than we accept
  | "io" // the local filesystem refused a write
  | "other";

/**
 * One recovery step: what to do, and the command that does it where one fits.
 *
 * @example
 * for (const step of error.diagnosis?.steps ?? []) console.error(step.command ? `${step.text}: ${step.command}` : step.text);
 */
export interface RecoveryStep {
  readonly text: string;
  readonly command?: string;
}

/**
 * What a person needs to fix a failure: a summary, the why, and numbered steps.
 *
 * @example
 * const { summary, steps, retryable } = pullError.diagnosis;
 */
export interface Diagnosis {
  readonly summary: string;
  readonly explanation: string;
  readonly steps: readonly RecoveryStep[];
  /** Whether running the same thing again, unchanged, could succeed (outages, rate limits). */
  readonly retryable: boolean;
}

export interface PullbackErrorOptions {
  readonly cause?: unknown;
  readonly diagnosis?: Diagnosis | undefined;
  /** A stable, machine-readable refinement of `kind` ("tls-unknown-ca", "proxy-unreachable", "disk-full", …). */
  readonly reason?: string | undefined;
}

/**
 * The error every pullback function throws.
 *
 * @example
 * try { parseReference("UPPER") } catch (e) { if (e instanceof PullbackError && e.kind === "reference") … }
 */
export class PullbackError extends Error {
  override readonly name: string = "PullbackError";
  readonly kind: ErrorKind;
  readonly diagnosis: Diagnosis | undefined;
  /** A stable refinement of `kind` for scripts (`--json` carries it); undefined where the kind says all. */
  readonly reason: string | undefined;

  constructor(kind: ErrorKind, message: string, options: PullbackErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.diagnosis = options.diagnosis;
    this.reason = options.reason;
  }
}

/**
 * True when `error` is a PullbackError, optionally of one of the given kinds.
 *
 * @example
 * if (isPullbackError(error, "rate-limited", "network")) scheduleRetry();
 */
export function isPullbackError(error: unknown, ...kinds: ErrorKind[]): error is PullbackError {
  return error instanceof PullbackError && (kinds.length === 0 || kinds.includes(error.kind));
}

/** The text of any thrown value, for wrapping foreign errors into ours. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : (JSON.stringify(error) ?? String(error));
}

/** Redaction lives with the rest of the user-text rules; re-exported for the modules that import it from here. */
export { redactUrl } from "./text/user-text.js";
