/**
 * The interfaces the output modules share, in a module of their own so that the
 * reporters and the progress displays import them without importing each other.
 */
import type { PullEvent } from "../../events.js";

/**
 * What a command tells the user, whatever the format.
 *
 * @example
 * const reporter: Reporter = createReporter(io, flags);
 */
export interface Reporter {
  /** A library event (pass as `onEvent`). */
  event(event: PullEvent): void;
  /** A normal-verbosity line (hidden by -q). */
  info(text: string): void;
  /** A warning: always shown unless -q. */
  warn(text: string): void;
  /** A -v line: HTTP exchanges and other detail. */
  debug(text: string): void;
  /** The final result: `json` becomes `{"type":"outcome", …}`; `lines` are what a person reads (stdout). */
  result(json: Readonly<Record<string, unknown>>, lines: readonly string[]): void;
  /** A failure: the diagnosis, or `{"type":"error", …}`. */
  fail(error: unknown): void;
  /** Stop any live display. Safe to call twice. */
  close(): void;
}

/** Where layer progress goes; `log` prints a line without tearing a live display. */
export interface ProgressDisplay {
  layer(id: string, status: string, current: number | undefined, total: number | undefined): void;
  log(text: string): void;
  stop(): void;
}
