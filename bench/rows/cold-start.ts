/**
 * Row 5: cold start — `pullback --version`, `--help` and `await import("pullback")` (the
 * built dist, by package name: Node resolves a package's own name from inside it) against `node -e 0`.
 */
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";

/** Start-ups are short and noisy: more rounds than the pulls. */
const ROUNDS_FACTOR = 4;

/** @example await coldStartRow(ctx) */
export async function coldStartRow(ctx: BenchContext): Promise<void> {
  const samples = await alternate(ctx.runs * ROUNDS_FACTOR, {
    node: () => measure(process.execPath, ["-e", "0"], { env: ctx.env }),
    version: () => measure(...pullbackArgv(["--version"]), { env: ctx.env }),
    help: () => measure(...pullbackArgv(["--help"]), { env: ctx.env }),
    library: () => measure(process.execPath, ["--input-type=module", "-e", 'await import("pullback")'], { env: ctx.env }),
  });
  const n = ctx.report.figure(
    5,
    "node -e 0",
    "ms",
    samples.node.map((s) => s.wallMs),
  );
  const v = ctx.report.figure(
    5,
    "pullback --version",
    "ms",
    samples.version.map((s) => s.wallMs),
  );
  const h = ctx.report.figure(
    5,
    "pullback --help",
    "ms",
    samples.help.map((s) => s.wallMs),
  );
  const l = ctx.report.figure(
    5,
    "node -e 'await import(\"pullback\")'",
    "ms",
    samples.library.map((s) => s.wallMs),
  );
  ctx.report.ratio(5, 'await import("pullback") ÷ node -e 0 (median wall)', l, n, 1.5);
  ctx.report.ratio(5, "pullback --version ÷ node -e 0 (median wall)", v, n, 3);
  ctx.report.ratio(5, "pullback --help ÷ node -e 0 (median wall)", h, n, 3);
  ctx.log(
    `row 5: node ${n.stats.median.toFixed(0)} ms, --version ${v.stats.median.toFixed(0)} ms, --help ${h.stats.median.toFixed(0)} ms, import ${l.stats.median.toFixed(0)} ms`,
  );
}
