/** Summaries of repeated measurements, and the alternating schedule that produces them. */

export interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/**
 * min / median / max of at least one value.
 *
 * @example
 * stats([3, 1, 2]) // { min: 1, median: 2, max: 3 }
 */
export function stats(values: readonly number[]): Stats {
  if (values.length === 0) throw new Error("stats of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)! };
}

/**
 * Run every contender once per round, `rounds` times, rotating who goes first so
 * drift in the machine's load (and the warmer cache) hits each alike.
 *
 * @example
 * const { a, b } = await alternate(5, { a: () => timeA(), b: () => timeB() });
 */
export async function alternate<K extends string, T>(
  rounds: number,
  contenders: Record<K, (round: number) => Promise<T>>,
  onSample?: (name: K, round: number, sample: T) => void,
): Promise<Record<K, T[]>> {
  const names = Object.keys(contenders) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      const sample = await contenders[name](round);
      samples[name].push(sample);
      onSample?.(name, round, sample);
    }
  }
  return samples;
}
