/**
 * Live progress on a terminal: one bar per layer with bytes and speed, and an
 * overall bar. Lines are cut to the terminal's width (no wrapping), so a narrow
 * terminal shows shorter bars instead of a scrolling mess.
 */
import { createRequire } from "node:module";
import type * as cliProgress from "cli-progress";
import type { OutputStream } from "../cli-io.js";
import type { ProgressDisplay } from "./reporter-types.js";
import { LayerTally } from "./layer-tally.js";
import { formatBytes } from "./style.js";

interface LayerBar {
  readonly bar: cliProgress.SingleBar;
  readonly startedAt: number;
}

const OVERALL = "overall";

export class TtyProgress implements ProgressDisplay {
  readonly #multibar: cliProgress.MultiBar;
  readonly #tally = new LayerTally();
  readonly #bars = new Map<string, LayerBar>();
  readonly #startedAt = Date.now();
  #overall: cliProgress.SingleBar | undefined;
  #stopped = false;

  constructor(stream: OutputStream) {
    // A terminal that does not report its size (0 columns, as under script(1)) is taken as 80 wide.
    const narrow = (stream.columns || 80) < 80;
    this.#multibar = new (loadCliProgress().MultiBar)({
      stream,
      // Speed is shown at every width: it is what tells a slow registry from a stuck one.
      format: narrow ? "{name} {bar} {bytes} {speed}" : "{name} |{bar}| {status} {bytes} {speed}",
      barsize: narrow ? 10 : 24,
      hideCursor: true,
      clearOnComplete: false,
      linewrap: false,
      fps: 10,
      barCompleteChar: "█",
      barIncompleteChar: "░",
    });
  }

  layer(id: string, status: string, current: number | undefined, total: number | undefined): void {
    if (this.#stopped) return;
    const layer = this.#tally.update(id, status, current, total);
    const entry = this.#bars.get(id) ?? this.#create(id);
    const size = Math.max(layer.total, 1);
    entry.bar.setTotal(size);
    entry.bar.update(Math.min(layer.current, size), {
      name: id.padEnd(12).slice(0, 12),
      status: status.padEnd(18).slice(0, 18),
      bytes: layer.total > 0 ? `${formatBytes(layer.current)}/${formatBytes(layer.total)}` : "",
      speed: speed(layer.current, entry.startedAt),
    });
    this.#updateOverall();
  }

  log(text: string): void {
    if (this.#stopped) return;
    this.#multibar.log(`${text}\n`);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#multibar.stop();
  }

  #create(id: string): LayerBar {
    this.#overall ??= this.#multibar.create(1, 0, { name: OVERALL.padEnd(12), status: "".padEnd(18), bytes: "", speed: "" });
    const entry = { bar: this.#multibar.create(1, 0, { name: id, status: "", bytes: "", speed: "" }), startedAt: Date.now() };
    this.#bars.set(id, entry);
    return entry;
  }

  #updateOverall(): void {
    const total = Math.max(this.#tally.total, 1);
    this.#overall?.setTotal(total);
    this.#overall?.update(Math.min(this.#tally.current, total), {
      name: OVERALL.padEnd(12),
      status: `${this.#bars.size} layers`.padEnd(18),
      bytes: this.#tally.total > 0 ? `${formatBytes(this.#tally.current)}/${formatBytes(this.#tally.total)}` : "",
      speed: speed(this.#tally.current, this.#startedAt),
    });
  }
}

/** "3.1 MB/s" since `since`, or "" in the first moments (a rate from 0.1 s of data says nothing). */
export function speed(bytes: number, since: number): string {
  const seconds = (Date.now() - since) / 1000;
  return seconds < 0.2 || bytes === 0 ? "" : `${formatBytes(bytes / seconds)}/s`;
}

const require = createRequire(import.meta.url);

/**
 * cli-progress is loaded when the first bar is drawn, not with the CLI: `-q`, `--json`
 * and output to a pipe never draw one and should not pay for it (a CommonJS module,
 * so a synchronous require is enough).
 */
export function loadCliProgress(): typeof cliProgress {
  return require("cli-progress") as typeof cliProgress;
}
