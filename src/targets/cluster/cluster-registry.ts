/**
 * One registry as the cluster should see it, and where its credential goes.
 *
 * k3s (rancher/wharfie) looks credentials up by the host that receives the
 * requests: the first mirror endpoint's host when a mirror is set, else the
 * registry host. The credential is verified against that same host.
 */
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { MAX_PORT, MIN_PORT } from "../../reference/grammar.js";
import type { TlsOptions } from "../../registry/trust.js";

/**
 * One registry as the cluster should see it: host, mirror endpoint, TLS, credential, repositories to verify.
 *
 * @example
 * const entry: ClusterRegistry = { host: "ghcr.io", credential, verifyRepositories: ["acme/app:1"] };
 */
export interface ClusterRegistry {
  /** The registry host as images name it: "ghcr.io", "127.0.0.1:5000". */
  readonly host: string;
  /** Mirror endpoint URL: https, or http when `insecure`. */
  readonly endpoint?: string | undefined;
  /** Plain HTTP: without an endpoint, writes the mirror `http://<host>`. */
  readonly insecure?: boolean | undefined;
  /** Repository rewrites (regular expression → replacement), as k3s applies them. */
  readonly rewrite?: Readonly<Record<string, string>>;
  readonly tls?: { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean };
  readonly credential?: Credential | undefined;
  /**
   * The images the cluster will pull, as repository paths with an optional tag or digest
   * ("private/app", "private/app:1"); verified one by one. With a tag the verifier can also
   * tell whether anonymous pulls would work; without one it probes "latest".
   */
  readonly verifyRepositories?: readonly string[] | undefined;
}

/** What to write and verify for one registry. */
export interface RegistryPlan {
  readonly host: string;
  readonly authHost: string;
  readonly insecure: boolean;
  readonly mirror: { endpoint: string[]; rewrite?: Record<string, string> } | undefined;
  readonly tls: Record<string, string | boolean> | undefined;
  readonly credential: Credential | undefined;
  /** Repositories as the auth host sees them, rewrites applied. */
  readonly verifyRepositories: readonly string[];
}

/**
 * Validate a registry and work out its auth host, mirror entry and TLS entry.
 *
 * @example
 * planRegistry({ host: "docker.io", endpoint: "https://mirror.example:5000" }).authHost // → "mirror.example:5000"
 */
export function planRegistry(registry: ClusterRegistry): RegistryPlan {
  const host = checkHost(registry.host);
  const insecure = registry.insecure ?? false;
  const endpoint =
    registry.endpoint ?? (insecure || registry.rewrite !== undefined ? `${insecure ? "http" : "https"}://${host}` : undefined);
  const authHost = endpoint === undefined ? host : endpointHost(endpoint, insecure);
  const rewrite = registry.rewrite === undefined ? undefined : checkRewrite(registry.rewrite);
  const mirror = endpoint === undefined ? undefined : { endpoint: [endpoint], ...(rewrite ? { rewrite: { ...rewrite } } : {}) };
  const repositories = (registry.verifyRepositories ?? []).map((path) => {
    const { repository, suffix } = splitImagePath(path);
    return applyRewrite(repository, rewrite) + suffix;
  });
  return {
    host,
    authHost,
    insecure,
    mirror,
    tls: tlsEntry(registry.tls),
    credential: registry.credential,
    verifyRepositories: repositories,
  };
}

function checkHost(host: string): string {
  if (!/^[A-Za-z0-9.\-_]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)) {
    throw new PullbackError(
      "usage",
      `${JSON.stringify(host)} is not a registry host (expected e.g. "ghcr.io" or "127.0.0.1:5000", without scheme or path)`,
    );
  }
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port !== undefined && !(Number(port) >= MIN_PORT && Number(port) <= MAX_PORT)) {
    throw new PullbackError("usage", `The registry host ${host} has port ${port}; valid ports are ${MIN_PORT}–${MAX_PORT}`);
  }
  return host;
}

/** The endpoint's host[:port] exactly as written: Go's url.Host keeps an explicit ":443", WHATWG URL drops it. */
function endpointHost(endpoint: string, insecure: boolean): string {
  const match = /^(https?):\/\/([^/?#@]+)(\/[^?#]*)?$/i.exec(endpoint);
  const scheme = match?.[1]?.toLowerCase();
  const host = match?.[2];
  if (scheme === undefined || host === undefined) {
    throw new PullbackError("usage", `The mirror endpoint ${JSON.stringify(endpoint)} is not an http(s) URL without credentials`);
  }
  if (scheme === "http" && !insecure) {
    throw new PullbackError("usage", `The mirror endpoint ${endpoint} is plain HTTP; mark the registry insecure to allow that`);
  }
  return checkHost(host);
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const SUFFIX = /^(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Fa-f0-9]{32,})?$/;

/** Split "private/app:1" into its repository and its ":1" / "@sha256:…" suffix. */
function splitImagePath(path: string): { repository: string; suffix: string } {
  const at = path.indexOf("@");
  const beforeDigest = at < 0 ? path : path.slice(0, at);
  const colon = beforeDigest.lastIndexOf(":");
  const end = colon > beforeDigest.lastIndexOf("/") ? colon : at < 0 ? path.length : at;
  const split = { repository: path.slice(0, end), suffix: path.slice(end) };
  if (!REPOSITORY.test(split.repository) || !SUFFIX.test(split.suffix)) {
    throw new PullbackError(
      "usage",
      `${JSON.stringify(path)} is not a repository path (expected e.g. "private/app" or "private/app:1", no host)`,
    );
  }
  return split;
}

function checkRewrite(rewrite: Readonly<Record<string, string>>): Record<string, string> {
  for (const pattern of Object.keys(rewrite)) {
    try {
      new RegExp(pattern);
    } catch {
      throw new PullbackError("usage", `The rewrite pattern ${JSON.stringify(pattern)} is not a regular expression`);
    }
  }
  return { ...rewrite };
}

/**
 * The repository the mirror will be asked for. k3s tries the patterns in Go map
 * order (random); we take the first that changes the name, which agrees whenever
 * the patterns do not overlap.
 */
function applyRewrite(repo: string, rewrite: Record<string, string> | undefined): string {
  for (const [pattern, replacement] of Object.entries(rewrite ?? {})) {
    const rewritten = repo.replace(new RegExp(pattern, "g"), replacement);
    if (rewritten !== repo) return rewritten;
  }
  return repo;
}

function tlsEntry(tls: ClusterRegistry["tls"]): Record<string, string | boolean> | undefined {
  if (tls === undefined) return undefined;
  const entry: Record<string, string | boolean> = {};
  if (tls.caFile !== undefined) entry["ca_file"] = tls.caFile;
  if (tls.certFile !== undefined) entry["cert_file"] = tls.certFile;
  if (tls.keyFile !== undefined) entry["key_file"] = tls.keyFile;
  if (tls.insecureSkipVerify !== undefined) entry["insecure_skip_verify"] = tls.insecureSkipVerify;
  if ((entry["cert_file"] === undefined) !== (entry["key_file"] === undefined)) {
    throw new PullbackError("usage", "A client certificate needs both certFile and keyFile (k3s refuses one without the other)");
  }
  return Object.keys(entry).length === 0 ? undefined : entry;
}

/**
 * The `tls` entry to write: what the caller gave, over what registries.yaml already
 * says for the host (a merge must not drop the CA a node needs).
 *
 * @example
 * mergeTls({ cert_file: "/c.pem", key_file: "/k.pem" }, { ca_file: "/ca.pem" }) // → { ca_file, cert_file, key_file }
 */
export function mergeTls(
  given: Record<string, string | boolean> | undefined,
  existing: { readonly [key: string]: string | boolean | undefined } | object | undefined,
): Record<string, string | boolean> | undefined {
  const merged: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(existing ?? {}) as [string, unknown][]) {
    if (typeof value === "string" || typeof value === "boolean") merged[key] = value;
  }
  Object.assign(merged, given ?? {});
  return Object.keys(merged).length === 0 ? undefined : merged;
}

/**
 * The trust a `tls` entry gives containerd, for the verifier: its CA (on top of the
 * system store), its client certificate, its insecure_skip_verify — and no certs.d,
 * which k3s nodes do not read. Verifying with anything else is verifying something the node will not do.
 *
 * @example
 * verifierTls({ ca_file: "/etc/ssl/corp-ca.pem" }) // → { certsDirs: [], caFiles: ["/etc/ssl/corp-ca.pem"] }
 */
export function verifierTls(tls: Readonly<Record<string, string | boolean>> | undefined): TlsOptions {
  const text = (key: string): string | undefined => (typeof tls?.[key] === "string" ? tls[key] : undefined);
  const ca = text("ca_file");
  const cert = text("cert_file");
  const key = text("key_file");
  return {
    certsDirs: [],
    ...(ca === undefined ? {} : { caFiles: [ca] }),
    ...(cert === undefined ? {} : { certFile: cert }),
    ...(key === undefined ? {} : { keyFile: key }),
    ...(tls?.["insecure_skip_verify"] === true ? { insecureSkipVerify: true } : {}),
  };
}
