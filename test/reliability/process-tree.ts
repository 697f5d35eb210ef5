/**
 * Finding the processes a fault scenario kills: the world's listening sshd must live
 * (other tests need it), only the per-connection processes under it may go.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Parent pid of every live process, from /proc ("pid (comm) state ppid …": comm may hold spaces). */
function parentsOf(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

/**
 * Every live descendant of `root`, children before grandchildren.
 *
 * @example
 * const sessions = descendantsOf(listeningSshdPid(world.stateDir));
 */
export function descendantsOf(root: number): number[] {
  const parents = parentsOf();
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

/**
 * The pid of the world's listening sshd, from the PidFile its config names.
 *
 * @example
 * process.kill(listeningSshdPid(world.stateDir), 0); // alive
 */
export function listeningSshdPid(stateDir: string): number {
  return Number(readFileSync(join(stateDir, "ssh", "sshd.pid"), "utf8").trim());
}

/**
 * SIGKILL each pid that still lives; returns how many were signalled.
 *
 * @example
 * killEach(descendantsOf(sshd)); // drops every SSH connection, keeps the listener
 */
export function killEach(pids: readonly number[]): number {
  let killed = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // already gone
    }
  }
  return killed;
}
