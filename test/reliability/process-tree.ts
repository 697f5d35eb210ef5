/**
 * Finding the processes a fault scenario kills: the world's listening sshd must live
 * (other tests need it), only the per-connection processes under it may go.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export { descendants as descendantsOf } from "../world/process.js";

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
