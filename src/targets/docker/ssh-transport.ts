/**
 * A Docker daemon reached over SSH the way the docker CLI reaches it: the system
 * OpenSSH client runs `docker system dial-stdio` on the host, and HTTP flows over
 * ssh's stdin/stdout. The only module that spawns `ssh`.
 *
 * One http.Agent with a single keep-alive socket carries every Engine request of a
 * session over that one stream, so a pull — or every image of a set on this host —
 * opens exactly one SSH connection, and the host's pulls go one after another. Several
 * dial-stdio channels over one ControlMaster connection were measured instead
 * (bench/ssh-channels.ts): each new channel starts a remote `docker` process and costs
 * seconds, which only long pulls win back. When ssh
 * fails, the socket fails with a typed error read from ssh's exit status and stderr,
 * never an uncaught exception.
 */
import { spawn, execFile, type ChildProcessWithoutNullStreams } from "node:child_process";
import { Agent } from "node:http";
import { Duplex } from "node:stream";
import type { PullbackError } from "../../errors.js";
import {
  dialStdioArgs,
  parseSshUrl,
  pullbackSshFlags,
  resolveConfigArgs,
  sshShellCommand,
  type SshOptions,
  type SshTarget,
} from "./ssh-command.js";
import { diagnoseSshFailure, type SshFailureFacts } from "./ssh-diagnosis.js";

/** Variables that may carry a secret never reach the ssh child (SendEnv could forward them). */
const SECRET_VARIABLE = /^PULLBACK_|TOKEN|PASSWORD|SECRET|CREDENTIAL/i;
const STDERR_LINES = 40;

/** One remote Docker host over the system ssh: an Agent for the Engine client, and commands for diagnoses. */
export class SshDockerTransport {
  readonly target: SshTarget;
  readonly #options: SshOptions;
  #agent: Agent | undefined;
  /** ssh started by dial() and not yet asked for by node:http. */
  #early: SshStdioSocket | undefined;

  constructor(url: string, options: SshOptions = {}) {
    this.target = parseSshUrl(url);
    this.#options = options;
  }

  /**
   * Start ssh now rather than at the first request: its handshake and the remote docker
   * process take most of a connection's time, and loading node:http then overlaps them.
   */
  dial(): void {
    this.#early ??= this.#dial();
  }

  /** The Agent for node:http; its one socket is ssh's stdio. Made on first use, so node:http loads after dial(). */
  get agent(): Agent {
    if (this.#agent) return this.#agent;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    (agent as unknown as { createConnection: () => Duplex }).createConnection = () => this.#take();
    return (this.#agent = agent);
  }

  /** A command line that runs `remote` on the same host with the same options, for a person to paste. */
  shellCommand(remote: readonly string[]): string {
    return sshShellCommand(this.target, this.#options, remote);
  }

  /** `--host … [-i …] [--known-hosts …] [--ssh-config …]`: pullback's flags for the same host. */
  pullbackFlags(): string {
    return pullbackSshFlags(this.target, this.#options);
  }

  close(): void {
    this.#agent?.destroy();
    this.#early?.destroy();
    this.#early = undefined;
  }

  /** The socket started early, or a new one (the first broke, or there was none). */
  #take(): SshStdioSocket {
    const socket = this.#early ?? this.#dial();
    this.#early = undefined;
    socket.handOver();
    return socket;
  }

  #dial(): SshStdioSocket {
    const env = childEnv(this.#options.env ?? process.env);
    const program = this.#options.sshCommand ?? "ssh";
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(program, dialStdioArgs(this.target, this.#options), { env, stdio: "pipe" });
    } catch (error) {
      const socket = new SshStdioSocket(undefined);
      void this.#diagnose({ ...emptyFacts(), spawnError: error as NodeJS.ErrnoException }).then((e) => socket.fail(e));
      return socket;
    }
    const socket = new SshStdioSocket(child);
    const stderr = new StderrReader(this.#options.onNotice);
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let ended = false;
    const end = (facts: SshFailureFacts): void => {
      if (ended) return;
      ended = true;
      if (facts.exitCode === 0) socket.finish();
      else if (!socket.destroyed) void this.#diagnose(facts).then((error) => socket.fail(error));
    };
    // ENOENT/EACCES: ssh never ran, and "close" may not follow.
    child.on("error", (error: NodeJS.ErrnoException) => end({ ...emptyFacts(), spawnError: error }));
    child.on("close", (code) =>
      end({
        exitCode: code ?? undefined,
        stderr: stderr.lines,
        offered: stderr.offered,
        authenticated: stderr.authenticated,
        resolved: undefined,
      }),
    );
    return socket;
  }

  /** Read where the alias points (`ssh -G`, no network) so the diagnosis names the real host, port and files. */
  async #diagnose(facts: SshFailureFacts): Promise<PullbackError> {
    const resolved = facts.spawnError ? undefined : await this.#resolveConfig();
    return diagnoseSshFailure(this.target, this.#options, { ...facts, resolved });
  }

  #resolveConfig(): Promise<ReadonlyMap<string, string> | undefined> {
    return new Promise((resolve) => {
      const env = childEnv(this.#options.env ?? process.env);
      execFile(
        this.#options.sshCommand ?? "ssh",
        resolveConfigArgs(this.target, this.#options),
        { env, timeout: 5_000 },
        (error, stdout) => {
          if (error) return resolve(undefined);
          const map = new Map<string, string>();
          for (const line of stdout.split("\n")) {
            const space = line.indexOf(" ");
            if (space > 0 && !map.has(line.slice(0, space))) map.set(line.slice(0, space), line.slice(space + 1));
          }
          resolve(map);
        },
      );
    });
  }
}

function emptyFacts(): SshFailureFacts {
  return { exitCode: undefined, stderr: [], offered: [], authenticated: false, resolved: undefined };
}

function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_VARIABLE.test(name)));
}

/** ssh's stderr, line by line: `-v` chatter is dropped except the keys offered and the moment auth succeeded. */
class StderrReader {
  readonly lines: string[] = [];
  readonly offered: string[] = [];
  authenticated = false;
  #partial = "";
  #hostKey: string | undefined;
  readonly #onNotice: ((message: string) => void) | undefined;

  constructor(onNotice?: (message: string) => void) {
    this.#onNotice = onNotice;
  }

  push(chunk: Buffer): void {
    const text = this.#partial + chunk.toString("utf8");
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#line(line);
  }

  #line(raw: string): void {
    // The remote's stderr and ssh's own -v lines share one pipe: a debug line may cut into another.
    const line = raw.startsWith("debug") ? raw : raw.replace(/debug\d: .*$/, "");
    const offering = /^debug1: Offering public key: (.*)$/.exec(line);
    // A host with a certificate says "Server host certificate: TYPE-cert-v01@openssh.com FP, serial …"; known_hosts records the plain key.
    const hostKey = /^debug1: Server host (?:key|certificate): (\S+?)(?:-cert-v01@openssh\.com)? ([^\s,]+)/.exec(line);
    const added = /^Warning: Permanently added (.*) to the list of known hosts\.?$/.exec(line.trim());
    if (offering?.[1]) this.offered.push(offering[1].trim());
    else if (hostKey?.[1]) this.#hostKey = `${hostKey[1]} ${hostKey[2] ?? ""}`;
    // accept-new recorded a key nobody listed: say which, as ssh does, so the user can compare it.
    else if (added?.[1])
      this.#onNotice?.(`the host key of ${added[1]} was not known and has been recorded${this.#hostKey ? ` (${this.#hostKey})` : ""}`);
    // Only the outer ssh sends the command; a ProxyJump's inner ssh authenticating to the bastion does not count.
    else if (/^debug1: Sending command: docker system dial-stdio/.test(line)) this.authenticated = true;
    else if (!line.startsWith("debug") && line.trim() && !/^(Transferred|Bytes per second):|^OpenSSH_|^Authenticated to /.test(line)) {
      this.lines.push(line);
      if (this.lines.length > STDERR_LINES) this.lines.shift();
    }
  }
}

/**
 * ssh's stdout and stdin as the socket node:http expects. The end of stdout is held
 * back until ssh's exit status is known, so a refused connection fails with ssh's
 * diagnosis rather than a bare "socket hang up".
 */
class SshStdioSocket extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams | undefined;
  /** Whether node:http holds this socket (and so listens for its errors). */
  #handedOver = false;
  /** A failure that came before node:http did, kept until it can be heard. */
  #failure: PullbackError | undefined;

  constructor(child: ChildProcessWithoutNullStreams | undefined) {
    super({ allowHalfOpen: false });
    this.#child = child;
    if (!child) return;
    child.stdout.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    // EPIPE after ssh died: the exit status tells the story.
    child.stdin.on("error", () => undefined);
  }

  /** ssh ended cleanly: end the stream once the data is through. */
  finish(): void {
    this.push(null);
  }

  fail(error: PullbackError): void {
    if (this.#handedOver) this.destroy(error);
    else this.#failure = error;
  }

  /** node:http now owns the socket: an earlier failure is raised once its listeners are on. */
  handOver(): void {
    this.#handedOver = true;
    const failure = this.#failure;
    if (failure) process.nextTick(() => this.destroy(failure));
  }

  override _read(): void {
    this.#child?.stdout.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.#child || this.#child.stdin.destroyed) return callback();
    this.#child.stdin.write(chunk, encoding, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child?.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      // Closing stdin ends dial-stdio and with it ssh; a hung ssh is stopped.
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGTERM"), 2_000);
      timer.unref();
      child.once("exit", () => clearTimeout(timer));
    }
    callback(error);
  }

  // node:http treats its socket as a net.Socket and calls these knobs; a pipe pair has none.
  setTimeout(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  ref(): this {
    this.#child?.ref();
    for (const stream of this.#pipes()) stream.ref?.();
    return this;
  }
  unref(): this {
    // An idle keep-alive connection must not keep the process alive.
    this.#child?.unref();
    for (const stream of this.#pipes()) stream.unref?.();
    return this;
  }

  #pipes(): { ref?: () => void; unref?: () => void }[] {
    const child = this.#child;
    return child ? ([child.stdout, child.stdin, child.stderr] as { ref?: () => void; unref?: () => void }[]) : [];
  }
}
