/**
 * Benchmark: pullback's daemonless pull against `skopeo copy`, into a fresh OCI
 * layout, of public/big:1 (4 × 64 MiB layers) from the open and the token
 * registry of the test world. Runs alternate between the tools so drift in the
 * machine's load hits both alike. Not part of `npm test`.
 *
 * Both tools run as child processes under /usr/bin/time -v; wall time is
 * measured around the whole process. pullback runs as plain JavaScript bundled
 * by esbuild (tsx's own dependency), as a built CLI would, not through tsx's
 * on-the-fly compiler; its in-process pull time is reported beside.
 *
 * @example
 * npx tsx bench/oci-pull.ts            # 5 runs per tool and registry
 * BENCH_RUNS=9 npx tsx bench/oci-pull.ts
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { startWorld } from "../test/world/world.js";

interface Sample {
  readonly wallMs: number;
  readonly maxRssKiB: number;
  /** pullback only: the pull measured inside the process, without node/tsx start-up. */
  readonly inProcessMs?: number;
}

interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const repoRoot = new URL("..", import.meta.url).pathname;

/** Run a command under /usr/bin/time -v; wall time measured here, peak RSS read from time's report. */
async function timed(command: string, args: readonly string[]): Promise<{ wallMs: number; maxRssKiB: number; stdout: string }> {
  const started = performance.now();
  const child = spawn("/usr/bin/time", ["-v", command, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  return { wallMs, maxRssKiB: Number(rss), stdout };
}

/** bench/oci-pull-child.ts as one JavaScript file, so start-up is node's, not the TypeScript compiler's. */
async function bundleChild(outfile: string): Promise<string[]> {
  const esbuild = join(repoRoot, "node_modules/.bin/esbuild");
  const child = spawn(esbuild, ["bench/oci-pull-child.ts", "--bundle", "--platform=node", "--format=esm", "--packages=external", `--outfile=${outfile}`, "--log-level=warning"], { cwd: repoRoot, stdio: "inherit" });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`esbuild exited ${code}`);
  return [outfile];
}

let childArgs: string[] = [];

async function pullback(ref: string, dir: string): Promise<Sample> {
  const result = await timed(process.execPath, [...childArgs, ref, `oci:${dir}:big`]);
  const report = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { ms: number };
  return { wallMs: result.wallMs, maxRssKiB: result.maxRssKiB, inProcessMs: report.ms };
}

async function skopeo(ref: string, dir: string): Promise<Sample> {
  const result = await timed("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${dir}:big`]);
  return { wallMs: result.wallMs, maxRssKiB: result.maxRssKiB };
}

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)! };
}

const round = (n: number): number => Math.round(n);

async function main(): Promise<void> {
  const world = await startWorld({ big: true });
  const scratch = await mkdtemp(join(tmpdir(), "pullback-bench-"));
  try {
    // The bundle imports undici and friends from node_modules: it must live inside the repository.
    childArgs = await bundleChild(join(repoRoot, "bench", `.oci-pull-child.${process.pid}.mjs`));
    const big = world.info.fixtures.publicBig;
    if (!big) throw new Error("the world was started without public/big");
    const imageBytes = big.layers.reduce((sum, layer) => sum + layer.size, 0);
    const results: Record<string, { pullback: Sample[]; skopeo: Sample[] }> = {};
    for (const name of ["open", "token"] as const) {
      const ref = `${world.info.registries[name].host}/${big.repository}:${big.tag}`;
      const samples = { pullback: [] as Sample[], skopeo: [] as Sample[] };
      for (let run = 0; run < RUNS; run++) {
        // Alternate who goes first so neither always gets the warmer cache.
        const order = run % 2 === 0 ? (["pullback", "skopeo"] as const) : (["skopeo", "pullback"] as const);
        for (const tool of order) {
          const dir = join(scratch, `${name}-${tool}-${run}`);
          samples[tool].push(await (tool === "pullback" ? pullback(ref, dir) : skopeo(ref, dir)));
          await rm(dir, { recursive: true, force: true });
          process.stderr.write(`${name} run ${run + 1}/${RUNS} ${tool}: ${round(samples[tool].at(-1)!.wallMs)} ms\n`);
        }
      }
      results[name] = samples;
    }
    const summary = Object.fromEntries(
      Object.entries(results).map(([name, { pullback: p, skopeo: s }]) => {
        const pullbackWall = stats(p.map((x) => x.wallMs));
        const skopeoWall = stats(s.map((x) => x.wallMs));
        return [
          name,
          {
            pullbackWallMs: pullbackWall,
            pullbackInProcessMs: stats(p.map((x) => x.inProcessMs ?? 0)),
            skopeoWallMs: skopeoWall,
            medianRatioSkopeoOverPullback: skopeoWall.median / pullbackWall.median,
            pullbackPeakRssMiB: Math.max(...p.map((x) => x.maxRssKiB)) / 1024,
            skopeoPeakRssMiB: Math.max(...s.map((x) => x.maxRssKiB)) / 1024,
          },
        ];
      }),
    );
    const report = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version },
      image: { repository: big.repository, layers: big.layers.length, compressedBytes: imageBytes },
      runsPerTool: RUNS,
      summary,
      samples: results,
    };
    await writeFile(join(repoRoot, "bench/results/oci-pull.json"), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(repoRoot, "bench/results/oci-pull.md"), markdown(report, summary));
    process.stdout.write(markdown(report, summary));
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await Promise.all(childArgs.map((file) => rm(file, { force: true })));
    await world.stop();
  }
}

function markdown(report: { date: string; machine: { cores: number; cpu: string; memoryGiB: number; node: string }; image: { layers: number; compressedBytes: number } }, summary: Record<string, Record<string, unknown>>): string {
  const fmt = (s: Stats): string => `${round(s.min)} / ${round(s.median)} / ${round(s.max)}`;
  const rows = Object.entries(summary).map(([name, raw]) => {
    const r = raw as { pullbackWallMs: Stats; pullbackInProcessMs: Stats; skopeoWallMs: Stats; medianRatioSkopeoOverPullback: number; pullbackPeakRssMiB: number; skopeoPeakRssMiB: number };
    return `| ${name} | ${fmt(r.pullbackWallMs)} | ${fmt(r.pullbackInProcessMs)} | ${fmt(r.skopeoWallMs)} | ${r.medianRatioSkopeoOverPullback.toFixed(2)}× | ${r.pullbackPeakRssMiB.toFixed(0)} | ${r.skopeoPeakRssMiB.toFixed(0)} |`;
  });
  return [
    "# Daemonless pull: pullback vs skopeo",
    "",
    `${report.date} — ${report.machine.cores} cores (${report.machine.cpu}), ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, ${RUNS} runs per tool and registry, alternating.`,
    `Image: public/big:1, ${report.image.layers} layers, ${(report.image.compressedBytes / 1024 ** 2).toFixed(0)} MiB, into a fresh OCI layout each run. Registries on loopback (distribution 2.8).`,
    "",
    "| registry | pullback wall ms (min / median / max) | pullback in-process ms | skopeo wall ms | skopeo ÷ pullback (median) | pullback peak RSS MiB | skopeo peak RSS MiB |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "Wall time is the whole child process (pullback: Node running an esbuild bundle, as a built CLI would). Each pull hashes every byte and fsyncs every blob before renaming it into place (skopeo fsyncs too). The machine is shared, so spreads are wide. Produced by `npx tsx bench/oci-pull.ts`.",
    "",
  ].join("\n");
}

await main();
