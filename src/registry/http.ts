/**
 * The one place pullback speaks HTTP to registries and token services.
 *
 * Why not plain `fetch`: we follow redirects ourselves (so `Authorization` is
 * dropped when a blob redirect leaves the registry's host, and a redirect to
 * plain HTTP is refused), we need repeated `WWW-Authenticate` lines kept apart,
 * and separate connect and idle timeouts.
 *
 * Direct GETs and HEADs go out on bulk-get.ts's connections; node:http carries only requests
 * through a proxy and requests with a body, and is loaded for the first of them.
 * Why not undici: a ~100 ms / ~20 MB import on every CLI start-up and more copies per body byte (measured).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { PullbackError, messageOf, redactUrl } from "../errors.js";
import { isLoopbackHost } from "./loopback.js";
import { errorCode, networkFailure } from "./network-failure.js";
import { proxyAuthorization, proxyConfigFromEnv, proxyFor, redactProxy, type ProxyConfig, type ProxyEnv } from "./proxy.js";
import { ProxyTunnelError } from "./proxy-tunnel-error.js";
import type { HostTrust, TlsOptions } from "./trust.js";
import { errorFromResponse, type ResponseSource } from "./registry-error.js";
import { BulkPool, bulkGet, type BulkTls } from "./bulk-get.js";
import { parseRetryAfter } from "./retry-after.js";
import { lazyClient, type LazyClient } from "./node-client.js";

/** One request/response pair as `-v` shows it: redacted URL, no headers. */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  /** The HTTP status, or undefined when no response came (the error says why). */
  readonly status: number | undefined;
  readonly error?: string;
}

export interface HttpOptions {
  /** Extra tries after the first on 5xx, 429, resets and timeouts. Default 2 (three tries in all). */
  readonly retries?: number;
  /** First backoff delay; doubled on each retry. Default 250 ms. */
  readonly retryDelayMs?: number;
  /** The longest `Retry-After` we wait for; a 429 asking longer fails `rate-limited`. Default 10 s. */
  readonly maxRetryAfterMs?: number;
  /** TCP + TLS handshake limit. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Longest silence while waiting for headers or between body chunks. Default 30 s. */
  readonly idleTimeoutMs?: number;
  /** Hosts (`host[:port]`) that may be spoken to over plain HTTP besides loopback ones. */
  readonly insecureHosts?: readonly string[];
  readonly onExchange?: (exchange: Exchange) => void;
  /** CAs and client certificates beyond the system store (certs.d, --cert-dir, files). */
  readonly tls?: TlsOptions | undefined;
  /** Where HTTPS_PROXY/HTTP_PROXY/NO_PROXY, NODE_EXTRA_CA_CERTS and XDG_CONFIG_HOME come from. Default `process.env`. */
  readonly env?: ProxyEnv | undefined;
  /** Said out loud once per host: certificate checks switched off by the caller. */
  readonly onWarning?: ((message: string) => void) | undefined;
  /** Aborting destroys every request in flight (awaiting headers or streaming a body) and retries none. */
  readonly signal?: AbortSignal | undefined;
  /** Kept-alive connections shared with other clients of a run; `close()` leaves them to their owner. Default: the client's own. */
  readonly pool?: BulkPool | undefined;
}

/** How one origin is reached: trust, proxy, and node's client for what bulkGet does not carry. */
interface Route {
  /** Made on first use: most runs send nothing through a proxy and no request body, and never load node:http. */
  readonly client: LazyClient;
  readonly trust: HostTrust | undefined;
  readonly proxy: URL | undefined;
  /** How direct GETs and HEADs open TLS connections to an https origin. */
  readonly bulkTls?: BulkTls;
}

export interface HttpRequest {
  readonly method: "GET" | "HEAD" | "POST";
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * The `Authorization` header carries a user's credential (or a token bought with one):
   * it is never sent over plain HTTP to a non-loopback host.
   */
  readonly credentialed?: boolean;
  /** Who answers, for error messages. Default "registry". */
  readonly source?: ResponseSource;
  /** Gives up the exchange (request or body) and any retry still to come; rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  readonly status: number;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** The body; consume it or call `body.destroy()` (safe: no unhandled error). Empty for HEAD. */
  readonly body: Readable;
  /** Every value of a header, one per line it came on (`WWW-Authenticate` may come on several). */
  headerValues(name: string): string[];
  /** The first value of a header. */
  header(name: string): string | undefined;
}

/** A body read only to free its connection is given up past this size. */
const DISCARD_LIMIT = 64 * 1024;

/**
 * Done with a body nobody needs (a ping, a HEAD, a redirect, an answer to retry): read to its
 * end, so its kept-alive connection serves the next request instead of a new TCP and TLS
 * handshake; destroyed once it passes 64 KiB. Never throws, never leaves an unhandled error.
 *
 * @example
 * discardBody(response.body);
 */
export function discardBody(body: Readable): void {
  let seen = 0;
  body.on("error", ignore);
  body.on("data", (chunk: Buffer | string) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) body.destroy();
  });
  body.resume();
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Errors worth another try: the peer or the path hiccuped. Refusals, DNS misses and
// certificate errors are deterministic, so retrying them only delays the report.
const RETRYABLE_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"]);
/** Response bodies are buffered up to this much (Node's default is 16 KiB): fewer turns per byte; 1 MiB only held more memory (measured). */
const BODY_HIGH_WATER_MARK = 256 * 1024;

/** An HTTP client with the registry rules built in. Reuse one per registry; `close()` when done. */
export class HttpClient {
  readonly #options: HttpOptions;
  readonly #routes = new Map<string, Promise<Route>>();
  readonly #insecure: Set<string>;
  readonly #env: ProxyEnv;
  readonly #proxies: ProxyConfig;
  /** Kept-alive connections of direct GETs and HEADs, by origin. */
  readonly #bulkPool: BulkPool;
  readonly #ownsPool: boolean;

  constructor(options: HttpOptions = {}) {
    this.#options = options;
    this.#insecure = new Set((options.insecureHosts ?? []).map((host) => host.toLowerCase()));
    this.#env = options.env ?? process.env;
    this.#proxies = proxyConfigFromEnv(this.#env);
    this.#bulkPool = options.pool ?? new BulkPool();
    this.#ownsPool = options.pool === undefined;
  }

  /** Whether plain HTTP to `host` is allowed: loopback, or marked insecure by the caller. */
  allowsPlainHttp(host: string): boolean {
    return isLoopbackHost(host) || this.#insecure.has(host.toLowerCase());
  }

  /**
   * Send a request, following up to 5 redirects and retrying transient failures.
   * Returns any final answer below 500 except 429 (the caller decides what a 401 or 404 means);
   * throws `network`, `registry` (5xx after retries, redirect loops) or `rate-limited`.
   *
   * @example
   * const response = await http.send({ method: "GET", url: "https://ghcr.io/v2/" });
   * response.body.destroy();
   */
  /** The request's own signal and the client's (a whole set's), either of which gives the request up. */
  #signalFor(req: HttpRequest): AbortSignal | undefined {
    const client = this.#options.signal;
    if (req.signal === undefined || client === undefined) return req.signal ?? client;
    return AbortSignal.any([req.signal, client]);
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = new URL(String(req.url));
    let method = req.method;
    let headers: Record<string, string> = { ...req.headers };
    let body = req.body;
    for (let hop = 0; ; hop++) {
      this.#checkTransport(url, req.credentialed === true && hasAuthorization(headers));
      const response = await this.#sendWithRetries({ method, url, headers, body }, req.source ?? "registry", this.#signalFor(req));
      const location = response.header("location");
      if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      discardBody(response.body);
      if (hop >= MAX_REDIRECTS) {
        throw new PullbackError("registry", `${method} ${redactUrl(req.url)}: more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(location, url);
      // The credential belongs to the registry's host; a blob CDN must not see it.
      if (next.host !== url.host) headers = withoutAuthorization(headers);
      if (response.status === 303) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = undefined;
      }
      url = next;
    }
  }

  /** Release pooled connections. */
  async close(): Promise<void> {
    const routes = await Promise.allSettled(this.#routes.values());
    this.#routes.clear();
    if (this.#ownsPool) this.#bulkPool.destroy();
    for (const route of routes) if (route.status === "fulfilled") route.value.client.made?.agent.destroy();
  }

  /** The agent, trust and proxy for the origin of `url`, made once per client. */
  #route(url: URL): Promise<Route> {
    const key = `${url.protocol}//${url.host}`;
    let route = this.#routes.get(key);
    if (route === undefined) {
      route = this.#makeRoute(url);
      route.catch(() => this.#routes.delete(key));
      this.#routes.set(key, route);
    }
    return route;
  }

  async #makeRoute(url: URL): Promise<Route> {
    const proxy = proxyFor(url, this.#proxies);
    if (url.protocol !== "https:")
      return { client: lazyClient(() => ({ agent: new HttpAgent({ keepAlive: true }), request: httpRequest })), trust: undefined, proxy };
    const { secureRoute } = await import("./secure-route.js");
    return secureRoute(url, proxy, this.#options, this.#env, (message) => this.#warn(message));
  }

  #warn(message: string): void {
    try {
      this.#options.onWarning?.(message);
    } catch {
      // A listener that throws must not break a pull.
    }
  }

  #checkTransport(url: URL, credentialed: boolean): void {
    if (url.protocol === "https:") return;
    if (url.protocol !== "http:") {
      throw new PullbackError("registry", `refusing ${redactUrl(url)}: only http and https are spoken`);
    }
    if (!this.allowsPlainHttp(url.host)) {
      throw new PullbackError(
        "usage",
        `refusing plain HTTP to ${url.host} (${redactUrl(url)}): only loopback hosts and hosts marked insecure may be reached without TLS`,
      );
    }
    if (credentialed && !isLoopbackHost(url.host)) {
      throw new PullbackError("usage", `refusing to send credentials over plain HTTP to ${url.host}: use HTTPS, or pull anonymously`);
    }
  }

  async #sendWithRetries(exchange: OutgoingRequest, source: ResponseSource, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const { method, url } = exchange;
    const retries = Math.max(0, this.#options.retries ?? 2);
    const what = `${method} ${redactUrl(url)}`;
    for (let attempt = 0; ; attempt++) {
      // An aborted caller wants nothing more: no retry of what the abort broke.
      const canRetry = attempt < retries && signal?.aborted !== true;
      const backoff = (this.#options.retryDelayMs ?? 250) * 2 ** attempt;
      let response: HttpResponse;
      signal?.throwIfAborted();
      const route = await this.#route(url);
      try {
        response = await this.#sendOnce(exchange, route, signal);
      } catch (error) {
        signal?.throwIfAborted();
        this.#report({ method, url: redactUrl(url), status: undefined, error: messageOf(error) });
        if (canRetry && isRetryable(error)) {
          await sleep(backoff, undefined, { signal });
          continue;
        }
        throw networkFailure(error, { what, url, proxy: route.proxy, trust: route.trust });
      }
      this.#report({ method, url: redactUrl(url), status: response.status });
      if (response.status === 407 && route.proxy !== undefined) {
        // Plain HTTP through a proxy: the proxy itself answers; never mistake it for the registry.
        response.body.destroy();
        const refusal = new ProxyTunnelError(
          "auth",
          `the proxy ${redactProxy(route.proxy)} answered HTTP 407 (proxy authentication required)`,
          { proxy: route.proxy, status: 407 },
        );
        throw networkFailure(refusal, { what, url, proxy: route.proxy, trust: route.trust });
      }
      if (response.status === 429) {
        const wait = parseRetryAfter(response.header("retry-after")) ?? backoff;
        if (canRetry && wait <= (this.#options.maxRetryAfterMs ?? 10_000)) {
          discardBody(response.body);
          await sleep(wait, undefined, { signal });
          continue;
        }
        throw await errorFromResponse(response, what, source, { kind: "rate-limited" });
      }
      if (response.status >= 500) {
        if (canRetry) {
          discardBody(response.body);
          await sleep(backoff, undefined, { signal });
          continue;
        }
        throw await errorFromResponse(response, what, source, { kind: "registry" });
      }
      return response;
    }
  }

  #sendOnce({ method, url, headers, body }: OutgoingRequest, route: Route, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const idle = this.#options.idleTimeoutMs ?? 30_000;
    const connectTimeout = this.#options.connectTimeoutMs ?? 10_000;
    const secure = url.protocol === "https:";
    const direct = method === "GET" || method === "HEAD" ? method : undefined;
    if (direct !== undefined && body === undefined && route.proxy === undefined) {
      const request = {
        method: direct,
        url,
        headers,
        tls: route.bulkTls,
        connectTimeoutMs: connectTimeout,
        idleTimeoutMs: idle,
        signal,
        pool: this.#bulkPool,
      };
      return bulkGet(request).then((response) => {
        const headerValues = (name: string): string[] => [...(response.headers.get(name.toLowerCase()) ?? [])];
        return { status: response.status, url, body: response.body, headerValues, header: (name) => headerValues(name)[0] };
      });
    }
    const client = route.client();
    return new Promise((resolve, reject) => {
      // highWaterMark is honoured by Node's client (it sizes the socket's and the body's buffers) but missing from its types.
      const options: RequestOptions & { highWaterMark: number } = {
        method,
        headers,
        agent: client.agent,
        highWaterMark: BODY_HIGH_WATER_MARK,
        ...(signal === undefined ? {} : { signal }),
      };
      const req = secure || route.proxy === undefined ? client.request(url, options) : viaHttpProxy(url, options, route.proxy);
      let answer: IncomingMessage | undefined;
      const fail = (error: Error): void => {
        // After the headers the failure belongs to the body: its reader sees it.
        if (answer) answer.destroy(error);
        else req.destroy(error);
      };
      req.setTimeout(idle, () =>
        fail(
          timeoutError(answer ? `no body bytes from ${url.host} for ${idle} ms` : `no response headers from ${url.host} within ${idle} ms`),
        ),
      );
      req.once("socket", (socket) => {
        if (!socket.connecting) return; // a pooled keep-alive connection
        const timer = setTimeout(() => fail(timeoutError(`could not connect to ${url.host} within ${connectTimeout} ms`)), connectTimeout);
        socket.once(secure ? "secureConnect" : "connect", () => clearTimeout(timer));
        socket.once("close", () => clearTimeout(timer));
      });
      // Kept for the whole exchange: the socket reports late errors on the request too.
      req.on("error", reject);
      req.once("response", (res) => {
        answer = res;
        // A caller that discards a body it does not need (destroy unread) must not crash
        // the process with an unhandled error; readers still see errors.
        res.on("error", ignore);
        resolve(wrapResponse(res, url));
      });
      req.end(body);
    });
  }

  #report(exchange: Exchange): void {
    try {
      this.#options.onExchange?.(exchange);
    } catch {
      // A logger that throws must not break a pull.
    }
  }
}

/** One request as it goes out, after redirects rewrote it. */
interface OutgoingRequest {
  readonly method: HttpRequest["method"];
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** Plain HTTP through a proxy: the absolute URL goes to the proxy, as Go's transport sends it. */
function viaHttpProxy(url: URL, options: RequestOptions, proxy: URL): ReturnType<typeof httpRequest> {
  const authorization = proxyAuthorization(proxy);
  return httpRequest({
    ...options,
    host: proxy.hostname.replace(/^\[|\]$/g, ""),
    port: proxy.port === "" ? 80 : Number(proxy.port),
    path: url.href,
    headers: {
      ...(options.headers as Record<string, string>),
      host: url.host,
      ...(authorization === undefined ? {} : { "proxy-authorization": authorization }),
    },
  });
}

function wrapResponse(res: IncomingMessage, url: URL): HttpResponse {
  const distinct = res.headersDistinct;
  const headerValues = (name: string): string[] => distinct[name.toLowerCase()] ?? [];
  return { status: res.statusCode ?? 0, url, body: res, headerValues, header: (name) => headerValues(name)[0] };
}

/** A timeout as a transport error with the code Node gives its own (retryable, classified `network`). */
function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: "ETIMEDOUT" });
}

function ignore(): void {
  // Deliberately empty: see #sendOnce.
}

function hasAuthorization(headers: Record<string, string>): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase() === "authorization");
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "authorization"));
}

function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}
