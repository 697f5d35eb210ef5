/**
 * The `ssh` command line pullback runs for a remote Docker host — the one the docker
 * CLI runs (`ssh … HOST docker system dial-stdio`), so ~/.ssh/config, the agent,
 * ProxyJump and certificates apply exactly as they do for `ssh` — and the same command
 * line rendered for a person to paste. Pure: it spawns nothing.
 */
import { PullbackError } from "../../errors.js";

/** `ssh://[user@]host[:port]`: user and port stay unset when the URL has none, so ~/.ssh/config decides. */
export interface SshTarget {
  /** The host as written: a name, an address, or a Host alias from the ssh configuration. */
  readonly host: string;
  readonly user: string | undefined;
  readonly port: number | undefined;
  /** The URL as given, secret-free (ssh:// URLs carry no password). */
  readonly url: string;
}

/**
 * How to run ssh: every option is passed to the system `ssh` as an argument naming a
 * file or a policy, never a secret.
 *
 * @example
 * await connectDocker({ host: "ssh://build-1", sshConfigFile: "./ssh_config" });
 */
export interface SshOptions {
  /** A private key (`ssh -i KEY -o IdentitiesOnly=yes`); default: what ~/.ssh/config and the agent offer. */
  readonly identityFile?: string | undefined;
  /** A known_hosts file (`-o UserKnownHostsFile=FILE`); default: ssh's own (~/.ssh/known_hosts). */
  readonly knownHostsFile?: string | undefined;
  /** Accept and record a host key nobody listed (`StrictHostKeyChecking=accept-new`); a changed key is still refused. */
  readonly acceptUnknownHostKey?: boolean | undefined;
  /** Another ssh configuration (`ssh -F FILE`) instead of ~/.ssh/config, which ssh finds through the password database, not $HOME. */
  readonly sshConfigFile?: string | undefined;
  /** `ConnectTimeout`; default 30 s, as the docker CLI uses. */
  readonly connectTimeoutMs?: number | undefined;
  /** The ssh client to run; default `ssh` on PATH. */
  readonly sshCommand?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** ssh's notices meant for a person, e.g. a host key that accept-new recorded, with its fingerprint (ssh prints it too). */
  readonly onNotice?: ((message: string) => void) | undefined;
}

const URL_HINT = "expected ssh://[user@]host[:port], where host may be an alias from your ssh configuration";

/**
 * @example
 * parseSshUrl("ssh://deploy@build-1:2222") // { host: "build-1", user: "deploy", port: 2222, url: "ssh://deploy@build-1:2222" }
 * parseSshUrl("ssh://buildbox")            // { host: "buildbox", user: undefined, port: undefined, … }
 */
export function parseSshUrl(url: string): SshTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new PullbackError("usage", `"${url}" is not an ssh:// URL (${URL_HINT})`, { cause });
  }
  if (parsed.protocol !== "ssh:" || !parsed.hostname) throw new PullbackError("usage", `"${url}" is not an ssh:// URL (${URL_HINT})`);
  if (parsed.password) throw new PullbackError("usage", "ssh:// URLs must not carry a password; use a key, a certificate or the ssh-agent");
  if (parsed.pathname && parsed.pathname !== "/") throw new PullbackError("usage", `"${url}" has a path; ${URL_HINT}`);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const user = decodeURIComponent(parsed.username) || undefined;
  const port = parsed.port ? Number(parsed.port) : undefined;
  return { host, user, port, url: `ssh://${user ? `${parsed.username}@` : ""}${parsed.host}` };
}

/** The options every ssh invocation carries, in the order a person would write them. */
function optionArgs(target: SshTarget, options: SshOptions): string[] {
  return [
    ...(options.sshConfigFile ? ["-F", options.sshConfigFile] : []),
    ...(options.identityFile ? ["-i", options.identityFile, "-o", "IdentitiesOnly=yes"] : []),
    ...(options.knownHostsFile ? ["-o", `UserKnownHostsFile=${options.knownHostsFile}`] : []),
    ...(target.user ? ["-l", target.user] : []),
    ...(target.port ? ["-p", String(target.port)] : []),
  ];
}

/**
 * The argv (without the program) that opens the dial-stdio stream. `-v` makes ssh say
 * which keys it offered, for the diagnosis of a refusal; the transport keeps only those lines.
 *
 * @example
 * dialStdioArgs(parseSshUrl("ssh://buildbox"), {}) // ["-o", "BatchMode=yes", …, "--", "buildbox", "docker", "system", "dial-stdio"]
 */
export function dialStdioArgs(target: SshTarget, options: SshOptions): string[] {
  const timeout = Math.max(1, Math.ceil((options.connectTimeoutMs ?? 30_000) / 1000));
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${timeout}`,
    ...(options.acceptUnknownHostKey ? ["-o", "StrictHostKeyChecking=accept-new"] : []),
    ...optionArgs(target, options),
    "-T",
    "-v",
    "--",
    target.host,
    "docker",
    "system",
    "dial-stdio",
  ];
}

/** `ssh -G`: how ssh resolves the target (HostName, Port, User, IdentityFile, ProxyJump…), for diagnoses. */
export function resolveConfigArgs(target: SshTarget, options: SshOptions): string[] {
  return [...optionArgs(target, options), "-G", "--", target.host];
}

/**
 * A command a person can paste to run `remote` on the same host with the same options.
 *
 * @example
 * sshShellCommand(parseSshUrl("ssh://root@127.0.0.1:2222"), { identityFile: "/k" }, ["docker", "image", "rm", "app:1"])
 * // "ssh -i /k -o IdentitiesOnly=yes -l root -p 2222 127.0.0.1 docker image rm app:1"
 */
export function sshShellCommand(target: SshTarget, options: SshOptions, remote: readonly string[]): string {
  return ["ssh", ...optionArgs(target, options), target.host, ...remote].map(shellQuote).join(" ");
}

/**
 * The flags that make pullback reach the same host again, for suggested commands.
 *
 * @example
 * pullbackSshFlags(parseSshUrl("ssh://buildbox"), { sshConfigFile: "./cfg" }) // "--host ssh://buildbox --ssh-config ./cfg"
 */
export function pullbackSshFlags(target: SshTarget, options: SshOptions): string {
  return [
    "--host",
    target.url,
    ...(options.identityFile ? ["-i", options.identityFile] : []),
    ...(options.knownHostsFile ? ["--known-hosts", options.knownHostsFile] : []),
    ...(options.sshConfigFile ? ["--ssh-config", options.sshConfigFile] : []),
  ]
    .map(shellQuote)
    .join(" ");
}

/** POSIX shell quoting, only where a word needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
