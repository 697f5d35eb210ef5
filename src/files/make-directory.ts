/**
 * Create a directory and its parents in one bounded pass. Node 20's recursive mkdir
 * loops forever where a parent exists but refuses children with ENOENT (/proc, sysfs):
 * `mkdirSync("/proc/zz/b", { recursive: true })` never returns. Here every component is
 * tried once, top-down, so an impossible destination is an error at once.
 */
import { mkdir, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { ioError } from "./io-error.js";

/**
 * @example
 * await makeDirectory("/srv/images/app"); // creates /srv/images and /srv/images/app when missing
 */
export async function makeDirectory(path: string): Promise<void> {
  const absolute = resolve(path);
  const parts = absolute.split(sep).filter((part) => part !== "");
  let current = absolute.startsWith(sep) ? sep : "";
  for (const part of parts) {
    current = current === sep ? `${sep}${part}` : `${current}${sep}${part}`;
    await makeOne(current, absolute);
  }
}

async function makeOne(dir: string, wanted: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: fine if it is a directory. EACCES/EPERM on an existing parent (/, /home) is fine too.
    const info = ["EEXIST", "EACCES", "EPERM", "EROFS"].includes(code ?? "") ? await stat(dir).catch(() => undefined) : undefined;
    if (info?.isDirectory()) return;
    const cause =
      info === undefined ? error : Object.assign(new Error(`${dir} exists and is not a directory`), { code: "ENOTDIR", path: dir });
    // The same io diagnosis as any other write: which path, which reason (permission, read-only, …).
    throw await ioError(`create ${wanted}`, wanted, cause);
  }
}
