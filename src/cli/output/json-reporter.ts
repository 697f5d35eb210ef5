/**
 * --json: stdout carries only newline-delimited JSON — each library event as it
 * is, then one final `outcome` or `error` line. Nothing human goes to stdout.
 */
import { PullbackError, messageOf } from "../../errors.js";
import type { PullEvent } from "../../events.js";
import { PullError } from "../../fallback/pull-outcome.js";
import type { CliIo, GlobalFlags } from "../cli-io.js";
import type { Reporter } from "./reporter-types.js";

export class JsonReporter implements Reporter {
  readonly #io: CliIo;
  readonly #flags: GlobalFlags;

  constructor(io: CliIo, flags: GlobalFlags) {
    this.#io = io;
    this.#flags = flags;
  }

  event(event: PullEvent): void {
    this.#line(event);
  }

  info(): void {
    // Human lines have no place in a JSON stream; the events carry the same facts.
  }

  warn(text: string): void {
    this.#line({ type: "warning", code: "other", message: text });
  }

  debug(text: string): void {
    // -v detail goes to stderr so that stdout stays parseable.
    if (this.#flags.verbose) this.#io.stderr.write(`${text}\n`);
  }

  result(json: Readonly<Record<string, unknown>>): void {
    this.#line({ type: "outcome", ...json });
  }

  fail(error: unknown): void {
    this.#line(errorLine(error));
    if (this.#flags.verbose && error instanceof Error && error.stack) this.#io.stderr.write(`${error.stack}\n`);
  }

  close(): void {}

  #line(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value)}\n`);
  }
}

/**
 * The final line of a failed run.
 *
 * @example
 * errorLine(new PullbackError("usage", "bad flag")) // → { type: "error", kind: "usage", reason: null, message: "bad flag", diagnosis: null, attempts: [] }
 */
export function errorLine(error: unknown): Record<string, unknown> {
  const kind = error instanceof PullbackError ? error.kind : "other";
  return {
    type: "error",
    kind,
    reason: error instanceof PullbackError ? (error.reason ?? null) : null,
    message: messageOf(error),
    diagnosis: error instanceof PullbackError ? (error.diagnosis ?? null) : null,
    attempts: error instanceof PullError ? error.attempts : [],
  };
}
