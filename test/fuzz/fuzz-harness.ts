/**
 * Runs a fast-check property where every input must either pass or throw a
 * PullbackError, and must take at most 50 ms. The bounded slice runs in the normal
 * unit tests; `npm run fuzz` sets FUZZ_RUNS=100000 for the full run.
 */
import fc from "fast-check";
import { PullbackError } from "../../src/errors.js";

/** Runs per property: small in the normal test run (the whole folder stays near 10 s). */
export const RUNS = Number(process.env.FUZZ_RUNS ?? "300");
export const MAX_MS_PER_INPUT = 50;
/** A test timeout that grows with FUZZ_RUNS. */
export const TIMEOUT_MS = 20_000 + RUNS * 3;

export interface FuzzStats {
  readonly runs: number;
  /** The slowest input, in ms (an input over the limit is timed twice, the faster kept: a GC pause is not the parser's). */
  maxMs: number;
  /** PullbackErrors seen, by kind. */
  readonly kinds: Record<string, number>;
}

async function timed(run: () => unknown): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  let error: unknown;
  try {
    await run();
  } catch (caught) {
    error = caught;
  }
  return { ms: performance.now() - started, error };
}

/**
 * @example
 * const stats = await fuzz(fc.string(), (s) => parseReference(s));
 * expect(stats.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
 */
export async function fuzz<T>(arbitrary: fc.Arbitrary<T>, run: (input: T) => unknown, runs = RUNS): Promise<FuzzStats> {
  const stats: FuzzStats = { runs, maxMs: 0, kinds: {} };
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      let result = await timed(() => run(input));
      if (result.ms > MAX_MS_PER_INPUT) {
        const again = await timed(() => run(input));
        if (again.ms < result.ms) result = again;
      }
      const { ms, error } = result;
      if (error !== undefined && !(error instanceof PullbackError)) {
        throw new Error(`a foreign error escaped: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
      }
      if (error instanceof PullbackError) stats.kinds[error.kind] = (stats.kinds[error.kind] ?? 0) + 1;
      if (ms > MAX_MS_PER_INPUT) throw new Error(`an input took ${ms.toFixed(1)} ms (limit ${MAX_MS_PER_INPUT} ms)`);
      stats.maxMs = Math.max(stats.maxMs, ms);
    }),
    { numRuns: runs, ...(process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) }) },
  );
  process.stderr.write(`[fuzz] ${runs} runs, slowest ${stats.maxMs.toFixed(2)} ms, errors ${JSON.stringify(stats.kinds)}\n`);
  return stats;
}

/** Strings drawn from the characters a grammar cares about, plus anything at all. */
export function grammarString(alphabet: string, maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: fc.constantFrom(...alphabet.split("")), maxLength }),
    fc.string({ maxLength }),
    fc.string({ unit: "grapheme", maxLength: Math.min(maxLength, 64) }),
  );
}
