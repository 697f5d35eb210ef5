/**
 * When to ask the registry: docker's `--pull missing|always|never`, one policy for
 * every path (local daemon, daemon over SSH, daemonless). Each path says whether
 * the image is already at its destination; this module decides what that means.
 */
import { PullbackError } from "./errors.js";

/**
 * - `always`: resolve the reference against the registry every time and fetch what changed
 *   (what `docker pull` does: one manifest request when nothing did; the credentials are
 *   checked on every run, so a fallback or a refusal is never hidden by an earlier pull).
 * - `missing`: use the image when it is there (for the platform asked for), pull it otherwise
 *   (`docker run --pull missing`).
 * - `never`: use the image when it is there, fail when it is not; no registry request.
 *
 * @example
 * await ensureImage(docker, "ghcr.io/acme/app:1", { pull: "always" });
 */
export type PullPolicy = "missing" | "always" | "never";

/** Every policy, in the order help texts list them. */
export const PULL_POLICIES: readonly PullPolicy[] = ["missing", "always", "never"];

/**
 * Check a policy given as text (a flag, a config value).
 *
 * @example
 * parsePullPolicy("always") // → "always"
 * parsePullPolicy("newer")  // throws PullbackError "usage"
 */
export function parsePullPolicy(value: string): PullPolicy {
  const policy = PULL_POLICIES.find((p) => p === value);
  if (policy === undefined)
    throw new PullbackError("usage", `--pull must be one of ${PULL_POLICIES.join(", ")}, not ${JSON.stringify(value)}`);
  return policy;
}

/** What a destination holds under the image's name. */
export type Presence =
  | { readonly state: "absent" }
  /** There, but for another platform than the one asked for. */
  | { readonly state: "other-platform"; readonly platform: string }
  | { readonly state: "present" };

/**
 * Whether to go to the registry. `never` with no usable image throws `not-found` (exit 4).
 *
 * @example
 * decidePull("missing", { state: "present" }, { image: "ghcr.io/acme/app:1", where: "the local daemon" }) // → "use-present"
 */
export function decidePull(
  policy: PullPolicy,
  presence: Presence,
  what: { readonly image: string; readonly where: string },
): "use-present" | "pull" {
  if (policy === "always") return "pull";
  if (presence.state === "present") return "use-present";
  if (policy === "missing") return "pull";
  throw neverError(presence, what);
}

function neverError(presence: Presence, what: { readonly image: string; readonly where: string }): PullbackError {
  const there = presence.state === "other-platform" ? `holds ${what.image} only for ${presence.platform}` : `does not hold ${what.image}`;
  const summary = `${capitalize(what.where)} ${there}, and --pull never forbids fetching it`;
  return new PullbackError("not-found", summary, {
    reason: "pull-never",
    diagnosis: {
      summary,
      explanation: 'With the pull policy "never" pullback uses only what is already there and sends no request to the registry.',
      steps: [
        { text: "Allow a pull when the image is missing (the default for ensureImage): --pull missing" },
        { text: "Or fetch it first, then run again" },
      ],
      retryable: false,
    },
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
