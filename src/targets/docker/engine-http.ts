/**
 * HTTP to the Docker Engine API on node:http: one request builder for every way a
 * daemon is reached (unix socket, tcp, tcp with TLS, an Agent that dials over SSH).
 * pullback makes half a dozen Engine calls; a client library for them loaded ~0.4 s
 * of modules (ssh2, gRPC, protobuf) into every command that touched a daemon.
 */
import { request as httpRequest, type Agent, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from "node:http";

/** Where a daemon lives. */
export type EngineAddress =
  | { readonly kind: "unix"; readonly socketPath: string }
  | {
      readonly kind: "tcp";
      readonly host: string;
      readonly port: number;
      readonly tls: boolean;
      /** PEM contents for TLS (DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem); without `ca` the system store is trusted. */
      readonly certificates?: { readonly ca?: string; readonly cert?: string; readonly key?: string } | undefined;
    }
  | { readonly kind: "agent"; readonly agent: Agent };

/** One Engine request. `path` starts with `/` and holds the query; the API version prefix is added here. */
export interface EngineRequest {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders | undefined;
  /** Whole-request deadline, for short calls; streams have none. */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A daemon's non-2xx answer, before engine.ts words it as a DaemonResponseError. */
export interface EngineFailure {
  readonly statusCode: number;
  readonly message: string;
}

/** What every request to one daemon carries; `servername` is read by Node's agent though its http types omit it. */
type BaseOptions = RequestOptions & { readonly servername?: string };

/** Cap on an error body or a short JSON answer: dockerd's are small; a runaway peer must not fill memory. */
const MAX_BODY = 4 * 1024 * 1024;

/** Sends Engine requests to one daemon. */
export class EngineHttp {
  readonly #base: BaseOptions;
  /** node:https loads only for a TLS daemon: every other start-up is spared it (~5 ms). */
  readonly #send: typeof httpRequest;
  /** `/v1.47` once the daemon's ping named its API version, as the docker CLI negotiates; unversioned before. */
  #prefix = "";

  constructor(address: EngineAddress) {
    this.#send = address.kind === "tcp" && address.tls ? process.getBuiltinModule("node:https").request : httpRequest;
    this.#base = baseOptions(address);
  }

  /** Version every later path with the daemon's own API version (a malformed one is ignored). */
  useApiVersion(version: string | undefined): void {
    if (version !== undefined && /^\d+\.\d+$/.test(version)) this.#prefix = `/v${version}`;
  }

  /** The response once its headers arrived; rejects with a network error or the abort reason. */
  async open(spec: EngineRequest): Promise<IncomingMessage> {
    const path = spec.path === "/_ping" ? spec.path : `${this.#prefix}${spec.path}`;
    const send = this.#send;
    // Aborted already: no request at all (a destroyed one would report its error to no listener).
    if (spec.signal?.aborted) throw abortReason(spec.signal);
    return new Promise((resolve, reject) => {
      const req = send({ ...this.#base, method: spec.method, path, headers: { ...spec.headers } });
      const fail = (error: Error): void => {
        req.destroy(error);
        reject(error);
      };
      const timer = spec.timeoutMs === undefined ? undefined : setTimeout(() => fail(timeoutError(spec.timeoutMs ?? 0)), spec.timeoutMs);
      const onAbort = (): void => fail(abortReason(spec.signal));
      spec.signal?.addEventListener("abort", onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        spec.signal?.removeEventListener("abort", onAbort);
      };
      req.on("error", (error) => {
        settle();
        reject(error);
      });
      req.on("response", (res) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener("abort", onAbort);
        followAbort(res, spec.signal);
        resolve(res);
      });
      req.end();
    });
  }

  /** A short call: the status, headers and whole body (capped), within `timeoutMs`. */
  async call(spec: EngineRequest): Promise<{ res: IncomingMessage; body: string }> {
    const deadline = spec.timeoutMs === undefined ? undefined : Date.now() + spec.timeoutMs;
    const res = await this.open(spec);
    const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    return { res, body: await readBody(res, left) };
  }
}

/**
 * Local and tcp daemons get a connection per request (`agent: false`), as a socket left in a
 * pool would outlive the DockerConnection that made it; a unix connect costs well under a
 * millisecond. The SSH agent keeps its one dial-stdio stream and closes it with the connection.
 *
 * Without TLS, `servername: ""` (a TLS option) keeps Node's agent from deriving one with
 * `net.isIP(host)` for every socket: its IPv6 expression costs ~10 ms to compile on first use,
 * and four unix-socket requests took 25 ms instead of 11.5 (fresh processes, 5 runs each).
 */
function baseOptions(address: EngineAddress): BaseOptions {
  switch (address.kind) {
    case "unix":
      return { socketPath: address.socketPath, agent: false, servername: "" };
    case "tcp": {
      const pem = address.certificates ?? {};
      const tls = address.tls
        ? { ...(pem.ca ? { ca: pem.ca } : {}), ...(pem.cert && pem.key ? { cert: pem.cert, key: pem.key } : {}) }
        : {};
      return { host: address.host, port: address.port, agent: false, ...(address.tls ? tls : { servername: "" }) };
    }
    case "agent":
      // The agent dials over SSH; the Host header is what the docker CLI sends through its tunnel.
      return { host: "docker", port: 80, agent: address.agent, servername: "" };
  }
}

/** The body as text; a response that stalls past `timeoutMs` is destroyed with a timeout error. */
export function readBody(res: IncomingMessage, timeoutMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => res.destroy(timeoutError(timeoutMs)), timeoutMs);
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) res.destroy(new Error(`the daemon's answer is larger than ${MAX_BODY} bytes`));
      else chunks.push(chunk);
    });
    res.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    res.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    res.on("close", () => {
      clearTimeout(timer);
      if (!res.complete) reject(cutShort());
    });
  });
}

/** The daemon's words for a non-2xx answer: its JSON `message`, else the text, else the status. */
export function failureOf(statusCode: number, body: string): EngineFailure {
  let message: unknown;
  try {
    message = (JSON.parse(body) as { message?: unknown } | null)?.message;
  } catch {
    message = undefined;
  }
  const text = typeof message === "string" ? message : body.trim() || `HTTP ${statusCode}`;
  return { statusCode, message: text.trim() };
}

/** A path segment as the docker CLI escapes an image name: `/`, `:` and `@` stay as they are. */
export function imagePath(name: string): string {
  return encodeURIComponent(name).replace(/%2F/gi, "/").replace(/%3A/gi, ":").replace(/%40/gi, "@");
}

/** A streamed response is destroyed with the abort reason too: cancelling a pull ends it mid-stream. */
function followAbort(res: IncomingMessage, signal: AbortSignal | undefined): void {
  if (!signal) return;
  const onAbort = (): void => {
    res.destroy(abortReason(signal));
  };
  signal.addEventListener("abort", onAbort, { once: true });
  res.once("close", () => signal.removeEventListener("abort", onAbort));
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : Object.assign(new Error("the request was aborted"), { name: "AbortError", code: "ABORT_ERR" });
}

/** The connection closed before the daemon finished its answer. */
export function cutShort(): Error {
  return Object.assign(new Error("the daemon closed the connection before its answer ended"), { code: "ECONNRESET" });
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`the daemon did not answer within ${ms} ms`), { code: "ETIMEDOUT" });
}
