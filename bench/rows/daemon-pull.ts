/**
 * Row 2: pulling public/big:1 onto the local daemon — `pullback pull` against the
 * docker CLI, every image removed before each run so both fetch every layer.
 */
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure, type RunResult } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";
import { removeAllImages } from "../lib/world-probes.js";

/** @example await daemonPullRow(ctx) */
export async function daemonPullRow(ctx: BenchContext): Promise<void> {
  const big = ctx.info.fixtures.publicBig;
  if (!big) throw new Error("the world was started without public/big");
  const ref = `${ctx.info.registries.open.host}/${big.repository}:${big.tag}`;
  const host = ctx.info.dockerHost;
  const fresh = async (run: () => Promise<RunResult>): Promise<RunResult> => {
    await removeAllImages(ctx.info);
    return run();
  };
  const samples = await alternate(
    ctx.runs,
    {
      pullback: () => fresh(() => measure(...pullbackArgv(["pull", ref, "--host", host, "--no-credentials", "-q"]), { env: ctx.env })),
      docker: () => fresh(() => measure("docker", ["-H", host, "pull", "-q", ref], { env: ctx.env })),
    },
    (tool, round, s) => ctx.log(`row 2 ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.wallMs)} ms`),
  );
  await removeAllImages(ctx.info);
  const p = ctx.report.figure(
    2,
    "pullback pull --host unix://…",
    "ms",
    samples.pullback.map((s) => s.wallMs),
  );
  const d = ctx.report.figure(
    2,
    "docker -H unix://… pull",
    "ms",
    samples.docker.map((s) => s.wallMs),
  );
  ctx.report.ratio(2, "pullback ÷ docker (median wall)", p, d, 1.05);
  ctx.report.note(
    2,
    "From the open registry; the daemon (dockerd 20.10, vfs storage driver) does the transfer and extraction for both, so the ratio measures what pullback adds: Node start-up, the Engine API round trips, reading the progress stream.",
  );
}
