/**
 * Row 6: verification latency — `pullback check` of a public image on the token registry,
 * anonymous, against `skopeo inspect --raw` of the same image (the manifest, through the same
 * token dance) and `node -e 0`. The goal is on Node's own start-up: what pullback adds to it.
 */
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";

/** Start-ups are short and noisy: more rounds than the pulls. */
const ROUNDS_FACTOR = 4;

/** @example await checkRow(ctx) */
export async function checkRow(ctx: BenchContext): Promise<void> {
  const { info } = ctx;
  const app = info.fixtures.publicApp;
  const ref = `${info.registries.token.host}/${app.repository}:${app.tag}`;
  const samples = await alternate(ctx.runs * ROUNDS_FACTOR, {
    pullback: () => measure(...pullbackArgv(["check", ref, "--no-credentials", "-q"]), { env: ctx.env }),
    skopeo: () => measure("skopeo", ["inspect", "--raw", "--no-creds", "--tls-verify=false", `docker://${ref}`], { env: ctx.env }),
    node: () => measure(process.execPath, ["-e", "0"], { env: ctx.env }),
    // What a first run costs: the whole bundle compiled, no cache (a first run also writes one, ~2 ms).
    uncached: () =>
      measure(...pullbackArgv(["check", ref, "--no-credentials", "-q"]), { env: { ...ctx.env, PULLBACK_COMPILE_CACHE: "off" } }),
  });
  const p = ctx.report.figure(
    6,
    "pullback check (anonymous, token registry)",
    "ms",
    samples.pullback.map((s) => s.wallMs),
  );
  const s = ctx.report.figure(
    6,
    "skopeo inspect --raw (anonymous)",
    "ms",
    samples.skopeo.map((r) => r.wallMs),
  );
  const n = ctx.report.figure(
    6,
    "node -e 0",
    "ms",
    samples.node.map((r) => r.wallMs),
  );
  const cold = ctx.report.figure(
    6,
    "pullback check, compile cache off (a first run)",
    "ms",
    samples.uncached.map((r) => r.wallMs),
  );
  ctx.report.ratio(6, "pullback check ÷ node -e 0 (median wall)", p, n, 1.5);
  ctx.report.check(
    6,
    "pullback check with the compile cache off ÷ node -e 0 (median wall)",
    cold.stats.median / n.stats.median,
    "×",
    "informational",
    true,
  );
  ctx.report.check(6, "pullback check ÷ skopeo inspect --raw (median wall)", p.stats.median / s.stats.median, "×", "informational", true);
  ctx.report.note(
    6,
    `pullback check minus a bare Node start-up: ${(p.stats.median - n.stats.median).toFixed(0)} ms (medians). Both ping /v2/, fetch an anonymous token and ask for the manifest; skopeo is a native binary with no runtime to start.`,
  );
  ctx.log(
    `row 6: pullback check ${p.stats.median.toFixed(0)} ms, skopeo ${s.stats.median.toFixed(0)} ms, node ${n.stats.median.toFixed(0)} ms`,
  );
}
