/**
 * Connect to a Docker daemon — local socket, TCP or SSH — and prove it answers
 * before anything else happens, so a dead daemon is reported as such, with the
 * sockets that do exist on this machine.
 */
import { PullbackError, messageOf, type RecoveryStep } from "../../errors.js";
import { daemonCertificates, findAlternativeSockets, resolveDockerEndpoint, wantsTls, type ResolvedEndpoint } from "./docker-endpoint.js";
import { DockerEngine, type DaemonVersion, type EngineAddress } from "./engine.js";
import type { SshOptions } from "./ssh-command.js";
import { SshDockerTransport } from "./ssh-transport.js";
import { checkConnectDocker } from "../../validation/entry-points.js";

/**
 * Which daemon to connect to, and how (SSH key, known_hosts, timeouts).
 *
 * @example
 * await connectDocker({ host: "ssh://deploy@build-1", identityFile: "/home/me/.ssh/id_ed25519", knownHostsFile: "/home/me/.ssh/known_hosts" });
 */
export interface ConnectDockerOptions extends SshOptions {
  /** `unix:///path`, `tcp://host:port`, `ssh://user@host[:port]`; default: DOCKER_HOST, the Docker context, /var/run/docker.sock. */
  readonly host?: string | undefined;
  readonly dockerConfigDir?: string | undefined;
  /** Per-request timeout for short calls (ping, version, inspect). Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /**
   * Sockets outside HOME to suggest when the daemon is unreachable and they exist.
   * Default `/var/run/docker.sock`, `/run/podman/podman.sock`; a test passes its own.
   */
  readonly systemSockets?: readonly string[] | undefined;
}

/**
 * Commands that reach an SSH Docker host exactly as the pull did (alias, user, port, key, ssh config).
 *
 * @example
 * docker.ssh?.shellCommand(["docker", "image", "rm", "app:1"]) // "ssh -F ./cfg buildbox docker image rm app:1"
 */
export interface SshCommands {
  /** The ssh:// URL, secret-free. */
  readonly url: string;
  /** `ssh … HOST remote…`, quoted for a POSIX shell. */
  shellCommand(remote: readonly string[]): string;
  /** pullback's `--host … -i … --known-hosts … --ssh-config …` for the same host. */
  pullbackFlags(): string;
}

/**
 * A daemon that answered ping. Close it when done (it may hold an SSH connection).
 *
 * @example
 * const docker = await connectDocker();
 * try { console.log(docker.endpoint, (await docker.daemon()).arch) } finally { docker.close() }
 */
export interface DockerConnection {
  /** The endpoint URL, secret-free: `unix:///var/run/docker.sock`, `ssh://root@host:22`. */
  readonly endpoint: string;
  /**
   * What the daemon says it is (version, API version, os/arch), asked on first use and kept:
   * dockerd takes ~30 ms to answer /version (it asks containerd, runc and docker-init for
   * theirs), and a local pull onto the daemon's own platform never needs it. Over SSH it is
   * asked at connect instead of ping, since every remote pull checks the host's platform.
   */
  daemon(): Promise<DaemonVersion>;
  /** Set for SSH endpoints: the host name events carry (an alias stays an alias). */
  readonly remoteHost: string | undefined;
  /** Set for SSH endpoints: commands that reach the same host with the same options, for diagnoses. */
  readonly ssh: SshCommands | undefined;
  /** @internal the Engine API door; not part of the public API. */
  readonly engine: DockerEngine;
  close(): void;
}

/**
 * @example
 * const docker = await connectDocker({ host: "ssh://deploy@build-1" });
 * try { console.log((await docker.daemon()).arch) } finally { docker.close() }
 */
export async function connectDocker(options: ConnectDockerOptions = {}): Promise<DockerConnection> {
  checkConnectDocker(options);
  const endpoint = await resolveDockerEndpoint(options);
  // The system ssh, as the docker CLI uses it: ~/.ssh/config, the agent and ProxyJump apply. ssh starts before the Engine client loads.
  const tunnel = endpoint.url.startsWith("ssh://") ? new SshDockerTransport(endpoint.url, options) : undefined;
  tunnel?.dial();
  const address = tunnel ? { kind: "agent" as const, agent: tunnel.agent } : await addressOf(endpoint, options.env ?? process.env);
  const engine = new DockerEngine(address, options.timeoutMs ?? 30_000);
  try {
    // Every pull over SSH checks the host's platform: /version says it and stands in for ping, one round trip fewer.
    const known = tunnel ? await engine.version() : undefined;
    if (!tunnel) await engine.ping();
    const ssh = tunnel && {
      url: tunnel.target.url,
      shellCommand: (remote: readonly string[]) => tunnel.shellCommand(remote),
      pullbackFlags: () => tunnel.pullbackFlags(),
    };
    return {
      endpoint: endpoint.url,
      daemon: known ? () => Promise.resolve(known) : once(() => engine.version()),
      remoteHost: tunnel?.target.host,
      ssh,
      engine,
      close: () => tunnel?.close(),
    };
  } catch (error) {
    tunnel?.close();
    throw await unreachableError(endpoint, error, options);
  }
}

/** `ask` on the first call, its answer on every later one; a failure is not kept, the next call asks again. */
function once<T>(ask: () => Promise<T>): () => Promise<T> {
  let answer: Promise<T> | undefined;
  return () => {
    answer ??= ask().catch((error: unknown) => {
      answer = undefined;
      throw error;
    });
    return answer;
  };
}

async function addressOf(endpoint: ResolvedEndpoint, env: NodeJS.ProcessEnv): Promise<EngineAddress> {
  const url = new URL(endpoint.url);
  if (url.protocol === "unix:") return { kind: "unix", socketPath: decodeURIComponent(url.pathname) };
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    const tls = url.protocol !== "http:" && wantsTls(url, env);
    const port = Number(url.port || (tls ? 2376 : 2375));
    return { kind: "tcp", host: url.hostname, port, tls, certificates: tls ? await daemonCertificates(env) : undefined };
  }
  throw new PullbackError("usage", `unsupported Docker host "${endpoint.url}"`);
}

async function unreachableError(endpoint: ResolvedEndpoint, error: unknown, options: ConnectDockerOptions): Promise<PullbackError> {
  if (error instanceof PullbackError && error.kind === "daemon-unreachable") return error;
  const why = reasonFor(error);
  const alternatives = await findAlternativeSockets(endpoint.url, options.env, options.systemSockets);
  const steps: RecoveryStep[] = [
    ...alternatives.map((socket) => ({
      text: `A Docker-compatible socket exists at ${socket.slice(7)}; use it`,
      command: `export DOCKER_HOST=${socket}`,
    })),
    ...stepsFor(why, endpoint),
  ];
  const message = `cannot reach the Docker daemon at ${endpoint.url} (from ${endpoint.origin}): ${why.text}`;
  return new PullbackError("daemon-unreachable", message, {
    cause: error,
    diagnosis: { summary: "The Docker daemon is not reachable", explanation: message, steps, retryable: why.code !== "EACCES" },
  });
}

function reasonFor(error: unknown): { code: string | undefined; text: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return { code, text: "no socket at that path" };
    case "EACCES":
      return { code, text: "permission denied on the socket" };
    case "ECONNREFUSED":
      return { code, text: "nothing is listening there" };
    default:
      return { code: typeof code === "string" ? code : undefined, text: messageOf(error) };
  }
}

function stepsFor(why: { code: string | undefined }, endpoint: ResolvedEndpoint): RecoveryStep[] {
  if (why.code === "EACCES")
    return [{ text: "Add your user to the docker group, then log in again", command: "sudo usermod -aG docker $USER" }];
  const steps: RecoveryStep[] = [{ text: "Start the Docker daemon", command: "sudo systemctl start docker" }];
  if (endpoint.origin === "DOCKER_HOST")
    steps.push({ text: "Or unset DOCKER_HOST to use the default socket", command: "unset DOCKER_HOST" });
  return steps;
}
