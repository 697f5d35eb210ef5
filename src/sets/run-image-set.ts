/**
 * A set of images as callers see it: runSet's bounded jobs and abort, plus what a set
 * of pulls adds — each item labelled with its image (and host) and timed, and without
 * `keepGoing` no new image started once one has failed.
 */
import { PullbackError, isPullbackError, messageOf } from "../errors.js";
import type { PullOutcome } from "../fallback/pull-outcome.js";
import { cancelledError } from "./cancelled.js";
import { runSet } from "./run-set.js";
import type { ImageSetItem } from "./set-result.js";
import type { ItemLabels } from "./shared-run.js";

/** How a set runs: at most `jobs` at once, on after a failure only with `keepGoing`, cancelled by `signal`. */
export interface ImageSetRunOptions {
  readonly jobs: number;
  readonly keepGoing: boolean;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The first failure of a run, shared by every part of it (the hosts of a remote set run their
 * images separately but stop together): without `keepGoing`, nothing new starts after it.
 *
 * @example
 * const stop = new FirstFailure(false);
 * await Promise.all(hosts.map((host) => runImageSet(itemsOf(host), work, { jobs: 1, keepGoing: false }, stop)));
 */
export class FirstFailure {
  readonly #keepGoing: boolean;
  #failed: ItemLabels | undefined;

  constructor(keepGoing: boolean) {
    this.#keepGoing = keepGoing;
  }

  note(labels: ItemLabels): void {
    this.#failed ??= labels;
  }

  /** Why an item must not start, or undefined when it may. */
  reasonNotToStart(): string | undefined {
    if (this.#keepGoing || !this.#failed) return undefined;
    const { image, host } = this.#failed;
    return `not started: ${image}${host === undefined ? "" : ` on ${host}`} failed first, and keepGoing is off`;
  }
}

/**
 * Run `work` for every labelled item; one ImageSetItem per item, in order. Never rejects.
 *
 * @example
 * const items = await runImageSet(refs.map((r) => ({ image: r.toString() })), (job, signal) => pull(job, signal), { jobs: 4, keepGoing: false });
 */
export async function runImageSet<Job extends ItemLabels, Image>(
  jobs: readonly Job[],
  work: (job: Job, signal: AbortSignal) => Promise<PullOutcome<Image>>,
  options: ImageSetRunOptions,
  firstFailure: FirstFailure = new FirstFailure(options.keepGoing),
): Promise<ImageSetItem<Image>[]> {
  const results = await runSet(
    jobs,
    async (job, _index, signal): Promise<ImageSetItem<Image>> => {
      const labels = labelsOf(job);
      const notStarted = firstFailure.reasonNotToStart();
      if (notStarted !== undefined) return { ok: false, error: cancelledError(notStarted), ...labels, durationMs: 0 };
      const started = performance.now();
      try {
        const outcome = await work(job, signal);
        return { ok: true, outcome, ...labels, durationMs: elapsedSince(started) };
      } catch (error) {
        if (signal.aborted) return { ok: false, error: cancelledError("cancelled before it finished", error), ...labels, durationMs: 0 };
        firstFailure.note(labels);
        return { ok: false, error: asPullbackError(error), ...labels, durationMs: elapsedSince(started) };
      }
    },
    { jobs: options.jobs, signal: options.signal },
  );
  // runSet's own failures are items an abort kept from starting.
  return results.map((result, index) =>
    result instanceof PullbackError ? { ok: false, error: result, ...labelsOf(jobs[index] as Job), durationMs: 0 } : result,
  );
}

/**
 * Run `work` unless `signal` is already aborted; a failure after an abort is the cancellation
 * (kind `other`, reason `cancelled`), whatever the interrupted request made of it.
 *
 * @example
 * return whileNotAborted(options.signal, () => pullOne(ref, options));
 */
export async function whileNotAborted<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw cancelledError("cancelled before it started", signal.reason);
  try {
    return await work();
  } catch (error) {
    throw signal?.aborted ? cancelledError("cancelled before it finished", error) : error;
  }
}

function labelsOf(job: ItemLabels): ItemLabels {
  return job.host === undefined ? { image: job.image } : { image: job.image, host: job.host };
}

function asPullbackError(error: unknown): PullbackError {
  return isPullbackError(error) ? error : new PullbackError("other", messageOf(error), { cause: error });
}

function elapsedSince(started: number): number {
  return Math.round(performance.now() - started);
}
