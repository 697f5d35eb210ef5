/**
 * Replace a file so that a reader (k3s at start-up, a tool reading an OCI
 * layout's index.json) sees the old content or the new, never half of either:
 * a temp file in the same directory, fsync, rename, then the directory fsynced.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ioStep } from "./io-error.js";

export interface AtomicWriteOptions {
  /** Permission bits of the new file, set exactly (the umask does not narrow them). Default 0644. */
  readonly mode?: number | undefined;
  /**
   * Runs after the temp file is written and synced, before the rename. A seam for
   * tests: throwing here is a crash at the worst moment.
   */
  readonly beforeRename?: ((tempPath: string) => void | Promise<void>) | undefined;
}

/**
 * Write `content` to `path` atomically, keeping the old file's owner and writing
 * through a symlink to the file it names. Failures are `io` errors naming the path.
 *
 * @example
 * await writeFileAtomic("/etc/rancher/k3s/registries.yaml", yamlText, { mode: 0o600 });
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const target = await resolveTarget(path);
  const directory = dirname(target);
  const mode = options.mode ?? 0o644;
  await ioStep(() => mkdir(directory, { recursive: true }), `create ${directory}`, directory);
  const owner = await stat(target).then(
    (s) => ({ uid: s.uid, gid: s.gid }),
    () => undefined,
  );
  const temp = join(directory, `.${basename(target)}.pullback-${randomBytes(6).toString("hex")}.tmp`);
  try {
    await ioStep(
      async () => {
        const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
        try {
          await handle.writeFile(content);
          await handle.chmod(mode);
          // Keep the owner an installer gave the file; only root can, and nobody else needs to.
          if (owner !== undefined) await handle.chown(owner.uid, owner.gid).catch(() => undefined);
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
      `write ${target}`,
      target,
    );
    await options.beforeRename?.(temp);
    await ioStep(() => rename(temp, target), `write ${target}`, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
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

/**
 * Make a rename in `directory` durable. Some filesystems refuse to fsync a
 * directory; the rename itself is still atomic, so that is not worth failing for.
 *
 * @example
 * await rename(temp, file); await syncDirectory(dirname(file));
 */
export async function syncDirectory(directory: string): Promise<void> {
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
