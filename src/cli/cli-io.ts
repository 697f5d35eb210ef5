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
