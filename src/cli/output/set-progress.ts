/**
 * Progress of a set: one line per image × host on a terminal (a live bar each), plain
 * lines anywhere else — a line when an item changes state and a total at most every 2 s,
 * never a carriage return, never a line per layer.
 */
import type * as cliProgress from "cli-progress";
import type { OutputStream } from "../cli-io.js";
import type { LayerTally } from "./layer-tally.js";
import type { SetItemKey } from "./set-items.js";
import { formatBytes } from "./style.js";
import { loadCliProgress, speed } from "./tty-progress.js";

/** Where a set's progress goes. */
export interface SetProgressDisplay {
  /** The item entered a new state ("pulling with …", "done sha256:…", "failed (not-found)"). */
  state(item: SetItemKey, text: string, finished: boolean): void;
  /** Bytes of an item changed. */
  bytes(item: SetItemKey, tally: LayerTally, totals: { current: number; total: number }): void;
  /** A line above the display (a warning). */
  log(text: string): void;
  stop(): void;
}

const PROGRESS_INTERVAL_MS = 2000;

export class SetPlainProgress implements SetProgressDisplay {
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  readonly #count: number;
  readonly #finished = new Set<SetItemKey>();
  #lastProgressAt: number;

  constructor(write: (line: string) => void, count: number, now: () => number = Date.now) {
    this.#write = write;
    this.#count = count;
    this.#now = now;
    this.#lastProgressAt = now();
  }

  state(item: SetItemKey, text: string, finished: boolean): void {
    if (finished) this.#finished.add(item);
    this.#write(`${item.label}: ${text}`);
  }

  bytes(_item: SetItemKey, _tally: LayerTally, totals: { current: number; total: number }): void {
    const now = this.#now();
    if (now - this.#lastProgressAt < PROGRESS_INTERVAL_MS || totals.total === 0) return;
    this.#lastProgressAt = now;
    this.#write(`progress: ${this.#finished.size} of ${this.#count} done, ${formatBytes(totals.current)} of ${formatBytes(totals.total)}`);
  }

  log(text: string): void {
    this.#write(text);
  }

  stop(): void {}
}

interface ItemBar {
  readonly bar: cliProgress.SingleBar;
  status: string;
  /** When the item left "waiting": its speed counts from there. */
  startedAt: number | undefined;
}

export class SetTtyProgress implements SetProgressDisplay {
  readonly #multibar: cliProgress.MultiBar;
  readonly #bars = new Map<SetItemKey, ItemBar>();
  readonly #nameWidth: number;
  #stopped = false;

  constructor(stream: OutputStream, items: readonly SetItemKey[]) {
    // A terminal that does not report its size (0 columns, as under script(1)) is taken as 80 wide.
    const columns = stream.columns || 80;
    this.#nameWidth = Math.min(Math.max(...items.map((item) => item.label.length), 8), Math.max(20, columns - 60));
    this.#multibar = new (loadCliProgress().MultiBar)({
      stream,
      format: columns < 80 ? "{name} {status} {bytes}" : "{name} |{bar}| {status} {bytes} {speed}",
      barsize: 16,
      hideCursor: true,
      clearOnComplete: false,
      linewrap: false,
      fps: 10,
      barCompleteChar: "█",
      barIncompleteChar: "░",
    });
    for (const item of items) {
      const status = "waiting";
      this.#bars.set(item, { bar: this.#multibar.create(1, 0, this.#payload(item, status, "", "")), status, startedAt: undefined });
    }
  }

  state(item: SetItemKey, text: string, finished: boolean): void {
    const entry = this.#bars.get(item);
    if (this.#stopped || entry === undefined) return;
    entry.status = text;
    entry.startedAt ??= Date.now();
    if (finished) entry.bar.update(entry.bar.getTotal(), this.#payload(item, text, "", ""));
    else entry.bar.update(this.#payload(item, text, "", ""));
  }

  bytes(item: SetItemKey, tally: LayerTally): void {
    const entry = this.#bars.get(item);
    if (this.#stopped || entry === undefined) return;
    const total = Math.max(tally.total, 1);
    entry.bar.setTotal(total);
    const bytes = tally.total > 0 ? `${formatBytes(tally.current)}/${formatBytes(tally.total)}` : "";
    entry.bar.update(
      Math.min(tally.current, total),
      this.#payload(item, entry.status, bytes, speed(tally.current, entry.startedAt ?? Date.now())),
    );
  }

  log(text: string): void {
    if (!this.#stopped) this.#multibar.log(`${text}\n`);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#multibar.stop();
  }

  #payload(item: SetItemKey, status: string, bytes: string, speedText: string): Record<string, string> {
    const name = item.label.length > this.#nameWidth ? `…${item.label.slice(-(this.#nameWidth - 1))}` : item.label;
    return { name: name.padEnd(this.#nameWidth), status: status.padEnd(22).slice(0, 22), bytes, speed: speedText };
  }
}
