/**
 * Which CAs and client certificate a TLS connection to one host uses — the way
 * dockerd and containers/image (skopeo, podman) find them, so a registry the
 * daemon trusts is one pullback trusts too:
 *
 * - the system store plus `NODE_EXTRA_CA_CERTS`;
 * - per-host directories `CERTS_D/HOST[:PORT]/` under `/etc/containers/certs.d`,
 *   `/etc/docker/certs.d` and the rootless `$XDG_CONFIG_HOME/containers/certs.d`:
 *   every `*.crt` is a CA, every `NAME.cert` + `NAME.key` a client certificate;
 * - or, instead of the per-host directories, skopeo's `--cert-dir DIR` (same layout, flat).
 */
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { PullbackError, messageOf } from "../errors.js";

/**
 * Trust settings for the requests pullback makes itself.
 *
 * @example
 * await pullImage(ref, { to, tls: { certDir: "./certs" } });
 */
export interface TlsOptions {
  /** skopeo's `--cert-dir`: one directory of `*.crt` CAs and `*.cert`/`*.key` pairs, used for every host instead of certs.d. */
  readonly certDir?: string | undefined;
  /**
   * The certs.d roots searched per host. Default: `/etc/containers/certs.d`, `/etc/docker/certs.d`,
   * `$XDG_CONFIG_HOME/containers/certs.d` (or `~/.config/containers/certs.d`).
   */
  readonly certsDirs?: readonly string[] | undefined;
  /** More CA files (PEM) trusted for every host, e.g. registries.yaml `tls.ca_file`. */
  readonly caFiles?: readonly string[] | undefined;
  /** A client certificate and its key (PEM files), e.g. registries.yaml `tls.cert_file`/`key_file`. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Accept any certificate. Honoured, and announced with a warning: it invites a man in the middle. */
  readonly insecureSkipVerify?: boolean | undefined;
}

/** Where certificates come from besides the options: `NODE_EXTRA_CA_CERTS`, `XDG_CONFIG_HOME`, `HOME`. */
export type TrustEnv = Readonly<Record<string, string | undefined>>;

/** What a TLS connection to one host is given, and where it was looked for (for diagnoses). */
export interface HostTrust {
  /** Every trusted CA (PEM), or undefined for Node's defaults. */
  readonly ca: readonly string[] | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly rejectUnauthorized: boolean;
  /** Directories searched for this host, whether they existed or not. */
  readonly searched: readonly string[];
  /** Files in use (CAs, client certificate), besides the system store. */
  readonly files: readonly string[];
}

/** Docker Hub's registry is configured under the name images use. */
const HOST_ALIASES: Readonly<Record<string, readonly string[]>> = {
  "registry-1.docker.io": ["docker.io", "index.docker.io"],
};

/**
 * The certs.d roots pullback searches by default, for an environment.
 *
 * @example
 * defaultCertsDirs({ HOME: "/home/me" }) // → ["/etc/containers/certs.d", "/etc/docker/certs.d", "/home/me/.config/containers/certs.d"]
 */
export function defaultCertsDirs(env: TrustEnv): string[] {
  const config = env["XDG_CONFIG_HOME"] || join(env["HOME"] || homedir(), ".config");
  return ["/etc/containers/certs.d", "/etc/docker/certs.d", join(config, "containers", "certs.d")];
}

/**
 * The trust for `host` (`name[:port]` as in the URL).
 *
 * @example
 * const trust = await loadHostTrust("registry.corp:5443", { certDir: "./certs" }, process.env);
 */
export async function loadHostTrust(host: string, options: TlsOptions, env: TrustEnv): Promise<HostTrust> {
  const dirs =
    options.certDir !== undefined
      ? [options.certDir]
      : (options.certsDirs ?? defaultCertsDirs(env)).flatMap((root) =>
          [host, ...(HOST_ALIASES[host] ?? [])].map((name) => join(root, name)),
        );
  const extraCaFiles = [...(env["NODE_EXTRA_CA_CERTS"] ? [env["NODE_EXTRA_CA_CERTS"]] : []), ...(options.caFiles ?? [])];
  const cas: string[] = [];
  const files: string[] = [];
  for (const file of extraCaFiles) {
    cas.push(await readPem(file, "CA"));
    files.push(file);
  }
  let pair: { cert: string; key: string } | undefined;
  for (const dir of dirs) {
    const found = await scanDir(dir);
    for (const file of found.cas) cas.push(await readPem(file, "CA"));
    files.push(...found.cas);
    pair ??= found.pairs[0];
  }
  if (options.certFile !== undefined || options.keyFile !== undefined) {
    if (options.certFile === undefined || options.keyFile === undefined) {
      throw new PullbackError("usage", "a client certificate needs both a certificate file and a key file");
    }
    pair = { cert: options.certFile, key: options.keyFile };
  }
  if (pair !== undefined) files.push(pair.cert);
  return {
    ca: cas.length === 0 ? undefined : [...rootCertificates, ...cas],
    cert: pair === undefined ? undefined : Buffer.from(await readPem(pair.cert, "client certificate")),
    key: pair === undefined ? undefined : Buffer.from(await readPem(pair.key, "client key")),
    rejectUnauthorized: options.insecureSkipVerify !== true,
    searched: dirs,
    files,
  };
}

/** `*.crt` CAs and `NAME.cert` + `NAME.key` pairs of one directory; a missing directory has none. */
async function scanDir(dir: string): Promise<{ cas: string[]; pairs: { cert: string; key: string }[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT" || (error as { code?: unknown }).code === "ENOTDIR") return { cas: [], pairs: [] };
    throw new PullbackError("config", `cannot read the certificate directory ${dir}: ${messageOf(error)}`, { cause: error });
  }
  const cas = names.filter((name) => name.endsWith(".crt")).map((name) => join(dir, name));
  const pairs: { cert: string; key: string }[] = [];
  for (const name of names.filter((n) => n.endsWith(".cert"))) {
    const key = `${name.slice(0, -".cert".length)}.key`;
    // containers/image refuses a half pair rather than connect without the certificate that was meant.
    if (!names.includes(key)) throw new PullbackError("config", `${join(dir, name)} has no matching key ${join(dir, key)}`);
    pairs.push({ cert: join(dir, name), key: join(dir, key) });
  }
  for (const name of names.filter((n) => n.endsWith(".key"))) {
    if (!names.includes(`${name.slice(0, -".key".length)}.cert`)) {
      throw new PullbackError("config", `${join(dir, name)} has no matching certificate ${join(dir, name.slice(0, -".key".length))}.cert`);
    }
  }
  return { cas, pairs };
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new PullbackError("config", `cannot read the ${what} file ${file}: ${messageOf(error)}`, { cause: error });
  }
}
