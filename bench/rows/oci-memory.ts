/**
 * Row 1, memory: pullback's peak RSS pulling a 1 GiB image (built once, cached)
 * and the 20 MiB public/app:1, to show whether memory grows with the image; the
 * growth split, from samples taken as each pull runs, into the process's own memory
 * and the pages of node's binary and libraries the run touched.
 */
import { join } from "node:path";
import { kibToMB, type BenchContext } from "../lib/context.js";
import { pushHugeImage } from "../lib/huge-image.js";
import type { RunResult } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";
import { RSS_GOAL_MB, pullbackOci } from "./oci-pull.js";

/** "Flat": the 1 GiB pull's worst peak may exceed the 20 MiB pull's median peak by this much at most. */
const FLAT_MARGIN_MB = 10;

/** @example await ociMemoryRow(ctx) */
export async function ociMemoryRow(ctx: BenchContext): Promise<void> {
  const { report, info } = ctx;
  const huge = await pushHugeImage(info);
  ctx.log(`row 1 memory: public/huge:1 ready in ${Math.round(huge.buildMs)} ms (built once, then cached)`);
  const app = `${info.registries.open.host}/${info.fixtures.publicApp.repository}:${info.fixtures.publicApp.tag}`;
  const samples = await alternate(
    ctx.runs,
    {
      huge: (round: number) => pullbackOci(ctx, huge.ref, join(ctx.scratch, `oci-huge-${round}`), [], { sampleMemory: true }),
      app: (round: number) => pullbackOci(ctx, app, join(ctx.scratch, `oci-app-${round}`), [], { sampleMemory: true }),
    },
    (tool, round, s) =>
      ctx.log(`row 1 memory ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.wallMs)} ms, ${kibToMB(s.maxRssKiB).toFixed(0)} MB`),
  );
  report.figure(
    1,
    "pullback wall, public/huge:1 (1 GiB), open registry",
    "ms",
    samples.huge.map((s) => s.wallMs),
  );
  const hugeRss = report.figure(
    1,
    "pullback peak RSS, public/huge:1 (1 GiB)",
    "MB",
    samples.huge.map((s) => kibToMB(s.maxRssKiB)),
  );
  const appRss = report.figure(
    1,
    "pullback peak RSS, public/app:1 (20 MiB)",
    "MB",
    samples.app.map((s) => kibToMB(s.maxRssKiB)),
  );
  report.check(
    1,
    "pullback peak RSS, public/huge:1 (1 GiB), worst run",
    hugeRss.stats.max,
    "MB",
    `≤ ${RSS_GOAL_MB} MB`,
    hugeRss.stats.max <= RSS_GOAL_MB,
  );
  const growth = hugeRss.stats.max - appRss.stats.median;
  report.check(
    1,
    "pullback peak RSS growth, 20 MiB → 1 GiB image (worst 1 GiB run − median 20 MiB run)",
    growth,
    "MB",
    `≤ ${FLAT_MARGIN_MB} MB`,
    growth <= FLAT_MARGIN_MB,
  );
  growthSplit(ctx, samples.huge, samples.app);
}

/**
 * Where the growth is: the process's own memory (anonymous: V8's heap, the blob batches, malloc)
 * or file pages — chiefly node's optimizing compiler, paged in from the binary the first time a
 * function runs hot, which a 20 MiB pull ends too soon to reach. Sampled, so a peak can fall
 * between two samples; informational.
 */
function growthSplit(ctx: BenchContext, huge: readonly RunResult[], app: readonly RunResult[]): void {
  const { report } = ctx;
  const peaks = (runs: readonly RunResult[], kind: "anonKiB" | "fileKiB"): number[] => runs.map((s) => kibToMB(s.memory?.[kind] ?? 0));
  const hugeAnon = report.figure(1, "pullback peak anonymous memory (sampled), public/huge:1 (1 GiB)", "MB", peaks(huge, "anonKiB"));
  const appAnon = report.figure(1, "pullback peak anonymous memory (sampled), public/app:1 (20 MiB)", "MB", peaks(app, "anonKiB"));
  const hugeFile = report.figure(1, "pullback peak file-backed memory (sampled), public/huge:1 (1 GiB)", "MB", peaks(huge, "fileKiB"));
  const appFile = report.figure(1, "pullback peak file-backed memory (sampled), public/app:1 (20 MiB)", "MB", peaks(app, "fileKiB"));
  report.check(
    1,
    "growth in the process's own (anonymous) memory, 20 MiB → 1 GiB (sampled; worst − median)",
    hugeAnon.stats.max - appAnon.stats.median,
    "MB",
    "informational",
    true,
  );
  report.check(
    1,
    "growth in pages of node's binary and libraries (file-backed), 20 MiB → 1 GiB (sampled; worst − median)",
    hugeFile.stats.max - appFile.stats.median,
    "MB",
    "informational",
    true,
  );
  report.note(
    1,
    "The RSS growth split: /proc/PID/status sampled every 5 ms during each pull, each kind at its own largest (so the two need not add up to the growth exactly). File-backed growth is the code of node's optimizing compiler, paged in from the binary once a function runs hot; a 20 MiB pull ends before any does.",
  );
}
