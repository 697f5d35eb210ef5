/**
 * A lock on a file path that works across processes and survives a crashed holder.
 *
 * The lock is `<path>.lock`, created with O_EXCL and holding the owner's pid and
 * process start time. A waiter treats it as stale when that process is gone, or when
 * the pid now belongs to a process started at another time (pid reuse) — not after a
 * fixed age, so a holder busy for minutes (a large blob) keeps its lock, and no timer
 * has to keep it fresh. A lock file left empty by a crash between create and write is
 * stale once it is a few seconds old.
 *
 * Why not proper-lockfile: its staleness is an mtime the holder refreshes on a timer,
 * so a holder stalled longer than the threshold loses its lock while still writing,
 * and it brings three dependencies; pid + start time is exact on one machine, which
 * is where an OCI layout or an archive is written. (Locks on network filesystems shared
 * by several machines are not judged stale: another host's pid says nothing here.)
 */
import { readFileSync } from "node:fs";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { PullbackError, messageOf } from "../errors.js";

export interface LockOptions {
  /** Give up after this long waiting for a live holder. Default: wait as long as the holder lives. */
  readonly timeoutMs?: number | undefined;
  /** What is locked, for the timeout message: "the index of /srv/layout". */
  readonly what?: string | undefined;
}

interface Owner {
  readonly pid: number;
  readonly start: string | undefined;
  readonly host: string;
}

/** A lock file without an owner yet (crash between create and write) is this old before it is broken. */
const EMPTY_LOCK_GRACE_MS = 5_000;
const MAX_POLL_MS = 200;

/**
 * Run `fn` holding the lock on `path`; the lock is released when it settles.
 *
 * @example
 * await withLock("/srv/layout/index.json", async () => writeIndex(await readIndex()));
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = `${path}.lock`;
  await acquire(lock, options);
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function acquire(lock: string, options: LockOptions): Promise<void> {
  const started = Date.now();
  let pause = 5;
  for (;;) {
    if (await tryCreate(lock)) return;
    await breakIfStale(lock);
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
      throw new PullbackError(
        "io",
        `Timed out after ${options.timeoutMs} ms waiting for ${options.what ?? lock}: ${lock} is held by a running process`,
        {
          diagnosis: {
            summary: `Another pullback holds ${lock}`,
            explanation: "Another process is writing to the same place and has not finished.",
            steps: [{ text: `Wait for it to finish, or remove ${lock} if no pullback is running.` }],
            retryable: true,
          },
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

async function tryCreate(lock: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lock, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new PullbackError("io", `Could not create the lock ${lock}: ${messageOf(error)}`, { cause: error });
  }
  try {
    await handle.writeFile(JSON.stringify(self()));
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Remove `lock` when its owner is gone. The inode is compared just before unlinking, so a
 * waiter that read the stale lock late does not remove the fresh lock another waiter made.
 */
async function breakIfStale(lock: string): Promise<void> {
  let before;
  let text;
  try {
    before = await stat(lock);
    text = await readFile(lock, "utf8");
  } catch {
    return; // released meanwhile
  }
  const owner = parseOwner(text);
  const stale = owner === undefined ? Date.now() - before.mtimeMs > EMPTY_LOCK_GRACE_MS : isGone(owner);
  if (!stale) return;
  try {
    if ((await stat(lock)).ino === before.ino) await unlink(lock);
  } catch {
    // removed by another waiter first
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const value = JSON.parse(text) as Partial<Owner> | null;
    if (typeof value?.pid !== "number" || typeof value.host !== "string") return undefined;
    return { pid: value.pid, start: typeof value.start === "string" ? value.start : undefined, host: value.host };
  } catch {
    return undefined;
  }
}

function isGone(owner: Owner): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  const start = startTimeOf(owner.pid);
  return owner.start !== undefined && start !== undefined && start !== owner.start;
}

/** This process as a lock's owner: read once, as it never changes (a pull takes a lock per blob). */
let me: Owner | undefined;
function self(): Owner {
  me ??= { pid: process.pid, start: startTimeOf(process.pid), host: hostname() };
  return me;
}

/** The kernel's start time of `pid` (Linux: field 22 of /proc/PID/stat), to tell a reused pid apart. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
