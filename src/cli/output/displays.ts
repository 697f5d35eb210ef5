/**
 * The shapes the CLI's output parts implement: a Reporter (human or JSON) and a
 * progress display. Here, below every implementation, so none imports another's file for a type.
 */
import type { PullEvent } from "../../events.js";

/** What a command tells the user, independent of how. */
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
