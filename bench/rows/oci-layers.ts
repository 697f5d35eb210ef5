/**
 * Row 1, many layers: the daemonless pull of public/layers:1 — 40 layers of
 * 64 KiB–4 MiB (~71 MiB), the shape of a real image — from the token registry
 * into a fresh OCI layout, against `skopeo copy` in the same run. Here the cost
 * per blob (request, token, file, fsync, rename, events) weighs more than the bytes.
 */
import { join } from "node:path";
import { kibToMB, type BenchContext } from "../lib/context.js";
import { alternate } from "../lib/stats.js";
import { coresBusy, pullbackOci, skopeo } from "./oci-pull.js";

/** Issue #14's goal: clearly ahead of skopeo. */
const SKOPEO_RATIO_GOAL = 0.8;

/** @example await ociLayersRow(ctx) */
export async function ociLayersRow(ctx: BenchContext): Promise<void> {
  const layers = ctx.info.fixtures.publicLayers;
  if (!layers) throw new Error("the world was started without public/layers");
  const { report } = ctx;
  const ref = `${ctx.info.registries.token.host}/${layers.repository}:${layers.tag}`;
  const samples = await alternate(
    ctx.runs,
    {
      pullback: (round: number) => pullbackOci(ctx, ref, join(ctx.scratch, `oci-layers-pullback-${round}`)),
      skopeo: (round: number) => skopeo(ctx, ref, join(ctx.scratch, `oci-layers-skopeo-${round}`)),
    },
    (tool, round, s) =>
      ctx.log(`row 1 layers ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.wallMs)} ms, ${kibToMB(s.maxRssKiB).toFixed(0)} MB`),
  );
  const what = `public/layers:1 (${layers.layers.length} layers), token registry`;
  const p = report.figure(
    1,
    `pullback wall, ${what}`,
    "ms",
    samples.pullback.map((s) => s.wallMs),
  );
  const k = report.figure(
    1,
    `skopeo wall, ${what}`,
    "ms",
    samples.skopeo.map((s) => s.wallMs),
  );
  report.figure(
    1,
    `pullback peak RSS, ${what}`,
    "MB",
    samples.pullback.map((s) => kibToMB(s.maxRssKiB)),
  );
  report.figure(1, `pullback CPU ÷ wall, ${what}`, "×", coresBusy(samples.pullback));
  report.figure(1, `skopeo CPU ÷ wall, ${what}`, "×", coresBusy(samples.skopeo));
  report.ratio(1, `pullback ÷ skopeo, ${what} (median wall)`, p, k, SKOPEO_RATIO_GOAL);
}
