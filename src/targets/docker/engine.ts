/**
 * The Docker Engine API door: the only module that imports dockerode. It turns
 * dockerode's shapes into ours, so nothing else in pullback knows dockerode exists.
 */
import type { Agent } from "node:http";
import createDebug from "debug";
import Dockerode from "dockerode";
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { classifyPullError } from "../../fallback/classification.js";
import { PullStreamParser, streamErrorOf, type PullStreamLine } from "./pull-stream.js";

// docker-modem logs every request, headers included, under DEBUG=modem — and the
// X-Registry-Auth header carries the credential. Keep that namespace off, always.
createDebug.enable([createDebug.disable(), "-modem"].filter(Boolean).join(","));

/** Where a daemon lives, as dockerode needs it. */
export type EngineAddress =
  | { readonly kind: "unix"; readonly socketPath: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly tls: boolean }
  | { readonly kind: "agent"; readonly agent: Agent };

/**
 * What the daemon says it is: its version and the platform it runs on.
 *
 * @example
 * const { os, arch } = (await connectDocker()).daemon; // "linux", "arm64"
 */
export interface DaemonVersion {
  readonly version: string;
  readonly apiVersion: string;
  readonly os: string;
  readonly arch: string;
}

/** An image in the daemon's store. */
export interface LocalImage {
  readonly id: string;
  readonly repoDigests: readonly string[];
  readonly os: string;
  readonly architecture: string;
  readonly variant: string | undefined;
}

/**
 * A failed Engine request: the daemon's status and message, or an error line inside a 200 pull
 * stream. A PullbackError whose kind is read from the daemon's words when it is built.
 */
export class DaemonResponseError extends PullbackError {
  override readonly name = "DaemonResponseError";
  readonly statusCode: number | undefined;
  readonly json: { readonly message: string };
  readonly inStream: boolean;

  constructor(message: string, details: { statusCode: number | undefined; inStream: boolean; cause?: unknown }) {
    super(classifyPullError({ statusCode: details.statusCode, json: { message } }).kind, message, { cause: details.cause });
    this.statusCode = details.statusCode;
    this.json = { message };
    this.inStream = details.inStream;
  }
}

export interface EnginePullOptions {
  readonly credential: Credential | undefined;
  /** The registry host the credential is for (X-Registry-Auth serveraddress). */
  readonly registry: string;
  readonly platform?: string | undefined;
  readonly onLine?: ((line: PullStreamLine) => void) | undefined;
  /** Aborting destroys the `/images/create` request: the daemon cancels the pull ("context canceled"). */
  readonly signal?: AbortSignal | undefined;
}

/** The handful of Engine calls pullback makes. */
export class DockerEngine {
  readonly #docker: Dockerode;

  constructor(address: EngineAddress, timeoutMs?: number) {
    this.#docker = new Dockerode(optionsFor(address, timeoutMs));
  }

  async ping(): Promise<void> {
    await this.#docker.ping();
  }

  async version(): Promise<DaemonVersion> {
    const v = await this.#docker.version();
    return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  /** The image stored under `name`, or undefined when the daemon has none. */
  async inspectImage(name: string): Promise<LocalImage | undefined> {
    try {
      const info = await this.#docker.getImage(name).inspect();
      const variant = (info as { Variant?: string }).Variant;
      return {
        id: info.Id,
        repoDigests: info.RepoDigests ?? [],
        os: info.Os,
        architecture: info.Architecture,
        variant: variant || undefined,
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toDaemonError(error);
    }
  }

  /** `POST /images/create`, following the stream to its end; throws DaemonResponseError on any failure. */
  async pull(fromImage: string, tag: string, options: EnginePullOptions): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.#docker.createImage(authConfigFor(options.credential, options.registry), {
        fromImage,
        tag,
        ...(options.platform ? { platform: options.platform } : {}),
        // docker-modem hands it to http.request, which destroys request and response on abort.
        ...(options.signal ? { abortSignal: options.signal } : {}),
      });
    } catch (error) {
      throw toDaemonError(error);
    }
    await followPullStream(stream, options.onLine);
  }

  /** Remove `name` (untag it; the image goes when no other name holds it). */
  async removeImage(name: string): Promise<void> {
    try {
      await this.#docker.getImage(name).remove();
    } catch (error) {
      throw toDaemonError(error);
    }
  }

  async tag(source: string, repo: string, tag: string): Promise<void> {
    try {
      await this.#docker.getImage(source).tag({ repo, tag });
    } catch (error) {
      throw toDaemonError(error);
    }
  }
}

function optionsFor(address: EngineAddress, timeoutMs: number | undefined): Dockerode.DockerOptions {
  const timeout = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  switch (address.kind) {
    case "unix":
      return { socketPath: address.socketPath, ...timeout };
    case "tcp":
      return { host: address.host, port: address.port, protocol: address.tls ? "https" : "http", ...timeout };
    case "agent":
      // docker-modem hands `agent` to http.request; our agent dials over one shared SSH connection.
      return withAgent({ host: "docker", port: 80, protocol: "http", ...timeout }, address.agent);
  }
}

/** docker-modem honours `agent` though dockerode's types do not list it. */
function withAgent(options: Dockerode.DockerOptions, agent: Agent): Dockerode.DockerOptions {
  return Object.assign(options, { agent });
}

/** X-Registry-Auth content: what dockerd forwards to the registry. Anonymous is an empty object. */
function authConfigFor(credential: Credential | undefined, registry: string): Record<string, string> {
  if (!credential) return {};
  if (credential.kind === "identity-token") return { identitytoken: credential.reveal(), serveraddress: registry };
  return { username: credential.username, password: credential.reveal(), serveraddress: registry };
}

function followPullStream(stream: NodeJS.ReadableStream, onLine: ((line: PullStreamLine) => void) | undefined): Promise<void> {
  const parser = new PullStreamParser();
  return new Promise((resolve, reject) => {
    let failed: DaemonResponseError | undefined;
    const handle = (lines: PullStreamLine[]): void => {
      for (const line of lines) {
        const streamError = streamErrorOf(line);
        if (streamError && !failed) failed = new DaemonResponseError(streamError.message, { statusCode: streamError.code, inStream: true });
        else onLine?.(line);
      }
    };
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => handle(parser.push(chunk)));
    stream.on("error", (error: unknown) => reject(toDaemonError(error)));
    stream.on("end", () => {
      handle(parser.end());
      if (failed) reject(failed);
      else resolve();
    });
  });
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** dockerode errors carry `statusCode` and `json.message`; network errors a `code`. Keep both, drop the rest. */
function toDaemonError(error: unknown): Error {
  if (error instanceof DaemonResponseError) return error;
  const status = statusOf(error);
  if (status === undefined) return error instanceof Error ? error : new Error(String(error));
  const json = (error as { json?: { message?: unknown } }).json;
  const message =
    typeof json?.message === "string" ? json.message : error instanceof Error ? withoutModemWrapper(error.message) : `HTTP ${status}`;
  return new DaemonResponseError(message.trim(), { statusCode: status, inStream: false, cause: error });
}

/** For streamed requests docker-modem has no JSON and words it "(HTTP code 500) server error - <daemon's message> ". */
function withoutModemWrapper(message: string): string {
  return message.replace(/^\(HTTP code \d{3}\) [^-]*- /, "");
}
