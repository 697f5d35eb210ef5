/**
 * A registries.yaml may already hold a credential for a host, often written by hand.
 * It is pullback's to remove only when pullback verified that *it* is refused: a
 * different credential being refused (say, a stale one in ~/.docker/config.json)
 * says nothing about it. Every removal and every replacement is said out loud.
 */
import { Credential } from "../../credentials/credential.js";
import type { Verdict } from "../../registry/verify-credentials.js";
import type { CredentialDecision } from "./credential-decision.js";
import type { RegistriesConfig } from "./registries-config.js";

/** What becomes of `configs."host".auth`. */
export type AuthAction =
  { readonly kind: "write"; readonly credential: Credential } | { readonly kind: "keep" } | { readonly kind: "remove" };

/** The outcome for one host, the existing credential taken into account. */
export interface MergedDecision {
  readonly verdict: Verdict | "no-credentials";
  readonly auth: AuthAction;
  /** What happened to a credential that was already in the file. */
  readonly existing: "kept" | "replaced" | "removed" | undefined;
  readonly warnings: readonly string[];
  readonly explanation: string;
}

/**
 * The credential in `configs."authHost".auth`, as a Credential that can be verified;
 * undefined when there is none or it cannot be read as one (then it is left alone).
 *
 * @example
 * existingCredential(parsed.value, "ghcr.io", "/etc/rancher/k3s/registries.yaml")?.describe()
 * // → 'the credentials already in /etc/rancher/k3s/registries.yaml (configs."ghcr.io".auth)'
 */
export function existingCredential(config: RegistriesConfig | undefined, authHost: string, path: string): Credential | undefined {
  const auth = config?.configs[authHost]?.auth;
  if (auth === undefined) return undefined;
  const source = { type: "explicit" as const, label: `the credentials already in ${path} (configs.${JSON.stringify(authHost)}.auth)` };
  try {
    if (auth.identity_token) return Credential.identityToken(auth.identity_token, source, auth.username);
    if (auth.username !== undefined && auth.password !== undefined) return Credential.basic(auth.username, auth.password, source);
    if (auth.auth !== undefined) {
      const decoded = Buffer.from(auth.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) return Credential.basic(decoded.slice(0, colon), decoded.slice(colon + 1), source);
    }
  } catch {
    // A value Credential refuses (a line break, say) is not verifiable; leave it as written.
  }
  return undefined;
}

/**
 * Decide with the new credential (when given) and the one already in the file (when any).
 *
 * @example
 * const merged = await mergeDecision(plan.credential, existing, (c) => decideCredential({ ...options, credential: c }), { path, authHost });
 */
export async function mergeDecision(
  fresh: Credential | undefined,
  existing: Credential | undefined,
  decide: (credential: Credential) => Promise<CredentialDecision>,
  where: { readonly path: string; readonly authHost: string },
): Promise<MergedDecision> {
  const { path, authHost } = where;
  const freshDecision = fresh === undefined ? undefined : await decide(fresh);
  if (freshDecision?.include && fresh !== undefined) {
    const replaced = existing !== undefined && !sameCredential(existing, fresh);
    const note = replaced ? ` They replace the different credentials that were in ${path}.` : "";
    return {
      verdict: freshDecision.verdict,
      auth: { kind: "write", credential: fresh },
      existing: replaced ? "replaced" : existing === undefined ? undefined : "kept",
      warnings: [
        freshDecision.warning,
        replaced ? `${capitalize(existing.describe())} were replaced by ${fresh.describe()}.` : undefined,
      ].filter(isText),
      explanation: freshDecision.explanation + note,
    };
  }
  if (existing === undefined) {
    if (freshDecision === undefined)
      return {
        verdict: "no-credentials",
        auth: { kind: "remove" },
        existing: undefined,
        warnings: [],
        explanation: `No credentials for ${authHost}: nodes pull from it anonymously.`,
      };
    return {
      verdict: freshDecision.verdict,
      auth: { kind: "remove" },
      existing: undefined,
      warnings: [freshDecision.warning].filter(isText),
      explanation: freshDecision.explanation,
    };
  }
  // The one in the file is judged by its own verification only.
  const oldDecision = fresh !== undefined && sameCredential(existing, fresh) && freshDecision ? freshDecision : await decide(existing);
  const before = freshDecision?.refusal === undefined || oldDecision === freshDecision ? "" : `${freshDecision.refusal} `;
  if (oldDecision.include) {
    const verified = oldDecision.verdict === "accepted" ? "which the registry accepts" : "which could not be verified";
    return {
      verdict: oldDecision.verdict,
      auth: { kind: "keep" },
      existing: "kept",
      warnings: [
        ...(freshDecision === undefined ? [] : [`${before}pullback kept ${existing.describe()}, ${verified}.`]),
        ...(oldDecision.verdict === "unreachable" && oldDecision.warning ? [oldDecision.warning] : []),
      ],
      explanation: `${oldDecision.explanation} ${capitalize(existing.describe())} were kept.`,
    };
  }
  return {
    verdict: oldDecision.verdict,
    auth: { kind: "remove" },
    existing: "removed",
    warnings: [
      `${before}${oldDecision.refusal ?? `${capitalize(existing.describe())} were refused.`} pullback removed them from ${path}, so nodes will pull from ${authHost} anonymously.`,
    ],
    explanation: `${oldDecision.explanation} ${capitalize(existing.describe())} were refused, so they were removed.`,
  };
}

function sameCredential(a: Credential, b: Credential): boolean {
  return a.kind === b.kind && a.username === b.username && a.reveal() === b.reveal();
}

function isText(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
