/**
 * Reads the JSON-lines stream of `POST /images/create`. An auth failure can arrive
 * here, inside an HTTP 200, after progress lines have started — so every line is
 * checked for `error`/`errorDetail`, and the first one ends the pull.
 */

/** One line of the daemon's pull stream, as far as we use it. */
export interface PullStreamLine {
  readonly status?: string;
  readonly id?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string; readonly code?: number };
}

/** An error the daemon reported inside a pull stream. */
export interface StreamError {
  readonly message: string;
  readonly code: number | undefined;
}

/** Cap on one line: dockerd's lines are short; a runaway daemon must not fill memory. */
const MAX_LINE = 1024 * 1024;

/** Splits a byte stream into JSON lines, tolerating chunk boundaries anywhere. */
export class PullStreamParser {
  #pending = "";

  /** Feed a chunk; returns the complete lines it finished. Non-JSON lines are skipped. */
  push(chunk: string): PullStreamLine[] {
    this.#pending += chunk;
    // Only the new chunk can hold a newline (the pending rest never does): scanning the whole
    // rest on each push made a long line quadratic.
    if (!chunk.includes("\n")) {
      if (this.#pending.length <= MAX_LINE) return [];
      this.#pending = "";
      return [{ error: "daemon sent a pull-stream line longer than 1 MiB" }];
    }
    const parts = this.#pending.split(/\r?\n/);
    this.#pending = parts.pop() ?? "";
    return parts.flatMap(parseLine);
  }

  /** The last, unterminated line, if any. */
  end(): PullStreamLine[] {
    const rest = this.#pending;
    this.#pending = "";
    return parseLine(rest);
  }
}

function parseLine(text: string): PullStreamLine[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return [];
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? [value] : [];
  } catch {
    return [];
  }
}

/** The error a line carries, if it carries one. */
export function streamErrorOf(line: PullStreamLine): StreamError | undefined {
  const message = line.errorDetail?.message ?? line.error;
  if (typeof message !== "string" || message === "") return undefined;
  return { message, code: typeof line.errorDetail?.code === "number" ? line.errorDetail.code : undefined };
}
