/**
 * Which Docker daemon to talk to, decided as the docker CLI decides it:
 * an explicit host, then DOCKER_HOST, then the current Docker context, then the default socket.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { PullbackError } from "../../errors.js";

export interface ResolvedEndpoint {
  /** `unix:///…`, `tcp://host:port` or `ssh://user@host:port`. */
  readonly url: string;
  /** Where the choice came from, for error messages: "DOCKER_HOST", "context \"colima\"", "--host", "default". */
  readonly origin: string;
}

export interface EndpointOptions {
  readonly host?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly dockerConfigDir?: string | undefined;
}

export const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

export async function resolveDockerEndpoint(options: EndpointOptions = {}): Promise<ResolvedEndpoint> {
  const env = options.env ?? process.env;
  if (options.host) return { url: normalize(options.host), origin: "the host option" };
  if (env.DOCKER_HOST) return { url: normalize(env.DOCKER_HOST), origin: "DOCKER_HOST" };
  const configDir = options.dockerConfigDir ?? env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker");
  const context = env.DOCKER_CONTEXT ?? (await currentContext(configDir));
  if (context && context !== "default") {
    const url = await contextEndpoint(configDir, context);
    return { url: normalize(url), origin: `Docker context "${context}"` };
  }
  return { url: DEFAULT_SOCKET, origin: "the default socket" };
}

function normalize(url: string): string {
  if (url.startsWith("/")) return `unix://${url}`;
  if (!/^(unix|tcp|ssh|npipe|http|https):\/\//.test(url)) {
    throw new PullbackError("usage", `unsupported Docker host "${url}": expected unix://, tcp:// or ssh://`);
  }
  return url;
}

async function currentContext(configDir: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(await readFile(join(configDir, "config.json"), "utf8")) as { currentContext?: unknown };
    return typeof config.currentContext === "string" ? config.currentContext : undefined;
  } catch {
    return undefined;
  }
}

/** Contexts live in contexts/meta/<sha256(name)>/meta.json; scan them rather than hash, and match by Name. */
async function contextEndpoint(configDir: string, name: string): Promise<string> {
  const metaDir = join(configDir, "contexts", "meta");
  let entries: string[] = [];
  try {
    entries = await readdir(metaDir);
  } catch {
    // no contexts directory: reported below
  }
  for (const entry of entries) {
    try {
      const meta = JSON.parse(await readFile(join(metaDir, entry, "meta.json"), "utf8")) as {
        Name?: unknown;
        Endpoints?: { docker?: { Host?: unknown } };
      };
      if (meta.Name === name && typeof meta.Endpoints?.docker?.Host === "string") return meta.Endpoints.docker.Host;
    } catch {
      // an unreadable context is skipped; another may match
    }
  }
  throw new PullbackError("config", `the Docker context "${name}" has no endpoint in ${metaDir}`, {
    diagnosis: {
      summary: `Docker context "${name}" not found`,
      explanation: `DOCKER_CONTEXT or currentContext in ${join(configDir, "config.json")} names "${name}", but no context of that name exists.`,
      steps: [{ text: "List the contexts and pick one", command: "docker context ls && docker context use default" }],
      retryable: false,
    },
  });
}

/** Sockets at fixed system paths (outside HOME) that Docker-compatible daemons listen on. */
export const SYSTEM_SOCKETS: readonly string[] = ["/var/run/docker.sock", "/run/podman/podman.sock"];

/**
 * Docker-compatible sockets that exist on this machine, other than `exclude`: the alternatives to suggest.
 * `systemSockets` are the fixed paths outside HOME; a test passes its own so the machine's daemon is not found.
 */
export async function findAlternativeSockets(
  exclude: string,
  env: NodeJS.ProcessEnv = process.env,
  systemSockets: readonly string[] = SYSTEM_SOCKETS,
): Promise<string[]> {
  const home = env.HOME ?? homedir();
  const runtime = env.XDG_RUNTIME_DIR;
  const candidates = [
    ...systemSockets,
    join(home, ".docker", "run", "docker.sock"),
    join(home, ".colima", "default", "docker.sock"),
    join(home, ".colima", "docker.sock"),
    join(home, ".orbstack", "run", "docker.sock"),
    join(home, ".rd", "docker.sock"),
    ...(runtime ? [join(runtime, "docker.sock"), join(runtime, "podman", "podman.sock")] : []),
  ];
  const found: string[] = [];
  for (const path of candidates) {
    const url = `unix://${path}`;
    if (url === exclude || found.includes(url)) continue;
    try {
      if ((await stat(path)).isSocket()) found.push(url);
    } catch {
      // not there
    }
  }
  return found;
}

/** PEM contents for a TLS daemon endpoint, as the docker CLI finds them. */
export interface DaemonCertificates {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/**
 * The client certificates and CA of a tcp:// daemon with TLS: ca.pem, cert.pem and key.pem in
 * DOCKER_CERT_PATH (default ~/.docker when DOCKER_TLS_VERIFY is set), as the docker CLI reads them.
 * A file that is not there is left out: without ca.pem the system store is trusted.
 */
export async function daemonCertificates(env: NodeJS.ProcessEnv): Promise<DaemonCertificates | undefined> {
  const dir = env.DOCKER_CERT_PATH || (env.DOCKER_TLS_VERIFY ? join(env.HOME ?? homedir(), ".docker") : undefined);
  if (!dir) return undefined;
  const read = async (file: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, file), "utf8");
    } catch {
      return undefined;
    }
  };
  const [ca, cert, key] = await Promise.all([read("ca.pem"), read("cert.pem"), read("key.pem")]);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** TLS as the docker CLI decides it for a tcp:// endpoint: https://, port 2376 or DOCKER_TLS_VERIFY. */
export function wantsTls(url: URL, env: NodeJS.ProcessEnv): boolean {
  return url.protocol === "https:" || url.port === "2376" || Boolean(env.DOCKER_TLS_VERIFY);
}
