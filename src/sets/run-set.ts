/**
 * Many items, bounded concurrency, one result per item: the shape every image-set
 * function shares (ensureImages, pullImages, several hosts). One failure never stops
 * the others; an abort stops starting new items and hands the signal to those running.
 */
import { PullbackError, isPullbackError, messageOf } from "../errors.js";
import { cancelledError } from "./cancelled.js";

/** What one item of a set came to: its value, or the error it failed with. */
export type SetResult<T> = T | PullbackError;

export interface RunSetOptions {
  /** At most this many items run at once (an integer ≥ 1; callers validate it). */
  readonly jobs: number;
  /** Aborting cancels the set: items not started fail as `cancelled`; running items see the signal. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Run `work` for every item, at most `jobs` at a time, and return the results in the items' order.
 * Never rejects: a thrown value becomes that item's PullbackError.
 *
 * @example
 * const results = await runSet(refs, (ref, _i, signal) => pullOne(ref, { signal }), { jobs: 4, signal });
 * const failed = results.filter((r) => r instanceof PullbackError);
 */
export async function runSet<Item, Result>(
  items: readonly Item[],
  work: (item: Item, index: number, signal: AbortSignal) => Promise<Result>,
  options: RunSetOptions,
): Promise<SetResult<Result>[]> {
  const controller = new AbortController();
  const forward = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener("abort", forward, { once: true });
  const results = new Array<SetResult<Result>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = controller.signal.aborted
        ? cancelled(undefined)
        : await work(items[index] as Item, index, controller.signal).catch((error: unknown) => asSetError(error, controller.signal));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, items.length)) }, worker));
  } finally {
    options.signal?.removeEventListener("abort", forward);
  }
  return results;
}

/** True when a set item failed (as opposed to holding its value). */
export function isSetFailure<T>(result: SetResult<T>): result is PullbackError {
  return result instanceof PullbackError;
}

function asSetError(error: unknown, signal: AbortSignal): PullbackError {
  if (isPullbackError(error)) return error;
  if (signal.aborted) return cancelled(error);
  return new PullbackError("other", messageOf(error), { cause: error });
}

function cancelled(cause: unknown): PullbackError {
  return cancelledError(undefined, cause);
}
