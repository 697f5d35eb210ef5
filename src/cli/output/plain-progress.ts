/**
 * Progress for logs and pipes: a line when a layer changes state, and a total at
 * most every two seconds. Never a carriage return — CI logs keep every byte.
 */
import type { ProgressDisplay } from "./displays.js";
import { LayerTally } from "./layer-tally.js";
import { formatBytes } from "./style.js";

const PROGRESS_INTERVAL_MS = 2000;

export class PlainProgress implements ProgressDisplay {
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  readonly #tally = new LayerTally();
  readonly #statuses = new Map<string, string>();
  #lastProgressAt: number;

  constructor(write: (line: string) => void, now: () => number = Date.now) {
    this.#write = write;
    this.#now = now;
    this.#lastProgressAt = now();
  }

  layer(id: string, status: string, current: number | undefined, total: number | undefined): void {
    this.#tally.update(id, status, current, total);
    if (this.#statuses.get(id) !== status) {
      this.#statuses.set(id, status);
      this.#write(`${id}: ${status}`);
    }
    const now = this.#now();
    if (now - this.#lastProgressAt >= PROGRESS_INTERVAL_MS && this.#tally.total > 0) {
      this.#lastProgressAt = now;
      this.#write(`progress: ${formatBytes(this.#tally.current)} of ${formatBytes(this.#tally.total)} in ${this.#tally.size} layers`);
    }
  }

  log(text: string): void {
    this.#write(text);
  }

  stop(): void {}
}
