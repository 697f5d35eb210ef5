/**
 * A Kubernetes image pull secret holding only credentials the registry accepted.
 *
 * The kubelet matches a pull secret's entries against the registry host an image
 * names (mirrors are containerd's business), so entries are keyed and verified
 * by `host`. Same rule as registries.yaml: a refused credential is left out.
 */
import { yaml } from "./yaml-lib.js";
import { PullbackError } from "../../errors.js";
import { decideCredential, type VerifyCredentialsFunction } from "./credential-decision.js";
import type { ClusterRegistry } from "./cluster-registry.js";
import type { RegistryDecision } from "./write-registries-config.js";
import { checkRenderPullSecret } from "../../validation/entry-points.js";

/**
 * What renderPullSecret renders: the Secret's name and namespace, and the registries.
 *
 * @example
 * await renderPullSecret({ name: "regcred", namespace: "apps", registries: [{ host: "ghcr.io", credential }] });
 */
export interface RenderPullSecretOptions {
  /** metadata.name, a DNS-1123 subdomain. */
  readonly name: string;
  readonly namespace?: string;
  /** `host`, `credential`, `verifyRepositories` and `insecure` are used; mirror settings do not apply to a pull secret. */
  readonly registries: readonly ClusterRegistry[];
  /** A registry that cannot be reached fails instead of keeping its credential unverified. */
  readonly strict?: boolean;
  /** Replaces the real verifier. For unit tests only. */
  readonly verify?: VerifyCredentialsFunction;
}

/**
 * The Secret manifest (holding only accepted credentials), the decisions, and a masked copy.
 *
 * @example
 * const { manifest, warnings } = await renderPullSecret(options); // pipe manifest to kubectl apply -f -
 */
export interface PullSecretResult {
  /** The Secret manifest (YAML). It holds the accepted secrets: write it to a 0600 file or pipe it to kubectl, never log it. */
  readonly manifest: string;
  readonly decisions: RegistryDecision[];
  readonly warnings: string[];
}

interface DockerConfigEntry {
  username: string;
  password: string;
  auth: string;
}

/**
 * Render a `kubernetes.io/dockerconfigjson` Secret for the registries whose credentials were accepted.
 *
 * @example
 * const { manifest, warnings } = await renderPullSecret({ name: "ghcr", namespace: "apps", registries: [{ host: "ghcr.io", credential }] });
 * // kubectl apply -f - < manifest
 */
export async function renderPullSecret(options: RenderPullSecretOptions): Promise<PullSecretResult> {
  checkRenderPullSecret(options);
  checkName(options.name, "name", SUBDOMAIN, 253);
  if (options.namespace !== undefined) checkName(options.namespace, "namespace", LABEL, 63);
  const auths: Record<string, DockerConfigEntry> = {};
  const decisions: RegistryDecision[] = [];
  const warnings: string[] = [];
  for (const registry of options.registries) {
    if (registry.host in auths) throw new PullbackError("usage", `${registry.host} is configured twice; give each registry once`);
    const decision = await decideFor(registry, options, warnings);
    decisions.push(decision);
    const credential = registry.credential;
    if (decision.wroteAuth && credential !== undefined) {
      const password = credential.reveal();
      auths[registry.host] = {
        username: credential.username,
        password,
        auth: Buffer.from(`${credential.username}:${password}`).toString("base64"),
      };
    }
  }
  const dockerConfigJson = Buffer.from(JSON.stringify({ auths })).toString("base64");
  const metadata = options.namespace === undefined ? { name: options.name } : { name: options.name, namespace: options.namespace };
  const manifest = yaml().stringify(
    { apiVersion: "v1", kind: "Secret", metadata, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": dockerConfigJson } },
    { lineWidth: 0 },
  );
  return { manifest, decisions, warnings };
}

async function decideFor(registry: ClusterRegistry, options: RenderPullSecretOptions, warnings: string[]): Promise<RegistryDecision> {
  const decision = await decideCredential({
    authHost: registry.host,
    credential: registry.credential,
    repositories: registry.verifyRepositories ?? [],
    insecure: registry.insecure ?? false,
    strict: options.strict ?? false,
    verify: options.verify,
  });
  let { include, warning } = decision;
  // The kubelet's docker config entries carry username/password only; an identity token would be dropped there.
  if (include && registry.credential?.kind === "identity-token") {
    include = false;
    warning = `${registry.credential.describe()} is an identity token, which a Kubernetes pull secret cannot carry; ${registry.host} was left out.`;
  }
  if (warning !== undefined) warnings.push(warning);
  const base = {
    host: registry.host,
    authHost: registry.host,
    verdict: decision.verdict,
    wroteAuth: include,
    explanation: decision.explanation,
  };
  return warning === undefined ? base : { ...base, warning };
}

/** DNS-1123 subdomain (Secret names) and label (namespaces), as the API server checks them. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(value: string, what: string, pattern: RegExp, maxLength: number): void {
  if (value.length > maxLength || !pattern.test(value)) {
    throw new PullbackError(
      "usage",
      `${JSON.stringify(value)} is not a valid Kubernetes ${what} (lower-case letters, digits and "-"${pattern === SUBDOMAIN ? ', "."' : ""}, at most ${maxLength})`,
    );
  }
}
