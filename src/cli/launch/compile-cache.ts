/**
 * V8's code cache for the CLI bundle, kept in the user's own cache folder. Node 20 compiles
 * a start-up's JavaScript afresh every time (module.enableCompileCache came with Node 22),
 * and for a short command that compile is most of what pullback adds to `node -e 0`.
 *
 * A cache is code, so it is only ever read from a folder this user owns that nobody else can
 * write (never a shared temporary folder), and written atomically with mode 0600. V8 refuses
 * by itself a cache made by another V8 version or with other flags, but of the source it checks
 * only the length: a cache is therefore filed under the bundle's build id (a hash of its
 * content, its last line) and the command, so each command's cache holds what it compiled —
 * and under the process's options, so that runs with and without, say,
 * NODE_OPTIONS=--max-old-space-size each keep a cache instead of replacing each other's.
 */
import { isAscii } from "node:buffer";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync } from "node:fs";
import { isAbsolute, join } from "node:path";

/** What the folder is chosen from: the environment and facts about the process, passed in. */
export interface CacheFolderInputs {
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
}

/**
 * The folder for the cache, or undefined when there is none: `NODE_DISABLE_COMPILE_CACHE`
 * (Node's own switch) or `PULLBACK_COMPILE_CACHE=off` turns it off; an absolute
 * `PULLBACK_COMPILE_CACHE` chooses it; otherwise the platform's per-user cache folder.
 *
 * @example
 * compileCacheFolder({ env: { HOME: "/home/ann" }, platform: "linux" }) // "/home/ann/.cache/pullback/v8"
 */
export function compileCacheFolder({ env, platform }: CacheFolderInputs): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const chosen = env.PULLBACK_COMPILE_CACHE;
  if (chosen === "off" || chosen === "0") return undefined;
  if (chosen) return isAbsolute(chosen) ? chosen : undefined;
  const base = perUserCacheFolder(env, platform);
  return base !== undefined && isAbsolute(base) ? join(base, "pullback", "v8") : undefined;
}

function perUserCacheFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  if (platform === "win32") return env.LOCALAPPDATA;
  if (!env.HOME) return undefined;
  if (platform === "darwin") return join(env.HOME, "Library", "Caches");
  // The XDG spec says a relative XDG_CACHE_HOME is to be ignored.
  return env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(env.HOME, ".cache");
}

/** The source of the file to compile, and the identity a cache of it is filed under. */
export interface BundleSource {
  readonly text: string;
  /** The build id scripts/bundle.ts ends the bundle with; else size, modification time and inode. */
  readonly identity: string;
}

const BUILD_ID = /\n\/\/# pullbackBundleId=([0-9a-f]{32})\n$/;

/** @example readBundle("/usr/lib/node_modules/pullback/dist/cli/pullback.cjs").identity // "9f86d081884c7d659a2feaa0c55ad015" */
export function readBundle(file: string): BundleSource {
  const fd = openSync(file, "r");
  try {
    const { size, mtimeMs, ino } = fstatSync(fd);
    const text = readText(fd, size);
    // npm gives every file it installs the same modification time, and a freed inode is soon reused:
    // only the content tells two builds of the same size apart.
    const built = BUILD_ID.exec(text.slice(-64))?.[1];
    if (built !== undefined) return { text, identity: built };
    return { text, identity: `${size}-${Math.trunc(mtimeMs)}-${ino}` };
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's text, read in one go. esbuild writes ASCII (it escapes everything else), and ASCII
 * becomes a string by a plain copy: ~1 ms less than decoding the bundle as UTF-8 in 8 KiB reads.
 */
function readText(fd: number, size: number): string {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, bytes, filled, size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  const content = bytes.subarray(0, filled);
  return isAscii(content) ? content.toString("latin1") : content.toString("utf8");
}

/** One cache file: what it held when opened, and how to replace it. */
export interface CompileCache {
  readonly data: Buffer | undefined;
  save(data: Buffer): Promise<void>;
}

export interface CompileCacheOptions {
  readonly folder: string;
  /** Which cache of the bundle: the command's name. */
  readonly key: string;
  readonly bundle: BundleSource;
  /** The process's user id (POSIX), or undefined where there is none (Windows). */
  readonly uid: number | undefined;
  /** The options Node runs with (its execArgv and NODE_OPTIONS, joined); V8 refuses a cache made under other flags. */
  readonly nodeOptions?: string;
}

/** Caches of another bundle or Node left this long ago are removed when a new cache is written. */
const STALE_MS = 30 * 24 * 3600 * 1000;

/**
 * The cache file for this bundle, Node and command; undefined when the folder is not safely ours.
 * Never throws: a cache that cannot be read or written only means compiling as usual.
 *
 * @example
 * const cache = openCompileCache({ folder, key: "check", bundle, uid: process.getuid?.() });
 */
export function openCompileCache({ folder, key, bundle, uid, nodeOptions }: CompileCacheOptions): CompileCache | undefined {
  if (!ownFolder(folder, uid)) return undefined;
  const identity = `${process.version}-${process.arch}-${bundle.identity}`;
  const options = nodeOptions ? `-o${fnv1a(nodeOptions)}` : "";
  const file = join(folder, `${key}-${identity}${options}.v8`);
  return {
    data: readOwnFile(file, uid),
    async save(data) {
      // The project's atomic write (temp file, rename): a reader sees the old cache or the new, never half
      // of one. Loaded only here: it brings node:crypto, which no start-up with a cache needs.
      const { writeFileAtomic } = await import("../../files/atomic-write.js");
      try {
        await writeFileAtomic(file, data, { mode: 0o600 });
      } catch {
        return; // the next run tries again
      }
      removeStale(folder, identity);
    },
  };
}

/**
 * A short tag for a set of options, FNV-1a (32 bits): node:crypto would add its load (~0.5 ms) to
 * every such start-up, and two option sets that collided would only share a cache, as all did before.
 */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** Creates the folder (0700) if need be; true when it is a real folder of this user that only they can write. */
function ownFolder(folder: string, uid: number | undefined): boolean {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const stats = lstatSync(folder);
    return stats.isDirectory() && (uid === undefined || (stats.uid === uid && (stats.mode & 0o022) === 0));
  } catch {
    return false;
  }
}

function readOwnFile(file: string, uid: number | undefined): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const stats = fstatSync(fd);
    if (!stats.isFile() || (uid !== undefined && stats.uid !== uid)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Old caches of other bundles (an upgrade) or Node versions: removed after a month, so the folder stays small. */
function removeStale(folder: string, identity: string): void {
  try {
    const now = Date.now();
    for (const name of readdirSync(folder)) {
      if (!name.endsWith(".v8") || name.includes(identity)) continue;
      const path = join(folder, name);
      if (now - lstatSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    }
  } catch {
    // Tidying is best effort.
  }
}
