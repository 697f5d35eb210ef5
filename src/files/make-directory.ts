/**
 * Create a directory and its parents in one bounded pass. Node 20's recursive mkdir
 * loops forever where a parent exists but refuses children with ENOENT (/proc, sysfs):
 * `mkdirSync("/proc/zz/b", { recursive: true })` never returns. Here every component is
 * tried once, top-down, so an impossible destination is an error at once.
 */
import { mkdir, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { PullbackError, messageOf } from "../errors.js";

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
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: fine if it is a directory. EACCES/EPERM on an existing parent (/, /home) is fine too.
    if (code === "EEXIST" || code === "EACCES" || code === "EPERM" || code === "EROFS") {
      const info = await stat(dir).catch(() => undefined);
      if (info?.isDirectory()) return;
      if (info !== undefined) throw failure(wanted, `${dir} exists and is not a directory`, error);
    }
    throw failure(wanted, `${dir}: ${messageOf(error)}`, error);
  }
}

function failure(wanted: string, detail: string, cause: unknown): PullbackError {
  return new PullbackError("io", `Could not create the directory ${wanted}: ${detail}`, {
    cause,
    diagnosis: {
      summary: `${wanted} cannot be created`,
      explanation: `The destination's directory does not exist and the filesystem refused to create it (${detail}).`,
      steps: [{ text: "Choose a destination on a writable filesystem, or create the directory first" }],
      retryable: false,
    },
  });
}
