import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** A child process the world started, in its own process group so its children stop with it. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves when the process has exited; never rejects. */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  stop(graceMs?: number): Promise<void>;
}

const alive = new Set<ManagedProcess>();
let exitHookInstalled = false;

/** If the Node process dies without a teardown, do not leave daemons behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const managed of alive) signalGroup(managed.child, "SIGKILL");
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Every live descendant of `root`, found through /proc (sshd's sessions call setsid and leave our group).
 *
 * @example
 * const sessions = descendants(sshdPid);
 */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so split after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

function isInGroup(pid: number, group: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === group;
  } catch {
    return true;
  }
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Spawns `command` detached with stdout and stderr appended to `logFile`.
 * The arguments must never contain a secret: argv is visible to every user.
 *
 * @example
 * const registry = startProcess("registry", "/usr/bin/docker-registry", ["serve", config], `${dir}/registry.log`);
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): ManagedProcess {
  installExitHook();
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      done = true;
      resolve(code);
    });
    child.once("error", () => {
      done = true;
      resolve(null);
    });
  });
  const managed: ManagedProcess = {
    name,
    child,
    logFile,
    exited,
    hasExited: () => done,
    async stop(graceMs = 10_000) {
      const strays = child.pid === undefined || done ? [] : descendants(child.pid).filter((pid) => !isInGroup(pid, child.pid!));
      if (!done) {
        signalGroup(child, "SIGTERM");
        const cancel = new AbortController();
        const timer = sleep(graceMs, "timeout" as const, { signal: cancel.signal }).catch(() => "cancelled" as const);
        const result = await Promise.race([exited, timer]);
        cancel.abort();
        if (result === "timeout") {
          signalGroup(child, "SIGKILL");
          await exited;
        }
      }
      // Stragglers in the group (containerd under dockerd) go too.
      signalGroup(child, "SIGKILL");
      killAll(strays);
      alive.delete(managed);
    },
  };
  alive.add(managed);
  return managed;
}

/** The last lines of a log, to explain a failed start. */
export async function logTail(logFile: string, lines = 20): Promise<string> {
  try {
    return (await readFile(logFile, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Polls `ready` until it returns true; fails early when the process exits.
 *
 * @example
 * await waitUntil(registry, () => httpOk(url), 20_000);
 */
export async function waitUntil(managed: ManagedProcess, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (managed.hasExited()) {
      throw new Error(`${managed.name} exited during start:\n${await logTail(managed.logFile)}`);
    }
    if (await ready().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${managed.name} not ready after ${timeoutMs} ms:\n${await logTail(managed.logFile)}`);
}
