/**
 * What a set run tells the user: on stderr a progress line per image × host (a live bar on
 * a terminal, plain lines elsewhere) and warnings; at the end the summary table on stdout
 * and one error line per failed item on stderr. `--json`: every event as it is (each carries
 * its image, and its host on remote daemons), then one `summary` line.
 */
import type { PullEvent } from "../../events.js";
import type { CliIo, GlobalFlags } from "../cli-io.js";
import { isFollowOnFailure } from "../exit-codes.js";
import type { SetItemIndex, SetItemKey } from "./set-items.js";
import { SetPlainProgress, SetTtyProgress, type SetProgressDisplay } from "./set-progress.js";
import { summaryJson, summaryTable, type SummaryRow } from "./set-summary.js";
import { SetTally } from "./set-tally.js";
import { styleFor, type Style } from "./style.js";

export interface SetReporter {
  /** A library event (pass as `onEvent`). */
  event(event: PullEvent): void;
  warn(text: string): void;
  info(text: string): void;
  debug(text: string): void;
  /** Bytes reported for an item, for the summary's SIZE on a daemon. */
  downloaded(image: string, host: string | undefined): number | undefined;
  /** The end: the summary (table or JSON line) and the failures. */
  finish(rows: readonly SummaryRow[], exitCode: number): void;
  close(): void;
}

/**
 * @example
 * const reporter = createSetReporter(io, flags, index);
 * try { rows = …; reporter.finish(rows, code) } finally { reporter.close() }
 */
export function createSetReporter(io: CliIo, flags: GlobalFlags, index: SetItemIndex): SetReporter {
  return flags.json ? new JsonSetReporter(io, flags, index) : new HumanSetReporter(io, flags, index);
}

class HumanSetReporter implements SetReporter {
  readonly #io: CliIo;
  readonly #flags: GlobalFlags;
  readonly #index: SetItemIndex;
  readonly #tally: SetTally;
  readonly #style: Style;
  #display: SetProgressDisplay | undefined;

  constructor(io: CliIo, flags: GlobalFlags, index: SetItemIndex) {
    this.#io = io;
    this.#flags = flags;
    this.#index = index;
    this.#tally = new SetTally(index);
    this.#style = styleFor(io.stderr, io.env);
  }

  event(event: PullEvent): void {
    const counted = this.#tally.track(event);
    if (this.#flags.quiet) return;
    if (counted) return this.#progress().bytes(counted.item, counted.tally, this.#tally.totals);
    if (event.type === "warning") return this.warn(event.message);
    const item = this.#index.itemOf(event);
    if (item === undefined) return this.debug(`event for ${event.type === "layer" ? event.id : "an image not in the set"}`);
    switch (event.type) {
      case "attempt-started":
        this.#state(item, event.attempt === 1 ? "pulling" : "retrying anonymously", false);
        break;
      case "attempt-failed":
        if (event.willRetryAnonymously) this.debug(`${item.label}: attempt ${event.attempt} refused (${event.kind}): ${event.message}`);
        else this.#state(item, `failed (${event.kind})`, true);
        break;
      case "done":
        this.#state(item, event.upToDate ? "up to date" : "pulled", true);
        break;
    }
  }

  warn(text: string): void {
    if (!this.#flags.quiet) this.#line(`${this.#style.yellow(this.#style.bold("warning:"))} ${text}`);
  }

  info(text: string): void {
    if (!this.#flags.quiet) this.#line(text);
  }

  debug(text: string): void {
    if (this.#flags.verbose) this.#line(this.#style.dim(text));
  }

  downloaded(image: string, host: string | undefined): number | undefined {
    return this.#tally.downloaded(image, host);
  }

  finish(rows: readonly SummaryRow[]): void {
    this.close();
    if (!this.#flags.quiet)
      for (const line of summaryTable(rows, styleFor(this.#io.stdout, this.#io.env))) this.#io.stdout.write(`${line}\n`);
    // Errors are shown even with -q: one line per item that failed in its own right.
    for (const row of rows) {
      if (row.result !== "failed" || isFollowOnFailure(row)) continue;
      this.#io.stderr.write(`${this.#style.red(this.#style.bold("error:"))} ${row.label}: ${row.message ?? row.kind ?? "failed"}\n`);
    }
  }

  close(): void {
    this.#display?.stop();
    this.#display = undefined;
  }

  #state(item: SetItemKey, text: string, finished: boolean): void {
    this.#progress().state(item, text, finished);
  }

  #line(text: string): void {
    if (this.#display) this.#display.log(text);
    else this.#io.stderr.write(`${text}\n`);
  }

  #progress(): SetProgressDisplay {
    this.#display ??= this.#io.stderr.isTTY
      ? new SetTtyProgress(this.#io.stderr, this.#index.items)
      : new SetPlainProgress((line) => this.#io.stderr.write(`${line}\n`), this.#index.items.length);
    return this.#display;
  }
}

class JsonSetReporter implements SetReporter {
  readonly #io: CliIo;
  readonly #flags: GlobalFlags;
  readonly #tally: SetTally;

  constructor(io: CliIo, flags: GlobalFlags, index: SetItemIndex) {
    this.#io = io;
    this.#flags = flags;
    this.#tally = new SetTally(index);
  }

  event(event: PullEvent): void {
    this.#tally.track(event);
    this.#line(event);
  }

  warn(text: string): void {
    this.#line({ type: "warning", code: "other", message: text });
  }

  info(): void {
    // Human lines have no place in a JSON stream; the events and the summary carry the facts.
  }

  debug(text: string): void {
    if (this.#flags.verbose) this.#io.stderr.write(`${text}\n`);
  }

  downloaded(image: string, host: string | undefined): number | undefined {
    return this.#tally.downloaded(image, host);
  }

  finish(rows: readonly SummaryRow[], exitCode: number): void {
    this.#line(summaryJson(rows, exitCode));
  }

  close(): void {}

  #line(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value)}\n`);
  }
}
