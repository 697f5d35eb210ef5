/**
 * `pullback cluster-config` flags → the registries to configure and where the
 * result goes. Pure, so the mapping is unit-tested without any registry.
 */
import { PullbackError } from "../../errors.js";
import type { ClusterRegistry } from "../../targets/cluster/write-registries-config.js";

export const DEFAULT_K3S_PATH = "/etc/rancher/k3s/registries.yaml";
export const DEFAULT_SECRET_NAME = "pullback-registries";

export interface ClusterConfigFlags {
  readonly registry?: readonly string[] | undefined;
  readonly endpoint?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly verifyRepo?: readonly string[] | undefined;
  readonly output?: string | undefined;
  readonly format?: string | undefined;
  readonly secretName?: string | undefined;
  readonly namespace?: string | undefined;
  readonly strict?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
  readonly explain?: boolean | undefined;
}

export interface ClusterConfigPlan {
  readonly format: "k3s" | "k8s-secret";
  /** Registries without credentials; the command adds each one's credential. */
  readonly registries: readonly Omit<ClusterRegistry, "credential">[];
  /** A file, or "-" for stdout (k8s-secret only). */
  readonly output: string;
  readonly secretName: string;
  readonly namespace: string | undefined;
  readonly strict: boolean;
  readonly dryRun: boolean;
  readonly explain: boolean;
}

/**
 * `--verify-repo HOST/REPO` goes to that registry; a bare `REPO` needs exactly one `--registry`.
 *
 * @example
 * planClusterConfig({ registry: ["ghcr.io"], verifyRepo: ["acme/app"] }).registries
 * // → [{ host: "ghcr.io", verifyRepositories: ["acme/app"] }]
 */
export function planClusterConfig(flags: ClusterConfigFlags): ClusterConfigPlan {
  const hosts = flags.registry ?? [];
  if (hosts.length === 0) throw usage("give at least one --registry HOST");
  const format = flags.format ?? "k3s";
  if (format !== "k3s" && format !== "k8s-secret") throw usage(`--format must be k3s or k8s-secret, not ${JSON.stringify(format)}`);
  if (flags.endpoint !== undefined && hosts.length !== 1)
    throw usage("--endpoint applies to one registry: give exactly one --registry with it");
  if (format === "k8s-secret" && flags.endpoint !== undefined)
    throw usage("--endpoint configures a k3s mirror; a pull secret has no mirrors");
  if (format === "k3s" && (flags.secretName !== undefined || flags.namespace !== undefined))
    throw usage("--secret-name and --namespace apply to --format k8s-secret");
  const repositories = assignRepositories(hosts, flags.verifyRepo ?? []);
  const registries = hosts.map((host) => ({
    host,
    ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(repositories.get(host)?.length ? { verifyRepositories: repositories.get(host) ?? [] } : {}),
  }));
  return {
    format,
    registries,
    output: flags.output ?? (format === "k3s" ? DEFAULT_K3S_PATH : "-"),
    secretName: flags.secretName ?? DEFAULT_SECRET_NAME,
    namespace: flags.namespace,
    strict: flags.strict === true,
    dryRun: flags.dryRun === true,
    explain: flags.explain === true,
  };
}

function assignRepositories(hosts: readonly string[], repos: readonly string[]): Map<string, string[]> {
  const byHost = new Map<string, string[]>(hosts.map((h) => [h, []]));
  for (const repo of repos) {
    const host = hosts.find((h) => repo.startsWith(`${h}/`));
    if (host !== undefined) byHost.get(host)?.push(repo.slice(host.length + 1));
    else if (hosts.length === 1 && hosts[0] !== undefined) byHost.get(hosts[0])?.push(repo);
    else throw usage(`--verify-repo ${JSON.stringify(repo)}: with several registries, name the registry (HOST/REPO)`);
  }
  return byHost;
}

function usage(message: string): PullbackError {
  return new PullbackError("usage", message);
}
