/**
 * `npm run bench`: the performance suite. Starts a test world with public/big,
 * runs every row with alternating contenders, writes bench/results/latest.md and
 * latest.json, stops the world. Runs the built CLI (`npm run bench` builds first).
 *
 * BENCH_RUNS=7 sets the rounds (default 5, at least 5 for a result worth keeping);
 * BENCH_ROWS=1,5 runs only those rows (results then go to bench/results/partial.*);
 * BENCH_WORLD=FILE reuses a running world's info (`npm run world -- --big --show-secrets > FILE`).
 *
 * @example
 * npm run bench
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorldInfo } from "../test/world/types.js";
import { startWorld } from "../test/world/world.js";
import type { BenchContext } from "./lib/context.js";
import { cleanupMeasure, repoRoot } from "./lib/measure.js";
import { Report } from "./lib/report.js";
import { checkRow } from "./rows/check.js";
import { coldStartRow } from "./rows/cold-start.js";
import { daemonPullRow } from "./rows/daemon-pull.js";
import { fallbackRow } from "./rows/fallback.js";
import { IMAGE_SET_ROW, imageSetRow } from "./rows/image-set.js";
import { manyImagesRow } from "./rows/many-images.js";
import { ociLayersRow } from "./rows/oci-layers.js";
import { ociMemoryRow } from "./rows/oci-memory.js";
import { ociPullRow } from "./rows/oci-pull.js";
import { presentPullRow } from "./rows/present-pull.js";
import { sshPullRow } from "./rows/ssh-pull.js";
import { worstInputsRow } from "./rows/worst-inputs.js";

const ROWS: readonly (readonly [number, (ctx: BenchContext) => Promise<void>])[] = [
  [1, ociPullRow],
  [1, ociLayersRow],
  [1, ociMemoryRow],
  [2, daemonPullRow],
  [3, fallbackRow],
  [4, sshPullRow],
  [5, coldStartRow],
  [6, checkRow],
  [7, manyImagesRow],
  [9, presentPullRow],
  [IMAGE_SET_ROW, imageSetRow],
  [12, worstInputsRow],
];

/**
 * The environment every contender starts from: no credentials, no daemon choice, an empty Docker
 * config, and pullback's compile cache (docs/cli.md, "Start-up") in the scratch folder: the first
 * run of each command fills it, as a user's first run does, and the others use it.
 */
function cleanEnv(scratch: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("PULLBACK_") || key.startsWith("DOCKER_") || key === "SSH_AUTH_SOCK") continue;
    env[key] = value;
  }
  return { ...env, DOCKER_CONFIG: join(scratch, "docker-config"), PULLBACK_COMPILE_CACHE: join(scratch, "compile-cache"), NO_COLOR: "1" };
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const only = process.env.BENCH_ROWS?.split(",").map(Number);
  const started = performance.now();
  const log = (message: string): void =>
    void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  const reuse = process.env.BENCH_WORLD;
  const world =
    reuse === undefined
      ? await startWorld({ big: true })
      : { info: JSON.parse(await readFile(reuse, "utf8")) as WorldInfo, stop: () => Promise.resolve() };
  log(`world ready (${reuse === undefined ? "started" : `reused from ${reuse}`})`);
  const scratch = await mkdtemp(join(tmpdir(), "pullback-bench-"));
  const report = new Report();
  try {
    await mkdir(join(scratch, "docker-config"));
    const ctx: BenchContext = { info: world.info, report, runs, scratch, env: cleanEnv(scratch), log };
    for (const [row, run] of ROWS) {
      if (only && !only.includes(row)) continue;
      try {
        await run(ctx);
      } catch (error) {
        // One broken row must not cost the others' figures; it shows as a miss.
        log(`row ${row} failed: ${error instanceof Error ? error.message : String(error)}`);
        report.note(row, `This row failed: ${(error instanceof Error ? error.message : String(error)).slice(0, 300).replace(/\s+/g, " ")}`);
        report.check(row, `row ${row} ran`, 0, "", "completes", false);
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await cleanupMeasure();
    await world.stop();
  }
  const durationMs = performance.now() - started;
  const name = only ? "partial" : "latest";
  await writeFile(join(repoRoot, "bench", "results", `${name}.json`), `${JSON.stringify(report.json(runs, durationMs), null, 2)}\n`);
  await writeFile(join(repoRoot, "bench", "results", `${name}.md`), report.markdown(runs, durationMs));
  process.stdout.write(report.markdown(runs, durationMs));
}

await main();
