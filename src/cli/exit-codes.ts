/**
 * The one place that turns an outcome or an error into a process exit code.
 * Scripts branch on these numbers, so they are part of the CLI's contract.
 */
import { PullbackError, type ErrorKind } from "../errors.js";

export const ExitCode = {
  success: 0,
  other: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  unreachable: 5,
  fellBack: 6,
  platform: 7,
  /** The local filesystem refused a write: full, read-only, no permission, a directory in the way. */
  io: 8,
  /** The registry served content that fails verification (digest, size) or exceeds pullback's limits. */
  content: 9,
  /** A configuration file is malformed: the Docker config, a Docker context, registries.yaml. */
  config: 10,
  /** Interrupted (SIGINT or SIGTERM): 128 + SIGINT's number, as shells report it. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Every kind has its code: a new kind does not compile until it is given one. */
const BY_KIND: Readonly<Record<ErrorKind, ExitCodeValue>> = {
  usage: ExitCode.usage,
  reference: ExitCode.usage,
  auth: ExitCode.auth,
  credentials: ExitCode.auth,
  "not-found": ExitCode.notFound,
  "local-only": ExitCode.notFound,
  network: ExitCode.unreachable,
  registry: ExitCode.unreachable,
  "daemon-unreachable": ExitCode.unreachable,
  "rate-limited": ExitCode.unreachable,
  platform: ExitCode.platform,
  io: ExitCode.io,
  integrity: ExitCode.content,
  limit: ExitCode.content,
  config: ExitCode.config,
  other: ExitCode.other,
};

/** Commander's own usage errors carry a `code` starting with "commander.". */
export function isCommanderError(error: unknown): error is { code: string; exitCode: number; message: string } {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    (error as { code: string }).code.startsWith("commander.")
  );
}

/**
 * The exit code for a thrown value.
 *
 * @example
 * exitCodeFor(new PullbackError("auth", "refused")) // → 3
 */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (isCommanderError(error)) {
    // --help and --version end through the same path with exit code 0.
    return error.exitCode === 0 ? ExitCode.success : ExitCode.usage;
  }
  if (error instanceof PullbackError) return BY_KIND[error.kind];
  return ExitCode.other;
}

/**
 * The exit code after a successful pull: 0, or 6 when it fell back and the caller asked to fail on that.
 *
 * @example
 * exitCodeForOutcome({ fellBack: true }, { failOnFallback: true }) // → 6
 */
export function exitCodeForOutcome(outcome: { readonly fellBack: boolean }, options: { readonly failOnFallback: boolean }): ExitCodeValue {
  return outcome.fellBack && options.failOnFallback ? ExitCode.fellBack : ExitCode.success;
}

/** Items a set stopped, or left out of an archive, because another item failed: not failures of their own. */
const FOLLOW_ON_REASONS: ReadonlySet<string> = new Set(["cancelled", "not-written"]);

/** One image × host of a set, as far as the exit code cares. */
export type SetItemResult = { readonly ok: true; readonly fellBack: boolean } | { readonly ok: false; readonly error: PullbackError };

/**
 * The exit code of a set: 0 when every item is there; when items failed, the code their kinds share
 * (kinds that share a code, such as `network` and `registry`, count as one), else 1 for a mix.
 * Items `cancelled` or `not-written` because another failed do not count. With `--fail-on-fallback`,
 * 6 when nothing failed and any item came from the anonymous retry.
 *
 * @example
 * exitCodeForSet([{ ok: false, error: notFound }, { ok: false, error: cancelled }], { failOnFallback: false }) // → 4
 */
export function exitCodeForSet(items: readonly SetItemResult[], options: { readonly failOnFallback: boolean }): ExitCodeValue {
  const failures = items.flatMap((item) => (item.ok ? [] : [item.error]));
  if (failures.length === 0)
    return options.failOnFallback && items.some((item) => item.ok && item.fellBack) ? ExitCode.fellBack : ExitCode.success;
  const own = failures.filter((error) => !FOLLOW_ON_REASONS.has(error.reason ?? ""));
  // Only follow-on failures (the whole set was aborted): nothing names a kind.
  if (own.length === 0) return ExitCode.other;
  const [first, ...others] = new Set(own.map((error) => BY_KIND[error.kind]));
  return first !== undefined && others.length === 0 ? first : ExitCode.other;
}

/**
 * Whether an item failed only because another did (`cancelled`, `not-written`).
 *
 * @example
 * isFollowOnFailure(new PullbackError("other", "x", { reason: "cancelled" })) // → true
 */
export function isFollowOnFailure(error: { readonly reason?: string | undefined }): boolean {
  return FOLLOW_ON_REASONS.has(error.reason ?? "");
}
