/**
 * What a command tells the user, independent of how: human text on stderr
 * (bars on a terminal, plain lines elsewhere) or JSON lines on stdout.
 */
import type { PullEvent } from "../../events.js";
import type { CliIo, GlobalFlags } from "../cli-io.js";
import { HumanReporter } from "./human-reporter.js";
import { JsonReporter } from "./json-reporter.js";

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

/**
 * @example
 * const reporter = createReporter(io, { json: false, quiet: false, verbose: false });
 * try { await ensureImage(docker, ref, { onEvent: (e) => reporter.event(e) }) } finally { reporter.close() }
 */
export function createReporter(io: CliIo, flags: GlobalFlags): Reporter {
  return flags.json ? new JsonReporter(io, flags) : new HumanReporter(io, flags);
}
