/**
 * The docker-credential-helpers protocol, `get` only: run `docker-credential-<name> get`,
 * write the server URL to its stdin, read `{ServerURL, Username, Secret}` from its stdout.
 *
 * A helper's output can hold the secret, so it is never copied into an error,
 * a cause or a log: failures are described by helper name and exit status only.
 */
import { spawn } from "node:child_process";
import { PullbackError, type Diagnosis } from "../errors.js";
import { Credential, IDENTITY_TOKEN_USERNAME, type CredentialSource } from "./credential.js";

export interface CredentialHelperOptions {
  /** The child's environment (helpers need HOME, DBUS_SESSION_BUS_ADDRESS, PATH…). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long the helper may take before it is killed. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Where the helper was configured, for messages: `credsStore of ~/.docker/config.json`. */
  readonly configuredIn?: string;
  /** The registry the credential is for, as the user wrote it (for `describe()`); default the server URL. */
  readonly registry?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A credential reply is a few hundred bytes; anything far larger is not one. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
const NOT_FOUND = "credentials not found in native keychain";
/** Variables that may hold our own secrets; a helper has no business seeing them. */
const WITHHELD_VARIABLES = ["PULLBACK_REGISTRY_TOKEN", "PULLBACK_REGISTRY_PASSWORD"];

type HelperRun =
  | {
      readonly type: "exited";
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly stdout: string;
      readonly stderr: string;
    }
  | { readonly type: "timed-out" }
  | { readonly type: "overflowed" };

/**
 * Ask `docker-credential-<helper>` for the credentials of `serverUrl`.
 * Resolves `undefined` when the helper has none for that server.
 *
 * @example
 * const credential = await getFromCredentialHelper("pass", "ghcr.io");
 * if (credential) console.log(credential.describe()); // the credentials for ghcr.io from docker-credential-pass
 */
export async function getFromCredentialHelper(
  helper: string,
  serverUrl: string,
  options: CredentialHelperOptions = {},
): Promise<Credential | undefined> {
  const program = helperProgram(helper, options.configuredIn);
  const run = await runHelper(program, serverUrl, options);
  const source: CredentialSource = { type: "helper", helper, registry: options.registry ?? serverUrl };
  if (run.type === "timed-out") {
    const seconds = (options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000;
    throw helperFailure(`${program} did not answer within ${seconds} s and was stopped`, program, true);
  }
  if (run.type === "overflowed")
    throw helperFailure(`${program} wrote more than ${MAX_OUTPUT_BYTES} bytes; that is not a credential`, program, false);
  if (run.code !== 0) {
    if (isNotFound(run)) return undefined;
    const status = run.signal === null ? `exit code ${run.code}` : `signal ${run.signal}`;
    throw helperFailure(`${program} failed (${status}) while looking up ${serverUrl}`, program, false);
  }
  return parseReply(run.stdout, program, source);
}

/** The program name, refusing anything that could escape the docker-credential- prefix. */
function helperProgram(helper: string, configuredIn: string | undefined): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
    const where = configuredIn === undefined ? "" : ` (configured in ${configuredIn})`;
    throw new PullbackError("config", `Invalid credential helper name${where}: only letters, digits, ".", "_" and "-" are allowed`);
  }
  return `docker-credential-${helper}`;
}

function isNotFound(run: { readonly stdout: string; readonly stderr: string }): boolean {
  return `${run.stdout}\n${run.stderr}`.toLowerCase().includes(NOT_FOUND);
}

function parseReply(stdout: string, program: string, source: CredentialSource): Credential | undefined {
  let reply: unknown;
  try {
    reply = JSON.parse(stdout);
  } catch {
    // No cause attached: the JSON error quotes the output, and the output may be the secret.
    throw helperFailure(`${program} answered with something that is not JSON`, program, false);
  }
  if (typeof reply !== "object" || reply === null)
    throw helperFailure(`${program} answered with JSON that is not an object`, program, false);
  const { Username: username, Secret: secret } = reply as Record<string, unknown>;
  if ((username !== undefined && typeof username !== "string") || (secret !== undefined && typeof secret !== "string")) {
    throw helperFailure(`${program} answered with a Username or Secret that is not a string`, program, false);
  }
  // Some helpers answer an empty record instead of the not-found message.
  if (!username && !secret) return undefined;
  if (username === IDENTITY_TOKEN_USERNAME) return Credential.identityToken(secret ?? "", source);
  return Credential.basic(username ?? "", secret ?? "", source);
}

function runHelper(program: string, serverUrl: string, options: CredentialHelperOptions): Promise<HelperRun> {
  const env = { ...(options.env ?? process.env) };
  for (const name of WITHHELD_VARIABLES) delete env[name];
  return new Promise((resolve, reject) => {
    // argv is exactly ["get"]: the server URL goes on stdin, as the protocol says and so `ps` shows nothing.
    const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: HelperRun | PullbackError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof PullbackError) reject(outcome);
      else resolve(outcome);
    };
    // Stop waiting at once: a grandchild of the killed helper may hold its pipes open for a long time.
    const abandon = (outcome: HelperRun): void => {
      child.kill("SIGKILL");
      child.stdout.destroy();
      child.stderr.destroy();
      settle(outcome);
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) abandon({ type: "overflowed" });
      else into.push(chunk);
    };
    const timer = setTimeout(() => abandon({ type: "timed-out" }), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));
    child.on("error", (error: NodeJS.ErrnoException) => settle(spawnFailure(error, program, options.configuredIn)));
    child.on("close", (code, signal) => {
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString("utf8");
      settle({ type: "exited", code, signal, stdout: text(stdout), stderr: text(stderr) });
    });
    // A helper that exits without reading stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on("error", () => undefined);
    child.stdin.end(serverUrl);
  });
}

function spawnFailure(error: NodeJS.ErrnoException, program: string, configuredIn: string | undefined): PullbackError {
  const where = configuredIn === undefined ? "" : ` (configured in ${configuredIn})`;
  if (error.code === "ENOENT") {
    return new PullbackError("credentials", `${program} is not installed${where}: it is not on PATH`, {
      cause: error,
      diagnosis: {
        summary: `The Docker credential helper ${program} is missing.`,
        explanation: `The Docker config names a credential helper that this machine does not have, so the credentials it holds cannot be read.`,
        steps: [
          { text: `Install ${program} and make sure it is on PATH,` },
          { text: `or remove the entry from the Docker config${where} if this machine should not use it,` },
          { text: "or pass --no-credentials to pull anonymously." },
        ],
        retryable: false,
      },
    });
  }
  return new PullbackError("credentials", `${program} could not be started${where}: ${error.code ?? error.message}`, {
    cause: error,
    diagnosis: helperDiagnosis(program, false),
  });
}

function helperFailure(message: string, program: string, retryable: boolean): PullbackError {
  return new PullbackError("credentials", message, { diagnosis: helperDiagnosis(program, retryable) });
}

function helperDiagnosis(program: string, retryable: boolean): Diagnosis {
  return {
    summary: `The Docker credential helper ${program} did not give usable credentials.`,
    explanation: `Its output is not shown because it can contain the secret.`,
    steps: [
      {
        text: "Run the helper by hand to see its error (the server URL goes on stdin; stdout, the secret, is discarded)",
        command: `echo <registry> | ${program} get >/dev/null`,
      },
      { text: "Unlock the keychain or log in again if it asks for it, or pass --no-credentials to pull anonymously." },
    ],
    retryable,
  };
}
