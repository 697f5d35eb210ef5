/**
 * Running one command as the benchmark sees it: wall time around the whole
 * child process, peak RSS from `/usr/bin/time` (written to a file, so the
 * child's own stderr stays its own), stdout and stderr kept for checks.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Exit codes that count as success; default [0]. */
  readonly okCodes?: readonly number[];
  /** Sample the command's memory as it runs, to split its peak into the process's own and its mapped files'. */
  readonly sampleMemory?: boolean;
}

/**
 * The largest resident memory seen while sampling /proc/PID/status every few milliseconds, in KiB:
 * anonymous (the process's own: heap, buffers, stacks) and file-backed (the pages of node and its
 * libraries that the run touched; shared with every other process, and dropped under pressure).
 */
export interface MemorySample {
  readonly anonKiB: number;
  readonly fileKiB: number;
}

export interface RunResult {
  readonly wallMs: number;
  /** Peak resident set size of the command in KiB (its largest process). */
  readonly maxRssKiB: number;
  /** CPU time (user + system) of the command and its waited-for children, in ms: ÷ wallMs says how many cores it kept busy. */
  readonly cpuMs: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** With `sampleMemory`: the peaks seen. */
  readonly memory?: MemorySample;
}

export const repoRoot = new URL("../..", import.meta.url).pathname;

let scratch: string | undefined;
let counter = 0;

/**
 * Run `command args…` under `/usr/bin/time -f "%M %U %S"`; rejects on an exit code not in `okCodes`.
 *
 * @example
 * const { wallMs, maxRssKiB } = await measure("node", ["-e", "0"]);
 */
export async function measure(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  scratch ??= await mkdtemp(join(tmpdir(), "pullback-bench-time-"));
  const rssFile = join(scratch, `rss-${counter++}`);
  const started = performance.now();
  const child = spawn("/usr/bin/time", ["-f", "%M %U %S", "-o", rssFile, command, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const sampler = options.sampleMemory && child.pid !== undefined ? sampleMemory(child.pid) : undefined;
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (exit) => resolve(exit ?? -1));
  }).finally(() => sampler?.stop());
  const wallMs = performance.now() - started;
  const rssText = await readFile(rssFile, "utf8").catch(() => "");
  await rm(rssFile, { force: true });
  if (!(options.okCodes ?? [0]).includes(code)) {
    throw new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.slice(-1500)}${stdout.slice(-500)}`);
  }
  // time(1) prefixes "Command exited with non-zero status N" on failure; the figures are the last line.
  const [rss, user, system] = (rssText.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  const finite = (value: number | undefined): number => (value !== undefined && Number.isFinite(value) ? value : 0);
  const memory = sampler?.peaks();
  return {
    wallMs,
    maxRssKiB: finite(rss),
    cpuMs: (finite(user) + finite(system)) * 1000,
    code,
    stdout,
    stderr,
    ...(memory === undefined ? {} : { memory }),
  };
}

/** Every 5 ms: sparse enough to leave the command its cores, dense enough to see a plateau of a 0.3 s run many times. */
const SAMPLE_MS = 5;

/** Samples the command time(1) runs (its child): anonymous and file-backed resident memory, each at its largest. */
function sampleMemory(timePid: number): { stop(): void; peaks(): MemorySample } {
  let anonKiB = 0;
  let fileKiB = 0;
  let commandPid: number | undefined;
  const timer = setInterval(() => {
    try {
      commandPid ??= Number(readFileSync(`/proc/${timePid}/task/${timePid}/children`, "utf8").trim().split(" ")[0]) || undefined;
      if (commandPid === undefined) return;
      const status = readFileSync(`/proc/${commandPid}/status`, "utf8");
      anonKiB = Math.max(anonKiB, kibField(status, "RssAnon"));
      fileKiB = Math.max(fileKiB, kibField(status, "RssFile"));
    } catch {
      // Not started yet, or already gone.
    }
  }, SAMPLE_MS);
  return { stop: () => clearInterval(timer), peaks: () => ({ anonKiB, fileKiB }) };
}

function kibField(status: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0);
}

/** Remove measure()'s scratch directory. @example await cleanupMeasure() */
export async function cleanupMeasure(): Promise<void> {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  scratch = undefined;
}
