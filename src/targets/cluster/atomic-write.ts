/**
 * Replace a file so that a reader (k3s at start-up) sees the old content or the
 * new, never half of either: a temp file in the same directory, fsync, rename.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PullbackError, messageOf } from "../../errors.js";

export interface AtomicWriteOptions {
  /** Permission bits of the new file (default 0600: it holds credentials). */
  readonly mode?: number;
  /**
   * Runs after the temp file is written and synced, before the rename. A seam for
   * tests: throwing here is a crash at the worst moment.
   */
  readonly beforeRename?: (tempPath: string) => void | Promise<void>;
}

/**
 * Write `text` to `path` atomically, mode 0600, keeping the old file's owner.
 *
 * @example
 * await writeFileAtomic("/etc/rancher/k3s/registries.yaml", yamlText);
 */
export async function writeFileAtomic(path: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  const target = await resolveTarget(path);
  const directory = dirname(target);
  await mkdir(directory, { recursive: true }).catch((error: unknown) => {
    throw ioError(`Cannot create ${directory}`, error);
  });
  const owner = await stat(target).then(
    (s) => ({ uid: s.uid, gid: s.gid }),
    () => undefined,
  );
  const temp = join(directory, `.${basename(target)}.pullback-${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode ?? 0o600);
    try {
      await handle.writeFile(text, "utf8");
      // The umask may have narrowed the mode; set it exactly.
      await handle.chmod(options.mode ?? 0o600);
      // Keep the owner k3s's installer gave the file; only root can, and nobody else needs to.
      if (owner !== undefined) await handle.chown(owner.uid, owner.gid).catch(() => undefined);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.(temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof PullbackError) throw error;
    throw ioError(`Cannot write ${target}`, error);
  }
  await syncDirectory(directory);
}

/** Write through a symlink to the file it names, so the link survives. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/** Make the rename itself durable; some filesystems refuse to sync a directory, which is not worth failing for. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

function ioError(message: string, cause: unknown): PullbackError {
  return new PullbackError("io", `${message}: ${messageOf(cause)}`, { cause });
}
