/**
 * `npx tsx bench/profile.ts [--out FILE] -- ARGS…`: where the main thread's time goes in one
 * run of the built CLI (`node bin/pullback.cjs ARGS…`), from V8's CPU profile — self time
 * grouped by what it is (start-up, sha256, network, files, GC, idle, pullback's own code).
 * What `npm run bench` cannot say: not how long, but what the time is made of.
 *
 * @example
 * npx tsx bench/profile.ts --out bench/results/profile-oci-big.md -- pull 127.0.0.1:5000/public/big:1 --to oci:/tmp/x:t --no-credentials -q
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./lib/measure.js";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Native bindings that show with no URL, by what they do. */
const FILE_BINDINGS = new Set(["writeBuffers", "writeBuffer", "writeString", "fdatasync", "fsync", "openFileHandle", "open", "close"]);
const FILE_BINDINGS_MORE = new Set(["stat", "lstat", "fstat", "rename", "unlink", "rmSync", "mkdir", "fchmod", "readdir", "readFileUtf8"]);

/** The group a sampled frame's self time belongs to. */
function groupOf({ functionName, url }: CallFrame): string {
  if (functionName === "(idle)") return "idle (waiting for the network, the disk or the registry)";
  if (functionName === "(garbage collector)") return "garbage collection";
  if (url.includes("internal/crypto/hash")) return "sha256";
  // The launcher compiles the CLI bundle with node:vm's Script (from V8's code cache when there is one).
  const compiling = /^compile|^wrapSafe$/.test(functionName) || (functionName === "Script" && url === "node:vm");
  if (/internal\/modules|internal\/bootstrap|^node:internal\/main|realm/.test(url) || compiling) {
    return "start-up: loading and compiling modules";
  }
  if (url === "" && (FILE_BINDINGS.has(functionName) || FILE_BINDINGS_MORE.has(functionName))) return "file system calls";
  if (url.includes("internal/fs/")) return "file system calls";
  if (/node:(net|tls|_http|_tls|https?$)|stream_base_commons|internal\/(net|tls)/.test(url)) return "network and HTTP (Node)";
  if (url.includes("/dist/") || url.includes("/bin/pullback")) return "pullback's own code";
  if (url.startsWith("node:")) return "other Node internals (streams, events, timers)";
  return "native, other (program)";
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const split = argv.indexOf("--");
  const own = split < 0 ? [] : argv.slice(0, split);
  const args = split < 0 ? argv : argv.slice(split + 1);
  const out = own[own.indexOf("--out") + 1];
  if (args.length === 0 || (own.includes("--out") && out === undefined)) throw new Error("usage: bench/profile.ts [--out FILE] -- ARGS…");
  const dir = await mkdtemp(join(tmpdir(), "pullback-profile-"));
  try {
    const run = spawnSync(
      process.execPath,
      ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "200", join(repoRoot, "bin", "pullback.cjs"), ...args],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    if (run.status !== 0) throw new Error(`pullback exited with ${run.status ?? run.signal}`);
    const [file] = await readdir(dir);
    if (file === undefined) throw new Error("no profile was written");
    const report = summarize(JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile, args);
    process.stdout.write(report);
    if (out !== undefined) await writeFile(out, report);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function summarize(profile: CpuProfile, args: readonly string[]): string {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    const micros = profile.timeDeltas[index] ?? 0;
    if (!frame) return;
    const group = groupOf(frame);
    groups.set(group, (groups.get(group) ?? 0) + micros);
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").at(-1) ?? ""}:${frame.lineNumber}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  });
  const total = [...groups.values()].reduce((sum, value) => sum + value, 0);
  const ms = (micros: number): string => (micros / 1000).toFixed(0);
  const share = (micros: number): string => `${((100 * micros) / total).toFixed(0)} %`;
  const lines = [
    `# Main-thread profile: \`pullback ${args.join(" ")}\``,
    "",
    `${new Date().toISOString()}: one run, V8 CPU profile sampled every 200 µs; ${ms(total)} ms of main-thread time from the first line of JavaScript. Self time by group:`,
    "",
    "| group | ms | share |",
    "|---|---|---|",
    ...[...groups.entries()].sort((a, b) => b[1] - a[1]).map(([group, micros]) => `| ${group} | ${ms(micros)} | ${share(micros)} |`),
    "",
    "Top functions by self time:",
    "",
    "| function | ms |",
    "|---|---|",
    ...[...functions.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, micros]) => `| \`${name}\` | ${ms(micros)} |`),
    "",
  ];
  return lines.join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
