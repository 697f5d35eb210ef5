/**
 * What went wrong on the way to a remote Docker daemon, read from OpenSSH's own
 * words: its exit status (255 = ssh itself failed, else the remote command's) and
 * what it wrote to stderr. Every failure is `daemon-unreachable` (exit code 5) with a
 * stable `reason` and steps that use the same host, port, user and files as the pull.
 * Pure: the transport gathers the facts.
 */
import { PullbackError, type RecoveryStep } from "../../errors.js";
import { shellQuote, sshShellCommand, type SshOptions, type SshTarget } from "./ssh-command.js";

/** What one ssh run told us. */
export interface SshFailureFacts {
  /** ssh's exit status; undefined when it never ran or died of a signal. */
  readonly exitCode: number | undefined;
  /** Lines ssh wrote to stderr, without its `debug1:` chatter. */
  readonly stderr: readonly string[];
  /** The keys ssh offered ("/root/.ssh/id_ed25519 ED25519 SHA256:…", "agent key …"): names and fingerprints only. */
  readonly offered: readonly string[];
  /** True once the session started (ssh sent the command): a later failure is a lost connection, not a refusal. */
  readonly authenticated: boolean;
  /** `ssh -G` output (lower-case keys), when it could be read: where an alias really points. */
  readonly resolved: ReadonlyMap<string, string> | undefined;
  /** The error of spawning ssh, when it could not start. */
  readonly spawnError?: NodeJS.ErrnoException | undefined;
}

interface Context {
  readonly target: SshTarget;
  readonly options: SshOptions;
  readonly facts: SshFailureFacts;
  /** `ssh://buildbox (root@127.0.0.1:2222)`: the URL, and what an alias resolved to. */
  readonly where: string;
  readonly hostName: string;
  readonly port: number;
  readonly knownHosts: string;
  readonly text: string;
}

const DAEMON_DOWN =
  /failed to open the raw stream connection|Cannot connect to the Docker daemon|error during connect|dial unix .*: connect:/i;

/**
 * @example
 * const error = diagnoseSshFailure(parseSshUrl("ssh://buildbox"), {}, facts);
 * error.reason // "ssh-host-key-changed"
 */
export function diagnoseSshFailure(target: SshTarget, options: SshOptions, facts: SshFailureFacts): PullbackError {
  const context = contextOf(target, options, facts);
  if (facts.spawnError) return clientMissing(context, facts.spawnError);
  const text = context.text;
  if (facts.exitCode === 255 || facts.exitCode === undefined) {
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(text)) return hostKeyChanged(context);
    if (/REVOKED HOST KEY|was revoked/i.test(text)) return hostKeyRevoked(context);
    if (/Host key verification failed|No \S+ host key is known for/i.test(text)) return hostKeyUnknown(context);
    if (/Permission denied \(|Too many authentication failures/i.test(text)) return authRefused(context);
    if (facts.authenticated) return connectionLost(context);
    return unreachableHost(context);
  }
  if (facts.exitCode === 127) return dockerMissing(context);
  if (DAEMON_DOWN.test(text)) return daemonDown(context);
  return fail(
    context,
    "ssh-remote-command-failed",
    `docker system dial-stdio on ${context.where} exited with ${facts.exitCode}${lastWords(context)}`,
    [{ text: "Run it by hand to see the remote side's error", command: sshShellCommand(target, options, ["docker", "version"]) }],
  );
}

function contextOf(target: SshTarget, options: SshOptions, facts: SshFailureFacts): Context {
  const resolved = facts.resolved;
  const hostName = resolved?.get("hostname") ?? target.host;
  const port = Number(resolved?.get("port") ?? target.port ?? 22);
  const user = resolved?.get("user") ?? target.user;
  const real = `${user ? `${user}@` : ""}${hostName}:${port}`;
  const plain = `${target.user ? `${target.user}@` : ""}${target.host}:${target.port ?? 22}`;
  const where = real === plain || !resolved ? target.url : `${target.url} (${real})`;
  const knownHosts = options.knownHostsFile ?? resolved?.get("userknownhostsfile")?.split(" ")[0] ?? "~/.ssh/known_hosts";
  return { target, options, facts, where, hostName, port, knownHosts, text: facts.stderr.join("\n") };
}

/** How ssh names a host in known_hosts: bare for port 22, `[host]:port` otherwise. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function keyscan(context: Context): string {
  return `ssh-keyscan -p ${context.port} ${shellQuote(context.hostName)} >> ${shellQuote(context.knownHosts)}`;
}

function hostKeyChanged(context: Context): PullbackError {
  const offending = /Offending \S+ key in (\S+):(\d+)/.exec(context.text);
  const file = offending?.[1] ?? context.knownHosts;
  const removal = /ssh-keygen -f "([^"]+)" -R "([^"]+)"/.exec(context.text);
  const remove = removal
    ? `ssh-keygen -f ${shellQuote(removal[1] ?? file)} -R ${shellQuote(removal[2] ?? "")}`
    : `ssh-keygen -f ${shellQuote(file)} -R ${shellQuote(knownHostsName(context.hostName, context.port))}`;
  const fingerprint = /The fingerprint for the \S+ key sent by the remote host is\s+(\S+?)\.?$/m.exec(context.text)?.[1];
  return fail(
    context,
    "ssh-host-key-changed",
    `the host key of ${context.where} does not match ${file}${offending ? ` (line ${offending[2]})` : ""} — refusing to connect (someone may be intercepting the connection, or the host was reinstalled)`,
    [
      {
        text: `Confirm with the host's owner that its key changed${fingerprint ? ` (it now presents ${fingerprint})` : ""}, then remove the old entry`,
        command: remove,
      },
      { text: "Add the new key", command: keyscan(context) },
    ],
  );
}

function hostKeyRevoked(context: Context): PullbackError {
  return fail(
    context,
    "ssh-host-key-revoked",
    `the host key of ${context.where} is marked @revoked in the known_hosts files — refusing to connect (the key may have been stolen)`,
    [{ text: "Do not connect: ask the host's owner for the host's new key and add it", command: keyscan(context) }],
  );
}

function hostKeyUnknown(context: Context): PullbackError {
  return fail(
    context,
    "ssh-host-key-unknown",
    `the host key of ${context.where} is not in ${context.knownHosts} — refusing to trust it silently`,
    [
      { text: "Check the key's fingerprint with the host's owner, then add it", command: keyscan(context) },
      {
        text: "Or connect once with ssh, which asks you to confirm the key",
        command: sshShellCommand(context.target, context.options, ["true"]),
      },
    ],
  );
}

function authRefused(context: Context): PullbackError {
  const offered = context.facts.offered;
  const said = offered.length === 0 ? "ssh had no key to offer" : `ssh offered ${offered.join("; ")}`;
  const user = context.facts.resolved?.get("user") ?? context.target.user ?? "the remote user";
  return fail(context, "ssh-auth-refused", `SSH refused the key for ${context.where}: ${said}`, [
    {
      text: `Check that one of these keys (or its certificate's CA) is accepted for ${user} on the host (authorized_keys, TrustedUserCAKeys)`,
    },
    context.options.identityFile
      ? { text: "Try the key by hand", command: sshShellCommand(context.target, context.options, ["true"]) }
      : { text: "Or name the key to use", command: sshShellCommand(context.target, { ...context.options, identityFile: "KEY" }, ["true"]) },
  ]);
}

function unreachableHost(context: Context): PullbackError {
  const jump = context.facts.resolved?.get("proxyjump");
  const proxy = context.facts.resolved?.get("proxycommand");
  const connect = /connect to host (\S+) port (\d+): ([^\n]+)/.exec(context.text);
  const resolve = /Could not resolve hostname (\S+?):\s*([^\n]+)/.exec(context.text);
  const behindJump = /open failed: ([^\n]+)|stdio forwarding failed/.exec(context.text);
  if ((jump || proxy) && behindJump) {
    return fail(
      context,
      "ssh-target-unreachable",
      `the bastion was reached (${jump ? `ProxyJump ${jump}` : "ProxyCommand"}), but it cannot connect to ${context.hostName}:${context.port}${behindJump[1] ? `: ${behindJump[1].trim()}` : ""}`,
      [
        {
          text: "Check the HostName and Port as the bastion sees them, and that sshd runs there",
          command: sshShellCommand(context.target, context.options, ["true"]),
        },
      ],
    );
  }
  if (jump || proxy) {
    const what = connect
      ? `${connect[1]}:${connect[2]}: ${connect[3]}`
      : resolve
        ? `${resolve[1]}: ${resolve[2]}`
        : lastWords(context).replace(/^: /, "");
    return fail(
      context,
      "ssh-bastion-unreachable",
      `cannot reach the bastion (${jump ? `ProxyJump ${jump}` : `ProxyCommand ${proxy ?? ""}`}) on the way to ${context.where}: ${what}`,
      [
        jump
          ? {
              text: "Check that the bastion answers on its own",
              command: `ssh${context.options.sshConfigFile ? ` -F ${shellQuote(context.options.sshConfigFile)}` : ""} ${shellQuote(jumpDestination(jump))} true`,
            }
          : { text: `Check the ProxyCommand on its own: ${proxy ?? ""}` },
      ],
    );
  }
  const why = connect
    ? `${connect[3]}`
    : resolve
      ? `cannot resolve ${resolve[1]}: ${resolve[2]}`
      : lastWords(context).replace(/^: /, "") || "ssh failed";
  return fail(context, "ssh-host-unreachable", `cannot reach ${context.where}: ${why}`, [
    {
      text: "Check that sshd listens there and the name resolves",
      command: sshShellCommand(context.target, context.options, ["docker", "version"]),
    },
  ]);
}

/** The first hop of a ProxyJump as ssh accepts it on a command line: an alias, or an ssh:// URI when it has a port. */
function jumpDestination(jump: string): string {
  const first = jump.split(",")[0] ?? jump;
  return /:\d+$/.test(first) ? `ssh://${first}` : first;
}

function connectionLost(context: Context): PullbackError {
  return fail(
    context,
    "ssh-connection-lost",
    `the SSH connection to ${context.where} was lost${lastWords(context)}`,
    [{ text: "Run the pull again; if it keeps dropping, check the network and sshd's log on the host" }],
    true,
  );
}

function dockerMissing(context: Context): PullbackError {
  return fail(
    context,
    "ssh-remote-docker-missing",
    `the docker CLI is not installed on ${context.where}, or not on the PATH ssh sessions get${lastWords(context)}`,
    [
      {
        text: "Install Docker on the host (the docker CLI runs `docker system dial-stdio` there, as pullback does)",
        command: sshShellCommand(context.target, context.options, ["command", "-v", "docker"]),
      },
    ],
  );
}

function daemonDown(context: Context): PullbackError {
  return fail(
    context,
    "ssh-remote-daemon-down",
    `the Docker daemon on ${context.where} is not answering${lastWords(context)}`,
    [
      { text: "Start it on the host", command: sshShellCommand(context.target, context.options, ["sudo", "systemctl", "start", "docker"]) },
      {
        text: "Check that the SSH user may use the Docker socket",
        command: sshShellCommand(context.target, context.options, ["docker", "version"]),
      },
    ],
    true,
  );
}

function clientMissing(context: Context, error: NodeJS.ErrnoException): PullbackError {
  const program = context.options.sshCommand ?? "ssh";
  return fail(
    context,
    "ssh-client-missing",
    `cannot run the OpenSSH client "${program}" to reach ${context.where}: ${error.code ?? error.message}`,
    [{ text: "Install the OpenSSH client (the docker CLI needs it for ssh:// hosts too)", command: "sudo apt-get install openssh-client" }],
  );
}

/** The last thing ssh said, as a clause. */
function lastWords(context: Context): string {
  const lines = context.facts.stderr.map((l) => l.trim()).filter((l) => l && !/^Warning: Permanently added/.test(l));
  const last = lines.at(-1);
  return last ? `: ${last}` : "";
}

function fail(context: Context, reason: string, message: string, steps: RecoveryStep[], retryable = false): PullbackError {
  const explanation = context.text.trim()
    ? `ssh said: ${context.facts.stderr
        .filter((l) => !/^@+$/.test(l.trim()))
        .slice(-8)
        .join(" | ")}`
    : message;
  return new PullbackError("daemon-unreachable", message, { reason, diagnosis: { summary: message, explanation, steps, retryable } });
}
