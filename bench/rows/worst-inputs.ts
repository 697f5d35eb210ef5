/**
 * Row 12: worst-case inputs stay linear — in-process timings of the parsers that once
 * went quadratic (a 2 MiB pull-stream line arriving in 1 KiB chunks; a 150 KB daemon
 * message classified; 100 KB image references refused). Timings belong here, not in tests, where a loaded machine makes them flaky.
 */
import { classifyPullError } from "../../src/fallback/classification.js";
import { parseReference } from "../../src/reference/parse-reference.js";
import { PullStreamParser } from "../../src/targets/docker/pull-stream.js";
import type { BenchContext } from "../lib/context.js";

/** @example await worstInputsRow(ctx) */
export async function worstInputsRow(ctx: BenchContext): Promise<void> {
  const rounds = Math.max(ctx.runs * 2, 10);
  const classify = timed(rounds, () => {
    classifyPullError(`${"a: ".repeat(50_000)}${"x".repeat(100_000)}`);
    classifyPullError(`manifest ${"y".repeat(100_000)}`);
  });
  const stream = timed(rounds, () => {
    const parser = new PullStreamParser();
    const chunk = "x".repeat(1024);
    for (let i = 0; i < 2048; i++) parser.push(chunk);
    parser.end();
  });
  const references = timed(rounds, () => {
    for (const input of ["a".repeat(100_000), `a${"/a".repeat(50_000)}:`, `a@sha256:${"f".repeat(100_000)}`, "[".repeat(100_000)]) {
      try {
        parseReference(input);
      } catch {
        // refused, as it must be: only the time counts here
      }
    }
  });
  const r = ctx.report.figure(12, "refuse four 100 KB image references", "ms", references);
  ctx.report.check(12, "four 100 KB references refused (median)", r.stats.median, "ms", "< 50 ms", r.stats.median < 50);
  const c = ctx.report.figure(12, "classify two 100–150 KB daemon messages", "ms", classify);
  const s = ctx.report.figure(12, "parse a 2 MiB pull-stream line in 1 KiB chunks", "ms", stream);
  ctx.report.check(12, "classification of a 150 KB message (median)", c.stats.median, "ms", "< 50 ms", c.stats.median < 50);
  ctx.report.check(12, "2 MiB pull-stream line (median)", s.stats.median, "ms", "< 50 ms", s.stats.median < 50);
  ctx.report.note(12, "In-process (no start-up). Both were once quadratic: 1.4 s for the stream line before the fix.");
  ctx.log(`row 12: classify ${c.stats.median.toFixed(1)} ms, stream line ${s.stats.median.toFixed(1)} ms`);
  return Promise.resolve();
}

function timed(rounds: number, work: () => void): number[] {
  work(); // warm-up: JIT and regex compilation are not what this row measures
  return Array.from({ length: rounds }, () => {
    const started = performance.now();
    work();
    return performance.now() - started;
  });
}
