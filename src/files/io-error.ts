/**
 * Local filesystem failures as `io` errors a person can act on: which path,
 * what the system said, and — for a full disk — which filesystem and how much
 * room it has left.
 */
import { statfs, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { PullbackError, isPullbackError, messageOf, type Diagnosis, type RecoveryStep } from "../errors.js";

/** Stable `reason`s of `io` errors, for scripts and `--json`. */
export type IoReason = "disk-full" | "permission-denied" | "read-only" | "is-a-directory" | "not-a-directory" | "missing" | "io-failed";

const REASONS: Readonly<Record<string, IoReason>> = {
  ENOSPC: "disk-full",
  EDQUOT: "disk-full",
  EACCES: "permission-denied",
  EPERM: "permission-denied",
  EROFS: "read-only",
  EISDIR: "is-a-directory",
  ENOTDIR: "not-a-directory",
  ENOENT: "missing",
};

/**
 * Run a filesystem step; its failure becomes an `io` error that names the step and the path.
 *
 * @example
 * await ioStep(() => mkdir(dir, { recursive: true }), `create ${dir}`, dir);
 */
export async function ioStep<T>(step: () => Promise<T>, what: string, path: string): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isPullbackError(error)) throw error;
    throw await ioError(what, path, error);
  }
}

/** The reason an errno stands for. */
export function ioReasonOf(error: unknown): IoReason {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return (typeof code === "string" ? REASONS[code] : undefined) ?? "io-failed";
}

/**
 * The `io` error for a failed step at `path`, with its diagnosis.
 *
 * @example
 * throw await ioError(`write ${file}`, file, enospc);
 */
export async function ioError(what: string, path: string, cause: unknown): Promise<PullbackError> {
  const reason = ioReasonOf(cause);
  const space = reason === "disk-full" ? await spaceAt(path) : undefined;
  const message = `Could not ${what}: ${messageOf(cause)}`;
  return new PullbackError("io", message, { cause, reason, diagnosis: ioDiagnosis(reason, path, message, space) });
}

/**
 * An `io` error pullback raises itself (a check before writing), with the diagnosis of its reason.
 *
 * @example
 * throw ioRefusal("is-a-directory", file, `${file} is a directory; a docker-archive is a file`);
 */
export function ioRefusal(reason: IoReason, path: string, message: string): PullbackError {
  return new PullbackError("io", message, { reason, diagnosis: ioDiagnosis(reason, path, message, undefined) });
}

/** Free room on the filesystem holding `path`, and where that filesystem is mounted. */
export interface Space {
  readonly mountPoint: string;
  readonly type: string;
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/**
 * statfs of the filesystem holding `path` (or its nearest existing parent); undefined when unknown.
 *
 * @example
 * const space = await spaceAt("/srv/images"); // { mountPoint: "/srv", type: "ext4", freeBytes: …, totalBytes: … }
 */
export async function spaceAt(path: string): Promise<Space | undefined> {
  const existing = await nearestExisting(path);
  if (existing === undefined) return undefined;
  try {
    const fs = await statfs(existing);
    return {
      mountPoint: await mountPointOf(existing),
      type: FS_TYPES[fs.type] ?? `type 0x${fs.type.toString(16)}`,
      freeBytes: fs.bavail * fs.bsize,
      totalBytes: fs.blocks * fs.bsize,
    };
  } catch {
    return undefined;
  }
}

/** Human size: "8.0 MiB". */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Known statfs magic numbers (linux/magic.h). */
const FS_TYPES: Readonly<Record<number, string>> = {
  0x01021994: "tmpfs",
  0xef53: "ext4",
  0x58465342: "xfs",
  0x9123683e: "btrfs",
  0x794c7630: "overlayfs",
  0x6969: "nfs",
  0x65735546: "fuse",
  0x2fc12fc1: "zfs",
};

async function nearestExisting(path: string): Promise<string | undefined> {
  let current = path;
  for (let depth = 0; depth < 64; depth++) {
    try {
      await stat(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return undefined;
      current = parent;
    }
  }
  return undefined;
}

/** Walk up while the device stays the same: the last directory on it is the mount point. */
async function mountPointOf(path: string): Promise<string> {
  let current = path;
  const device = (await stat(current)).dev;
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return current;
    const parentDevice = await stat(parent).then(
      (s) => s.dev,
      () => undefined,
    );
    if (parentDevice !== device) return current;
    current = parent;
  }
}

function ioDiagnosis(reason: IoReason, path: string, message: string, space: Space | undefined): Diagnosis {
  switch (reason) {
    case "disk-full":
      return {
        summary: `No space left on the filesystem holding ${path}`,
        explanation: `${sentence(message)}${space ? ` ${describeSpace(space)}.` : ""}`,
        steps: [{ text: "Free space on that filesystem, or write somewhere with more room, then run the same command again" }],
        retryable: false,
      };
    case "permission-denied":
    case "read-only":
      return {
        summary: `pullback may not write ${path}`,
        explanation: `${sentence(message)} ${reason === "read-only" ? "The filesystem is mounted read-only." : "The user running pullback lacks permission there."}`,
        steps: permissionSteps(path),
        retryable: false,
      };
    case "is-a-directory":
    case "not-a-directory":
      return {
        summary: `${path} is ${reason === "is-a-directory" ? "a directory, not a file" : "not a directory"}`,
        explanation: sentence(message),
        steps: [{ text: "Name a path of the right type, or move what is there out of the way" }],
        retryable: false,
      };
    default:
      return {
        summary: `Writing ${path} failed`,
        explanation: sentence(message),
        steps: [{ text: "Check the path, its permissions and the filesystem's health, then run the same command again" }],
        retryable: false,
      };
  }
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** "The filesystem mounted at /tmp/x (tmpfs) has 1.2 MiB free of 8.0 MiB". */
export function describeSpace(space: Space): string {
  return `The filesystem mounted at ${space.mountPoint} (${space.type}) has ${formatBytes(space.freeBytes)} free of ${formatBytes(space.totalBytes)}`;
}

function permissionSteps(path: string): RecoveryStep[] {
  return [
    { text: "Check who owns the path and its directory", command: `ls -ld ${path} ${dirname(path)}` },
    { text: "Write somewhere the current user may write, or run as a user who may write there" },
  ];
}
