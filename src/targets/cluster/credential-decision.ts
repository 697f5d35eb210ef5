/**
 * Whether a cluster may be given a credential: ask the registry first, then
 * decide. Shared by registries.yaml and Kubernetes pull secrets, so both follow
 * one rule — a credential the registry refused is never handed to the nodes,
 * because on k3s a refused credential breaks every pull from that host,
 * public images included.
 */
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import type { TlsOptions } from "../../registry/trust.js";
import { verifyCredentials, type Verdict, type Verification } from "../../registry/verify-credentials.js";

/** The verifier; injectable so unit tests can decide verdicts without a registry. */
export type VerifyCredentialsFunction = typeof verifyCredentials;

export interface CredentialDecision {
  /** The host the verdict is about (the one that receives the credential). */
  readonly authHost: string;
  readonly verdict: Verdict | "no-credentials";
  /** Whether the credential goes into the output. */
  readonly include: boolean;
  /** Set when the user must know something: refused, or unverified. Never holds a secret. */
  readonly warning?: string;
  /** For a refusal: the sentence saying who refused what, without the consequence (for callers that merge). */
  readonly refusal?: string;
  readonly explanation: string;
}

export interface DecideOptions {
  readonly authHost: string;
  readonly credential: Credential | undefined;
  /** Repositories to verify pull access to; none: verify like `docker login`. */
  readonly repositories: readonly string[];
  readonly insecure: boolean;
  readonly strict: boolean;
  readonly verify: VerifyCredentialsFunction | undefined;
  /** The trust the nodes will use (registries.yaml `tls`); verification uses the same. */
  readonly tls?: TlsOptions | undefined;
}

/** Worst first: one refusal is enough to keep the credential away from the nodes. */
const SEVERITY: readonly Verdict[] = ["rejected", "no-access", "unreachable", "accepted"];

/**
 * Verify `credential` against `authHost` (each repository, or the bare host) and decide.
 *
 * @example
 * const d = await decideCredential({ authHost: "ghcr.io", credential, repositories: ["acme/app"], insecure: false, strict: false, verify: undefined });
 * if (!d.include) console.warn(d.warning);
 */
export async function decideCredential(options: DecideOptions): Promise<CredentialDecision> {
  const { authHost, credential } = options;
  if (credential === undefined) {
    return {
      authHost,
      verdict: "no-credentials",
      include: false,
      explanation: `No credentials for ${authHost}: nodes pull from it anonymously.`,
    };
  }
  const verify = options.verify ?? verifyCredentials;
  const targets = options.repositories.length > 0 ? options.repositories.map((repo) => `${authHost}/${repo}`) : [authHost];
  const checks: Check[] = [];
  for (const target of targets) {
    checks.push({
      target,
      verification: await verify(target, credential, {
        insecure: options.insecure,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      }),
    });
  }
  const worst = pickWorst(checks);
  const decision = explain(worst, options, credential);
  if (decision.verdict === "unreachable" && options.strict) {
    throw new PullbackError(
      "network",
      `Cannot verify ${credential.describe()} against ${authHost}: ${scrub(worst.verification.message, credential)}`,
      {
        diagnosis: {
          summary: `${authHost} could not be reached to verify the credentials.`,
          explanation: "With --strict, credentials that cannot be verified are not written.",
          steps: [{ text: `Check that ${authHost} is reachable from here, or drop --strict to write the credentials unverified.` }],
          retryable: true,
        },
      },
    );
  }
  return decision;
}

/** One verification and what it was asked about ("host/repo:tag" or "host"). */
interface Check {
  readonly target: string;
  readonly verification: Verification;
}

function pickWorst(checks: readonly Check[]): Check {
  const sorted = [...checks].sort((a, b) => SEVERITY.indexOf(a.verification.verdict) - SEVERITY.indexOf(b.verification.verdict));
  const worst = sorted[0];
  if (worst === undefined) throw new PullbackError("other", "no verification was made");
  return worst;
}

function explain({ target, verification: v }: Check, options: DecideOptions, credential: Credential): CredentialDecision {
  const { authHost } = options;
  const who = credential.describe();
  const scope =
    options.repositories.length > 0
      ? `verified pull access to ${options.repositories.join(", ")}`
      : "verified as docker login does (docker-login style check), which cannot tell whether the credentials may pull any particular repository";
  const realm = v.realmOnOtherHost && v.realm !== undefined ? ` The token service is on another host (${v.realm}).` : "";
  const message = scrub(v.message, credential);
  switch (v.verdict) {
    case "accepted":
      return { authHost, verdict: v.verdict, include: true, explanation: `${authHost} accepted ${who} (${scope}).${realm}` };
    case "rejected":
    case "no-access": {
      const refusal =
        v.verdict === "rejected"
          ? `${authHost} rejected ${who}: ${sentence(message)}`
          : `${authHost} refused access to ${target} for ${who}: ${sentence(message)}`;
      // Only a named tag or digest makes the anonymous probe meaningful; without one it probed "latest".
      const anonymous =
        v.anonymousPull === false && /[:@]/.test(target.slice(authHost.length))
          ? " Anonymous pulls of it are refused too, so those pulls will fail until valid credentials are configured."
          : "";
      return {
        authHost,
        verdict: v.verdict,
        include: false,
        refusal,
        warning: `${refusal} These credentials were left out, so nodes will pull from ${authHost} anonymously.${anonymous}`,
        explanation: `${capitalize(scope)}.${realm} A refused credential would make every pull from ${authHost} fail on every node, public images included.`,
      };
    }
    case "unreachable":
      return {
        authHost,
        verdict: v.verdict,
        include: true,
        warning: `${capitalize(who)} for ${authHost} could not be verified (${message}), so they were written unverified.`,
        explanation: `${authHost} did not answer; that says nothing about the credentials, so they are kept.`,
      };
  }
}

/** A registry's words as the end of a sentence: one final period. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Defence in depth: a verifier's message must not carry the secret, and here it cannot. */
export function scrub(text: string, credential: Credential): string {
  const secret = credential.reveal();
  return secret.length >= 4 ? text.split(secret).join("***") : text;
}
