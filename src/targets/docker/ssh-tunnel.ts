/**
 * A Docker daemon reached over SSH, the way `docker -H ssh://…` does it: run
 * `docker system dial-stdio` on the remote and speak HTTP over that channel.
 *
 * Unlike docker-modem's built-in transport, one SSH connection serves every HTTP
 * request of a session (each request gets its own channel), the host key is
 * checked against known_hosts, and SSH failures become typed errors instead of
 * uncaught exceptions (dockerode#764).
 */
import { readFile } from "node:fs/promises";
import { Agent, type AgentOptions } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { PullbackError } from "../../errors.js";
import { checkHostKey, knownHostsName, type HostKeyStatus } from "./known-hosts.js";

export interface SshTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
}

export interface SshOptions {
  /** Private key file; default: the ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  readonly identityFile?: string | undefined;
  /** Default ~/.ssh/known_hosts. */
  readonly knownHostsFile?: string | undefined;
  /** Accept a host key that known_hosts does not list (never a changed one). */
  readonly acceptUnknownHostKey?: boolean | undefined;
  readonly connectTimeoutMs?: number | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/** Parse `ssh://[user@]host[:port]`. */
export function parseSshUrl(url: string, env: NodeJS.ProcessEnv = process.env): SshTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new PullbackError("usage", `"${url}" is not an ssh:// URL (expected ssh://user@host[:port])`, { cause });
  }
  if (parsed.protocol !== "ssh:" || !parsed.hostname) {
    throw new PullbackError("usage", `"${url}" is not an ssh:// URL (expected ssh://user@host[:port])`);
  }
  if (parsed.password) throw new PullbackError("usage", "ssh:// URLs must not carry a password; use a key or the ssh-agent");
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return { user: decodeURIComponent(parsed.username) || env.USER || "root", host, port: parsed.port ? Number(parsed.port) : 22 };
}

/** One SSH connection to a remote Docker host, handing out dial-stdio channels as HTTP sockets. */
export class SshDockerTunnel {
  readonly target: SshTarget;
  readonly agent: Agent;
  readonly #client: Client;
  #closed = false;

  private constructor(target: SshTarget, client: Client) {
    this.target = target;
    this.#client = client;
    this.agent = new DialStdioAgent(client, { keepAlive: true, maxSockets: 8 });
    // After the handshake, an SSH error must not crash the process: requests fail on their own.
    client.on("error", () => undefined);
    client.on("close", () => {
      this.#closed = true;
      this.agent.destroy();
    });
  }

  /** Open the connection (host key checked, key or agent auth). */
  static async open(target: SshTarget, options: SshOptions = {}): Promise<SshDockerTunnel> {
    const config = await connectConfig(target, options);
    const client = new Client();
    let hostKey: HostKeyStatus | undefined;
    const knownHosts = await readOptional(options.knownHostsFile ?? join(homedir(), ".ssh", "known_hosts"));
    config.hostVerifier = (key: Buffer): boolean => {
      hostKey = checkHostKey(knownHosts, target.host, target.port, key);
      return hostKey === "known" || (hostKey === "unknown" && options.acceptUnknownHostKey === true);
    };
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", (error) => reject(sshError(error, target, hostKey, options)));
      client.connect(config);
    });
    return new SshDockerTunnel(target, client);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.agent.destroy();
    this.#client.end();
  }
}

/** An http.Agent whose sockets are `docker system dial-stdio` channels on one SSH connection. */
class DialStdioAgent extends Agent {
  readonly #client: Client;

  constructor(client: Client, options: AgentOptions) {
    super(options);
    this.#client = client;
  }

  override createConnection(_options: unknown, callback: (error: Error | null, socket?: Duplex) => void): undefined {
    this.#client.exec("docker system dial-stdio", (error, channel) => {
      if (error) callback(new PullbackError("daemon-unreachable", `could not open an SSH channel: ${error.message}`, { cause: error }));
      else callback(null, watchRemoteFailure(channel));
    });
    return undefined;
  }
}

/** dial-stdio that exits non-zero (docker missing, socket unreachable) becomes an error naming the remote's words. */
function watchRemoteFailure(channel: ClientChannel): Duplex {
  let stderr = "";
  channel.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 2000) stderr += chunk.toString("utf8");
  });
  channel.on("exit", (code: number | null) => {
    if (code === 0 || code === null) return;
    const why = code === 127 ? "the docker CLI is not installed on the remote host" : `docker system dial-stdio exited with ${code}`;
    channel.emit("error", new PullbackError("daemon-unreachable", `${why}${stderr ? `: ${stderr.trim()}` : ""}`));
    channel.close();
  });
  return asSocket(channel);
}

/**
 * node:http treats a connection as a net.Socket and calls its timing knobs; an SSH
 * channel has none of them. Timeouts are enforced by the request itself, so no-ops do.
 */
function asSocket(channel: ClientChannel): Duplex {
  const knobs = { setTimeout: () => channel, setKeepAlive: () => channel, setNoDelay: () => channel, ref: () => channel, unref: () => channel };
  for (const [name, fn] of Object.entries(knobs)) {
    if (!(name in channel)) Object.defineProperty(channel, name, { value: fn });
  }
  return channel;
}

async function connectConfig(target: SshTarget, options: SshOptions): Promise<ConnectConfig> {
  const env = options.env ?? process.env;
  const base: ConnectConfig = { host: target.host, port: target.port, username: target.user, readyTimeout: options.connectTimeoutMs ?? 15_000 };
  if (options.identityFile) return { ...base, privateKey: await readKey(options.identityFile) };
  if (env.SSH_AUTH_SOCK) return { ...base, agent: env.SSH_AUTH_SOCK };
  for (const name of ["id_ed25519", "id_ecdsa", "id_rsa"]) {
    const key = await readOptional(join(homedir(), ".ssh", name));
    if (key) return { ...base, privateKey: key };
  }
  throw new PullbackError("usage", `no SSH key for ${target.user}@${target.host}: pass an identity file (-i KEY) or start an ssh-agent (SSH_AUTH_SOCK)`);
}

async function readKey(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new PullbackError("usage", `cannot read the SSH identity file ${file}`, { cause });
  }
}

async function readOptional(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return "";
  }
}

function sshError(error: Error, target: SshTarget, hostKey: HostKeyStatus | undefined, options: SshOptions): PullbackError {
  const where = `ssh://${target.user}@${target.host}:${target.port}`;
  const knownHostsFile = options.knownHostsFile ?? "~/.ssh/known_hosts";
  const scan = `ssh-keyscan -p ${target.port} ${target.host} >> ${knownHostsFile}`;
  if (hostKey === "changed" || hostKey === "revoked") {
    return unreachable(`the host key of ${where} does not match ${knownHostsFile} — refusing to connect (someone may be intercepting the connection, or the host was reinstalled)`, error, [
      { text: "Confirm with the host's owner that its key changed, then remove the old entry", command: `ssh-keygen -R '${knownHostsName(target.host, target.port)}' -f ${knownHostsFile}` },
      { text: "Add the new key", command: scan },
    ]);
  }
  if (hostKey === "unknown") {
    return unreachable(`the host key of ${where} is not in ${knownHostsFile} — refusing to trust it silently`, error, [
      { text: "Check the key's fingerprint with the host's owner, then add it", command: scan },
      { text: "Or connect once with ssh, which asks you to confirm the key", command: `ssh -p ${target.port} ${target.user}@${target.host} true` },
    ]);
  }
  if (/authentication methods failed/i.test(error.message)) {
    return unreachable(`SSH refused the key for ${target.user}@${target.host}:${target.port}`, error, [
      { text: "Check that the key is in the remote user's authorized_keys", command: `ssh -i KEY -p ${target.port} ${target.user}@${target.host} true` },
    ]);
  }
  return unreachable(`cannot reach ${where}: ${error.message}`, error, [
    { text: "Check that sshd listens there", command: `ssh -p ${target.port} ${target.user}@${target.host} docker version` },
  ]);
}

function unreachable(message: string, cause: Error, steps: { text: string; command?: string }[]): PullbackError {
  return new PullbackError("daemon-unreachable", message, {
    cause,
    diagnosis: { summary: message, explanation: cause.message, steps, retryable: false },
  });
}
