import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Mount points at or below `dir`, deepest first (dockerd may leave some in its data root). */
async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  const points = table
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)));
  return points.sort((a, b) => b.length - a.length);
}

/**
 * Removes a world's state dir, unmounting whatever is mounted inside it first
 * so `rm` never walks into a mount.
 *
 * @example
 * await removeStateDir("/tmp/pullback-world-abc123");
 */
export async function removeStateDir(dir: string): Promise<void> {
  if (!dir.startsWith("/tmp/pullback-world-")) throw new Error(`refusing to remove ${dir}: not a world state dir`);
  for (const point of await mountsUnder(dir)) await run("umount", ["-l", point]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
