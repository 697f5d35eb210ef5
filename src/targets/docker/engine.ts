/**
 * The Docker Engine API door: the handful of Engine calls pullback makes, their
 * answers turned into our shapes and their failures into DaemonResponseError.
 * Requests go through engine-http.ts on node:http; nothing else speaks to a daemon.
 */
import type { IncomingMessage } from "node:http";
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { classifyPullError } from "../../fallback/classification.js";
import { EngineHttp, cutShort, failureOf, imagePath, readBody, type EngineAddress, type EngineRequest } from "./engine-http.js";
import { PullStreamParser, streamErrorOf, type PullStreamLine } from "./pull-stream.js";

export type { EngineAddress } from "./engine-http.js";

/**
 * What the daemon says it is: its version and the platform it runs on.
 *
 * @example
 * const { os, arch } = await (await connectDocker()).daemon(); // "linux", "arm64"
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
  /** Cancels the pull: the request (or its stream) is destroyed, the daemon cancels the pull ("context canceled") and the pull rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** The handful of Engine calls pullback makes. */
export class DockerEngine {
  readonly #http: EngineHttp;
  readonly #timeoutMs: number | undefined;

  /** `timeoutMs` bounds each short call (ping, version, inspect, remove, tag); a pull's stream has no deadline. */
  constructor(address: EngineAddress, timeoutMs?: number) {
    this.#http = new EngineHttp(address);
    this.#timeoutMs = timeoutMs;
  }

  /** `GET /_ping`; the API version it names versions every later request, as the docker CLI negotiates. */
  async ping(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
    this.#negotiate(await this.#call({ method: "GET", path: "/_ping", signal: options.signal }));
  }

  /** `GET /version`; like ping it names the API version, so it may stand in for ping as the first request. */
  async version(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<DaemonVersion> {
    const answer = await this.#call({ method: "GET", path: "/version", signal: options.signal });
    this.#negotiate(answer);
    const v = jsonObject(answer);
    return { version: text(v.Version), apiVersion: text(v.ApiVersion), os: text(v.Os), arch: text(v.Arch) };
  }

  /** Every later request is versioned with the API version the daemon names (its `Api-Version` header). */
  #negotiate(answer: { readonly res: { readonly headers: Record<string, string | string[] | undefined> } }): void {
    const version = answer.res.headers["api-version"];
    this.#http.useApiVersion(typeof version === "string" ? version : undefined);
  }

  /** The image stored under `name`, or undefined when the daemon has none. */
  async inspectImage(name: string, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<LocalImage | undefined> {
    const answer = await this.#call({ method: "GET", path: `/images/${imagePath(name)}/json`, signal: options.signal }, [404]);
    if (answer.res.statusCode === 404) return undefined;
    const info = jsonObject(answer);
    return {
      id: text(info.Id),
      repoDigests: Array.isArray(info.RepoDigests) ? info.RepoDigests.filter((d): d is string => typeof d === "string") : [],
      os: text(info.Os),
      architecture: text(info.Architecture),
      variant: text(info.Variant) || undefined,
    };
  }

  /** `POST /images/create`, following the stream to its end; throws DaemonResponseError on any failure. */
  async pull(fromImage: string, tag: string, options: EnginePullOptions): Promise<void> {
    const query = new URLSearchParams({ fromImage, tag, ...(options.platform ? { platform: options.platform } : {}) });
    const spec: EngineRequest = {
      method: "POST",
      path: `/images/create?${query.toString()}`,
      headers: { "X-Registry-Auth": registryAuthHeader(options.credential, options.registry) },
      signal: options.signal,
    };
    const res = await this.#http.open(spec);
    if (!isSuccess(res)) throw await responseError(res);
    await followPullStream(res, options.onLine);
  }

  /** Remove `name` (untag it; the image goes when no other name holds it). */
  async removeImage(name: string): Promise<void> {
    await this.#call({ method: "DELETE", path: `/images/${imagePath(name)}` });
  }

  async tag(source: string, repo: string, tag: string): Promise<void> {
    const query = new URLSearchParams({ repo, tag });
    await this.#call({ method: "POST", path: `/images/${imagePath(source)}/tag?${query.toString()}` });
  }

  /** A short call within the engine's timeout; a status outside 2xx and `accept` throws DaemonResponseError. */
  async #call(spec: EngineRequest, accept: readonly number[] = []): Promise<{ res: IncomingMessage; body: string }> {
    const answer = await this.#http.call({ ...spec, timeoutMs: this.#timeoutMs });
    const status = answer.res.statusCode ?? 0;
    if (!isSuccess(answer.res) && !accept.includes(status)) {
      const failure = failureOf(status, answer.body);
      throw new DaemonResponseError(failure.message, { statusCode: status, inStream: false });
    }
    return answer;
  }
}

function isSuccess(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  return status >= 200 && status < 300;
}

async function responseError(res: IncomingMessage): Promise<DaemonResponseError> {
  const failure = failureOf(res.statusCode ?? 0, await readBody(res));
  return new DaemonResponseError(failure.message, { statusCode: failure.statusCode, inStream: false });
}

/** A JSON object answer; anything else is the daemon misbehaving. */
function jsonObject(answer: { res: IncomingMessage; body: string }): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(answer.body);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new DaemonResponseError("the daemon answered with something that is not a JSON object", {
    statusCode: answer.res.statusCode,
    inStream: false,
  });
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * X-Registry-Auth: what dockerd forwards to the registry, as the docker CLI encodes it (base64url JSON).
 * Anonymous is an empty object. The header exists only on the request; nothing logs requests.
 */
function registryAuthHeader(credential: Credential | undefined, registry: string): string {
  const config: Record<string, string> = !credential
    ? {}
    : credential.kind === "identity-token"
      ? { identitytoken: credential.reveal(), serveraddress: registry }
      : { username: credential.username, password: credential.reveal(), serveraddress: registry };
  // Padded base64url: dockerd's decoder (Go's base64.URLEncoding) insists on the padding.
  return Buffer.from(JSON.stringify(config)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

function followPullStream(stream: IncomingMessage, onLine: ((line: PullStreamLine) => void) | undefined): Promise<void> {
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
    stream.on("error", reject);
    stream.on("end", () => {
      handle(parser.end());
      if (failed) reject(failed);
      else resolve();
    });
    // A daemon that dies mid-pull closes the stream without an end.
    stream.on("close", () => {
      if (!stream.complete) reject(failed ?? cutShort());
    });
  });
}
