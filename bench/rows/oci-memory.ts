/**
 * Row 1, memory: pullback's peak RSS pulling a 1 GiB image (built once, cached)
 * and the 20 MiB public/app:1, to show whether memory grows with the image.
 */
import { join } from "node:path";
import { kibToMB, type BenchContext } from "../lib/context.js";
import { pushHugeImage } from "../lib/huge-image.js";
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
      huge: (round: number) => pullbackOci(ctx, huge.ref, join(ctx.scratch, `oci-huge-${round}`)),
      app: (round: number) => pullbackOci(ctx, app, join(ctx.scratch, `oci-app-${round}`)),
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
}
