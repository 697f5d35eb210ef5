/**
 * Human output on stderr: what is happening, warnings that must not be missed
 * (a fallback above all), and a diagnosis on failure. Progress is drawn by a
 * live display on a terminal and by throttled plain lines anywhere else.
 */
import type { AttemptIdentity, PullEvent } from "../../events.js";
import type { CliIo, GlobalFlags } from "../cli-io.js";
import { formatError } from "./format-error.js";
import { PlainProgress } from "./plain-progress.js";
import type { ProgressDisplay, Reporter } from "./reporter-types.js";
import { styleFor, type Style } from "./style.js";
import { TtyProgress } from "./tty-progress.js";

export class HumanReporter implements Reporter {
  readonly #io: CliIo;
  readonly #flags: GlobalFlags;
  readonly #style: Style;
  #progress: ProgressDisplay | undefined;

  constructor(io: CliIo, flags: GlobalFlags) {
    this.#io = io;
    this.#flags = flags;
    this.#style = styleFor(io.stderr, io.env);
  }

  event(event: PullEvent): void {
    const on = event.host === undefined ? "" : ` on ${event.host}`;
    switch (event.type) {
      case "attempt-started":
        if (event.attempt === 1) this.info(`Pulling ${event.image}${on} ${identityText(event.identity)}`);
        else this.#notice(this.#style.yellow(this.#style.bold(`→ Retrying ${event.image}${on} ${identityText(event.identity)}`)));
        break;
      case "layer":
        if (!this.#flags.quiet) this.#display().layer(event.id, event.status, event.current, event.total);
        break;
      case "warning":
        this.warn(event.message);
        break;
      case "attempt-failed":
        this.debug(`attempt ${event.attempt} failed (${event.kind}): ${event.message}`);
        break;
      case "done":
        this.#stopProgress();
        this.info(
          `${this.#style.green("✓")} ${event.upToDate ? `${event.image}${on} is up to date` : `Pulled ${event.image}${on}`}${event.digest ? ` (${event.digest})` : ""}`,
        );
        break;
    }
  }

  info(text: string): void {
    if (!this.#flags.quiet) this.#notice(text);
  }

  warn(text: string): void {
    if (!this.#flags.quiet) this.#notice(`${this.#style.yellow(this.#style.bold("warning:"))} ${text}`);
  }

  debug(text: string): void {
    if (this.#flags.verbose) this.#notice(this.#style.dim(text));
  }

  result(_json: Readonly<Record<string, unknown>>, lines: readonly string[]): void {
    this.#stopProgress();
    for (const line of lines) this.#io.stdout.write(`${line}\n`);
  }

  fail(error: unknown): void {
    this.#stopProgress();
    this.#io.stderr.write(formatError(error, { style: this.#style, verbose: this.#flags.verbose === true }));
  }

  close(): void {
    this.#stopProgress();
  }

  #notice(text: string): void {
    if (this.#progress) this.#progress.log(text);
    else this.#io.stderr.write(`${text}\n`);
  }

  #display(): ProgressDisplay {
    this.#progress ??= this.#io.stderr.isTTY
      ? new TtyProgress(this.#io.stderr)
      : new PlainProgress((line) => this.#io.stderr.write(`${line}\n`));
    return this.#progress;
  }

  #stopProgress(): void {
    this.#progress?.stop();
    this.#progress = undefined;
  }
}

function identityText(identity: AttemptIdentity): string {
  return identity.anonymous ? "anonymously" : `with ${identity.source}`;
}
