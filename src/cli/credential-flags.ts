/**
 * The credential flags every command shares, turned into library options.
 * The secret comes from stdin only (`--password-stdin`), never from argv, where
 * any user of the machine could read it in the process list.
 */
import type { Readable } from "node:stream";
import { PullbackError } from "../errors.js";
import type { CliIo } from "./cli-io.js";
import type { ResolveCredentialsOptions } from "../credentials/resolve-credentials.js";

export interface CredentialFlags {
  readonly username?: string | undefined;
  readonly passwordStdin?: boolean | undefined;
  /** commander's `--no-credentials` sets this to false. */
  readonly credentials?: boolean | undefined;
}

/** What resolveCredentials needs, minus the registry. */
export type CredentialRequest = Pick<ResolveCredentialsOptions, "explicit" | "anonymous" | "env">;

/**
 * Check the flags and read the secret from stdin when asked. `io.stdin` is touched only then:
 * opening process.stdin loads Node's file streams (~6 ms of a start-up).
 *
 * @example
 * const request = await credentialRequest({ username: "ci", passwordStdin: true }, io);
 * const credential = await resolveCredentials("ghcr.io", request);
 */
export async function credentialRequest(flags: CredentialFlags, io: Pick<CliIo, "stdin" | "env">): Promise<CredentialRequest> {
  const { env } = io;
  const anonymous = flags.credentials === false;
  if (anonymous && (flags.username !== undefined || flags.passwordStdin)) {
    throw new PullbackError("usage", "--no-credentials cannot be combined with --username or --password-stdin");
  }
  if (anonymous) return { anonymous: true, env };
  if (flags.username !== undefined && !flags.passwordStdin) {
    throw new PullbackError(
      "usage",
      "--username needs --password-stdin: pipe the password or token to stdin (it is never taken from the command line)",
    );
  }
  if (!flags.passwordStdin) return { env };
  const secret = stripOneNewline(await readAll(io.stdin));
  if (secret === "") throw new PullbackError("usage", "--password-stdin was given but stdin was empty");
  const explicit = flags.username === undefined ? { secret } : { username: flags.username, secret };
  return { explicit: { ...explicit, label: "the credentials given with --password-stdin" }, env };
}

/**
 * `echo "$TOKEN" | …` adds one newline, which is not part of the secret; anything more is kept
 * (and the credential then refuses a secret containing a line break, saying so).
 *
 * @example
 * stripOneNewline("s3cret\n") // → "s3cret"
 */
export function stripOneNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
