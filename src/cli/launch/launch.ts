/**
 * What bin/pullback.cjs runs: a CLI bundle (dist/cli/pullback.cjs, or its route's own: cliBundle) compiled
 * with V8's code cache, its main run on the process, and the cache saved after a run that
 * succeeded without one. Why a CommonJS bundle: it loads without Node's ESM loader, and V8 can
 * only be handed a cache through node:vm, which compiles scripts, not modules.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import type { CliIo } from "../cli-io.js";
import { compileCacheFolder, openCompileCache, readBundle } from "./compile-cache.js";

type CliMain = (argv: readonly string[], io: CliIo) => Promise<number>;
type CommonJsWrapper = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/**
 * @example
 * void launch(cliBundle(join(__dirname, "..", "dist", "cli"), process.argv.slice(2)));
 */
export async function launch(bundleFile: string, proc: NodeJS.Process = process): Promise<void> {
  const argv = proc.argv.slice(2);
  const bundle = readBundle(bundleFile);
  const folder = compileCacheFolder({ env: proc.env, platform: proc.platform });
  const cache =
    folder === undefined
      ? undefined
      : openCompileCache({ folder, key: commandKey(argv), bundle, uid: proc.getuid?.(), nodeOptions: nodeOptionsOf(proc) });
  const script = new Script(wrap(bundle.text), { filename: bundleFile, ...(cache?.data ? { cachedData: cache.data } : {}) });
  const { main } = evaluate(script, bundleFile) as { main: CliMain };
  // stdin on first use: opening it loads Node's file streams (~6 ms), and few runs read it.
  const io: CliIo = {
    stdout: proc.stdout,
    stderr: proc.stderr,
    env: proc.env,
    get stdin() {
      return proc.stdin;
    },
  };
  const code = await main(argv, io);
  proc.exitCode = code;
  // A failed run (a typo'd command, a usage error) leaves no cache behind.
  if (code === 0 && cache !== undefined && (cache.data === undefined || script.cachedDataRejected === true))
    await cache.save(script.createCachedData());
  // Left to itself Node frees its heap piece by piece before exiting (~15 ms after a pull); a native tool
  // just ends. The run is over (main awaits all its work), so end once the output is out — at once when
  // it already is (pipes and files are written synchronously on Linux), before the event loop turns
  // again and runs a garbage collection V8 has scheduled (~2 ms).
  const unwritten = [proc.stdout, proc.stderr].filter((stream) => stream.writableLength > 0);
  if (unwritten.length > 0) await Promise.all(unwritten.map(flushed));
  proc.exit();
}

/** What V8's flags may come from: Node's command-line options and NODE_OPTIONS. */
function nodeOptionsOf(proc: NodeJS.Process): string {
  return [...(proc.execArgv ?? []), proc.env.NODE_OPTIONS ?? ""].filter((option) => option !== "").join(" ");
}

/** Resolves once everything written to `stream` so far has been handed to the system. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write("", () => resolve());
  });
}

/**
 * The bundle a run compiles. The commonest routes have their own, the same program without the
 * modules the route never runs (scripts/bundle.ts): `check`, and `pull` onto a daemon (no `--to`,
 * the only way to a layout or archive). Everything else runs the whole CLI.
 *
 * @example
 * cliBundle("/opt/pullback/dist/cli", ["check", "alpine"]) // "/opt/pullback/dist/cli/check.cjs"
 */
export function cliBundle(folder: string, argv: readonly string[]): string {
  const [command, ...routes] = commandKey(argv).split("+");
  if (command === "check" && routes.length === 0) return join(folder, "check.cjs");
  if (command === "pull" && !routes.includes("to")) return join(folder, "pull-daemon.cjs");
  return join(folder, "pullback.cjs");
}

/** Options that send a command down another path (a layout or archive, a remote daemon, a set). */
const ROUTE_OPTIONS = ["--to", "--host", "--file"];

/**
 * The cache a run uses: its command's and route's, so that each holds what that run compiles
 * (a cache V8 accepts is not written again, so a pull into a layout must not share one with a
 * pull over SSH).
 *
 * @example
 * commandKey(["--json", "check", "alpine"]) // "check"
 * commandKey(["pull", "alpine", "--host=ssh://box"]) // "pull+host"
 */
export function commandKey(argv: readonly string[]): string {
  const command = argv.find((word) => /^[a-z][a-z-]{0,31}$/.test(word)) ?? "default";
  const routes = ROUTE_OPTIONS.filter((option) => argv.some((word) => word === option || word.startsWith(`${option}=`)));
  return [command, ...routes.map((option) => option.replace(/^-+/, ""))].join("+");
}

/** The source inside Node's CommonJS wrapper, the first line unmoved so that line numbers in stacks stay true. */
function wrap(text: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${text}\n});`;
}

function evaluate(script: Script, file: string): unknown {
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as CommonJsWrapper;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}
