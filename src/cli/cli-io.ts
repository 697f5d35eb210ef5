/**
 * What the CLI talks to. Passed in, never taken from `process`, so the whole CLI
 * runs as a function in tests and in other programs.
 */
import type { Readable, Writable } from "node:stream";

/** A writable stream that may be a terminal. */
export type OutputStream = Writable & { readonly isTTY?: boolean; readonly columns?: number };

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
}

/** The flags every command shares (on the program, accepted anywhere on the line). */
export interface GlobalFlags {
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

/** What became of the output streams: a write error other than a closed pipe makes the run fail. */
export interface OutputHealth {
  /** The first write error that was not a closed pipe, if any. */
  readonly failure: (Error & { code?: string }) | undefined;
}

/**
 * A reader that goes away (`pullback … | head -1`) closes the pipe: the next write fails
 * with EPIPE, which Node raises as an unhandled 'error' event — a stack trace, exit 1, and
 * a pull killed halfway. pullback treats a closed stdout or stderr as "nobody reads the
 * rest": output ends quietly and the command still finishes its work and exits with its
 * usual code (a pull completes, so `pull --json | head -3` leaves the image in place).
 * Any other write error (a full disk behind `> file`) is remembered and fails the run.
 *
 * @example
 * const health = guardOutput(io);
 * const code = await run();
 * return health.failure && code === 0 ? 1 : code;
 */
export function guardOutput(io: Pick<CliIo, "stdout" | "stderr">): OutputHealth {
  const states = [io.stdout, io.stderr].map(guard);
  return {
    get failure() {
      return states.find((state) => state.failure !== undefined)?.failure;
    },
  };
}

type StreamState = { failure: (Error & { code?: string }) | undefined };

/** One listener per stream, however often main() runs with it. */
const GUARDED = new WeakMap<OutputStream, StreamState>();

function guard(stream: OutputStream): StreamState {
  let state = GUARDED.get(stream);
  if (state) return state;
  const created: StreamState = { failure: undefined };
  stream.on("error", (error: Error & { code?: string }) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return;
    created.failure ??= error;
  });
  GUARDED.set(stream, created);
  state = created;
  return state;
}
