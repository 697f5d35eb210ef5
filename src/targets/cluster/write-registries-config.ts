/**
 * Write k3s/RKE2 registries.yaml with only credentials the registry accepted.
 *
 * On a k3s node containerd sends the configured credential with every request
 * to that host; a rejected one makes every pull fail — public images included.
 * So each credential is verified first, against the host that will receive it.
 */
import { readFile } from "node:fs/promises";
import type { Credential } from "../../credentials/credential.js";
import { PullbackError, messageOf } from "../../errors.js";
import { writeFileAtomic } from "./atomic-write.js";
import { decideCredential, type CredentialDecision, type VerifyCredentialsFunction } from "./credential-decision.js";
import { existingCredential, mergeDecision, type AuthAction } from "./existing-credential.js";
import { mergeTls, planRegistry, verifierTls, type ClusterRegistry, type RegistryPlan } from "./cluster-registry.js";
import { formatIssue, parseRegistriesConfig } from "./registries-config.js";
import { dropEmptySections, isEmptyDocument, redactedCopy, renderDocument, setEntry, setHostConfig } from "./registries-document.js";
import type { Verdict } from "../../registry/verify-credentials.js";
import { checkWriteRegistriesConfig } from "../../validation/entry-points.js";

export type { ClusterRegistry } from "./cluster-registry.js";

/**
 * What writeRegistriesConfig writes, where, and how strictly.
 *
 * @example
 * await writeRegistriesConfig({ path: "/etc/rancher/k3s/registries.yaml", registries, strict: true, dryRun: true });
 */
export interface WriteRegistriesConfigOptions {
  readonly registries: readonly ClusterRegistry[];
  /** The file to write; k3s and RKE2 read /etc/rancher/{k3s,rke2}/registries.yaml. */
  readonly path: string;
  /** A registry that cannot be reached fails the write instead of keeping its credential unverified. */
  readonly strict?: boolean;
  /** Compute and return the text; write nothing. */
  readonly dryRun?: boolean;
  /** Replaces the real verifier. For unit tests only. */
  readonly verify?: VerifyCredentialsFunction;
  /** Runs between writing the temp file and renaming it over `path`. A seam for crash tests. */
  readonly beforeRename?: (tempPath: string) => void | Promise<void>;
}

/**
 * What was decided for one registry's credential, and why.
 *
 * @example
 * for (const d of result.decisions) console.log(d.host, d.verdict, d.wroteAuth, d.explanation);
 */
export interface RegistryDecision {
  /** The registry host as images name it. */
  readonly host: string;
  /** The host that receives requests and credentials: the mirror endpoint's, or `host`. */
  readonly authHost: string;
  readonly verdict: Verdict | "no-credentials";
  /** Whether `configs.<authHost>.auth` holds a credential now (a new one, or the one already there). */
  readonly wroteAuth: boolean;
  /** What became of a credential the file already held for `authHost`: kept, replaced by the new one, or removed because it was refused. */
  readonly existingAuth?: "kept" | "replaced" | "removed";
  /** Every warning for this registry, as one text. */
  readonly warning?: string;
  readonly explanation: string;
}

/**
 * What writeRegistriesConfig did: the decisions, the masked text, the warnings.
 *
 * @example
 * const { written, text, warnings } = await writeRegistriesConfig({ path, registries, dryRun: true });
 */
export interface WriteRegistriesConfigResult {
  readonly path: string;
  readonly written: boolean;
  /** True when the result would be an empty document: then nothing is written (and `text` is ""). */
  readonly nothingToWrite: boolean;
  readonly decisions: RegistryDecision[];
  /** The file's text with every secret shown as `***` (the real text is only on disk). */
  readonly text: string;
  readonly warnings: string[];
}

/**
 * Verify each registry's credential, then merge the result into registries.yaml atomically.
 *
 * @example
 * const result = await writeRegistriesConfig({
 *   path: "/etc/rancher/k3s/registries.yaml",
 *   registries: [{ host: "ghcr.io", credential, verifyRepositories: ["acme/app"] }],
 * });
 * for (const warning of result.warnings) console.warn(warning);
 */
export async function writeRegistriesConfig(options: WriteRegistriesConfigOptions): Promise<WriteRegistriesConfigResult> {
  checkWriteRegistriesConfig(options);
  const plans = planAll(options.registries);
  const existing = await readExisting(options.path);
  const parsed = parseRegistriesConfig(existing ?? "");
  if (parsed.errors.length > 0) {
    const first = parsed.errors[0];
    throw new PullbackError("config", `${options.path} is not a valid registries.yaml: ${first ? formatIssue(first) : "unreadable"}`, {
      diagnosis: {
        summary: `${options.path} is malformed; it was left untouched.`,
        explanation: parsed.errors.map(formatIssue).join("\n"),
        steps: [{ text: `Fix ${options.path} (k3s cannot read it either), then run this again.` }],
        retryable: false,
      },
    });
  }
  const warnings = parsed.warnings.map((issue) => `${options.path}: ${formatIssue(issue)}`);
  const decisions: RegistryDecision[] = [];
  for (const given of plans) {
    // The CA and client certificate the nodes will use are the ones to verify with, and they stay in the file.
    const plan = { ...given, tls: mergeTls(given.tls, parsed.value?.configs[given.authHost]?.tls) };
    const {
      decision,
      auth,
      warnings: found,
    } = await decideFor(plan, existingCredential(parsed.value, plan.authHost, options.path), options);
    decisions.push(decision);
    if (plan.tls?.["insecure_skip_verify"] === true) {
      warnings.push(
        `configs."${plan.authHost}".tls.insecure_skip_verify is true: the nodes, and this verification, accept any certificate from ${plan.authHost} — anyone in between can read the credentials`,
      );
    }
    warnings.push(...found);
    setEntry(parsed.document, "mirrors", plan.host, plan.mirror);
    setHostConfig(parsed.document, plan.authHost, authEntry(auth), plan.tls);
  }
  dropEmptySections(parsed.document);
  // An empty document renders as "null": there is nothing to write, and nothing is written.
  const empty = isEmptyDocument(parsed.document);
  if (empty && existing !== undefined && existing.trim() !== "")
    parsed.document.commentBefore = " pullback: no registry needs a mirror, TLS settings or credentials";
  const nothing = empty && (existing === undefined || existing.trim() === "");
  if (!options.dryRun && !nothing) {
    const beforeRename = options.beforeRename;
    await writeFileAtomic(options.path, renderDocument(parsed.document), beforeRename ? { beforeRename } : {});
  }
  const text = nothing ? "" : renderDocument(redactedCopy(parsed.document));
  return { path: options.path, written: !options.dryRun && !nothing, nothingToWrite: nothing, decisions, text, warnings };
}

function planAll(registries: readonly ClusterRegistry[]): RegistryPlan[] {
  const plans = registries.map(planRegistry);
  for (const key of ["host", "authHost"] as const) {
    const seen = new Set<string>();
    for (const plan of plans) {
      if (seen.has(plan[key])) throw new PullbackError("usage", `${plan[key]} is configured twice; give each registry once`);
      seen.add(plan[key]);
    }
  }
  return plans;
}

async function decideFor(
  plan: RegistryPlan,
  existing: Credential | undefined,
  options: WriteRegistriesConfigOptions,
): Promise<{ decision: RegistryDecision; auth: AuthAction; warnings: readonly string[] }> {
  const decide = (credential: Credential): Promise<CredentialDecision> =>
    decideCredential({
      authHost: plan.authHost,
      credential,
      repositories: plan.verifyRepositories,
      insecure: plan.insecure,
      strict: options.strict ?? false,
      verify: options.verify,
      tls: verifierTls(plan.tls),
    });
  const merged = await mergeDecision(plan.credential, existing, decide, { path: options.path, authHost: plan.authHost });
  const decision: RegistryDecision = {
    host: plan.host,
    authHost: plan.authHost,
    verdict: merged.verdict,
    wroteAuth: merged.auth.kind !== "remove",
    ...(merged.existing === undefined ? {} : { existingAuth: merged.existing }),
    ...(merged.warnings.length === 0 ? {} : { warning: merged.warnings.join(" ") }),
    explanation: merged.explanation,
  };
  return { decision, auth: merged.auth, warnings: merged.warnings };
}

/** `configs.<authHost>.auth` as k3s reads it: written, kept as it was, or removed. */
function authEntry(auth: AuthAction): object | "keep" | undefined {
  if (auth.kind === "keep") return "keep";
  if (auth.kind === "remove") return undefined;
  const { credential } = auth;
  return credential.kind === "identity-token"
    ? { identity_token: credential.reveal() }
    : { username: credential.username, password: credential.reveal() };
}

async function readExisting(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PullbackError("io", `Cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
}
