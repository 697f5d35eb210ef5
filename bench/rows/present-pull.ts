/**
 * Row 9: `pullback pull` of an image the local daemon already has — the daemon still asks
 * the registry (docker's "always" policy, pullback's default) and answers "Image is up to
 * date" — against `docker pull` of the same image and `node -e 0`. Nothing is transferred:
 * the figure is start-up, the Engine API round trips and one manifest request by dockerd.
 */
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";

/** Start-ups are short and noisy: more rounds than the pulls. */
const ROUNDS_FACTOR = 4;

/** @example await presentPullRow(ctx) */
export async function presentPullRow(ctx: BenchContext): Promise<void> {
  const { info } = ctx;
  const app = info.fixtures.publicApp;
  const ref = `${info.registries.open.host}/${app.repository}:${app.tag}`;
  const host = info.dockerHost;
  // Present before the first round; every round leaves it there.
  await measure("docker", ["-H", host, "pull", "-q", ref], { env: ctx.env });
  const samples = await alternate(ctx.runs * ROUNDS_FACTOR, {
    pullback: () => measure(...pullbackArgv(["pull", ref, "--host", host, "--no-credentials", "-q"]), { env: ctx.env }),
    docker: () => measure("docker", ["-H", host, "pull", "-q", ref], { env: ctx.env }),
    node: () => measure(process.execPath, ["-e", "0"], { env: ctx.env }),
  });
  const p = ctx.report.figure(
    9,
    "pullback pull (image present)",
    "ms",
    samples.pullback.map((s) => s.wallMs),
  );
  const d = ctx.report.figure(
    9,
    "docker pull (image present)",
    "ms",
    samples.docker.map((s) => s.wallMs),
  );
  const n = ctx.report.figure(
    9,
    "node -e 0",
    "ms",
    samples.node.map((s) => s.wallMs),
  );
  ctx.report.ratio(9, "pullback pull ÷ node -e 0 (median wall)", p, n, 2);
  ctx.report.check(9, "pullback pull ÷ docker pull (median wall)", p.stats.median / d.stats.median, "×", "informational", true);
  ctx.log(`row 9: pullback ${p.stats.median.toFixed(0)} ms, docker ${d.stats.median.toFixed(0)} ms, node ${n.stats.median.toFixed(0)} ms`);
}
