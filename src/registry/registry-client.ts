/**
 * A client for one registry's distribution API (OCI distribution spec, /v2/),
 * as one identity. Knows auth, manifests and blobs; knows nothing of images,
 * platforms or targets — the pull is built on top.
 */
import type { Readable } from "node:stream";
import type { Credential } from "../credentials/credential.js";
import { PullbackError, isPullbackError, redactUrl } from "../errors.js";
import { parseWwwAuthenticate } from "./challenge.js";
import { hexDigest } from "./hex-digest.js";
import { HttpClient, discardBody, type Exchange, type HttpRequest, type HttpResponse } from "./http.js";
import { tlsExpectedDiagnosis } from "./network-failure.js";
import type { ProxyEnv } from "./proxy.js";
import type { TlsOptions } from "./trust.js";
import { isLoopbackHost } from "./loopback.js";
import { readBodyWhole } from "./read-body.js";
import { errorFromResponse } from "./registry-error.js";
import { MANIFEST_ACCEPT } from "./media-types.js";
import { repositoryScope } from "./scope.js";
import { Authenticator, type Authorization, type AuthSummary } from "./token-auth.js";
import type { TokenCache } from "./token-cache.js";
import type { PingAnswer, RegistryShare } from "./registry-share.js";

/** Manifest media types pullback reads, most capable first: the one Accept list (media-types.ts). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = MANIFEST_ACCEPT;

/** Manifests are small JSON documents; anything bigger is a broken or hostile registry. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

export interface RegistryClientOptions {
  /** Who to be; anonymous when absent. */
  readonly credential?: Credential | undefined;
  /** Allow plain HTTP to this (non-loopback) registry. Credentials are still never sent over it. */
  readonly insecure?: boolean | undefined;
  /** Extra tries on 5xx/429/resets/timeouts; 0 in tests. Default 2. */
  readonly retries?: number | undefined;
  readonly retryDelayMs?: number | undefined;
  readonly connectTimeoutMs?: number | undefined;
  readonly idleTimeoutMs?: number | undefined;
  readonly maxRetryAfterMs?: number | undefined;
  /** Called for every HTTP exchange with a redacted URL, for `-v`. */
  readonly onExchange?: ((exchange: Exchange) => void) | undefined;
  /** Share tokens between clients (keys include the identity, so sharing is safe). */
  readonly tokenCache?: TokenCache;
  /** CAs and client certificates beyond the system store: certs.d, `--cert-dir`, files. */
  readonly tls?: TlsOptions | undefined;
  /** Proxy variables, NODE_EXTRA_CA_CERTS, XDG_CONFIG_HOME. Default `process.env`. */
  readonly env?: ProxyEnv | undefined;
  /** Called with warnings the user must see (certificate checks switched off). */
  readonly onWarning?: ((message: string) => void) | undefined;
  /** Aborting stops every request of this client at once (a blob body too) and retries none. */
  readonly signal?: AbortSignal | undefined;
  /** Connections and ping answers shared by the clients of one run (a set, a fallback); its owner closes it. */
  readonly registryShare?: RegistryShare | undefined;
}

/** What a manifest HEAD tells. */
export interface ManifestDescriptor {
  readonly mediaType: string | undefined;
  /** From Docker-Content-Digest; undefined when the registry does not send it. */
  readonly digest: string | undefined;
  readonly size: number | undefined;
}

export interface Manifest {
  readonly mediaType: string;
  /** The digest of `bytes` (sha256, or the algorithm of the digest asked for). */
  readonly digest: string;
  readonly bytes: Buffer;
}

export interface BlobResponse {
  /** The body; consume it or `destroy()` it. */
  readonly body: Readable;
  /** Length of `body` in bytes, when the registry said. */
  readonly contentLength: number | undefined;
  /** True when the body starts at the requested offset (206); false when it starts at 0 (200, Range ignored). */
  readonly rangeHonoured: boolean;
}

export interface PingResult {
  readonly status: number;
  readonly auth: AuthSummary;
}

/**
 * One registry, one identity. Reuse it for a whole pull; `close()` afterwards.
 *
 * @example
 * const client = new RegistryClient("ghcr.io", { credential });
 * const manifest = await client.getManifest("owner/app", "1.0", MANIFEST_MEDIA_TYPES);
 * const blob = await client.getBlob("owner/app", layerDigest);
 * await client.close();
 */
export class RegistryClient {
  /** `host[:port]` as in references, e.g. "registry-1.docker.io", "127.0.0.1:5000". */
  readonly host: string;
  /** "https://host" — "http://host" for loopback and insecure registries. */
  readonly baseUrl: string;
  readonly #http: HttpClient;
  readonly #auth: Authenticator;
  readonly #retries: number;
  readonly #share: RegistryShare | undefined;
  readonly #signal: AbortSignal | undefined;
  #pinged: Promise<PingResult> | undefined;

  constructor(host: string, options: RegistryClientOptions = {}) {
    this.host = host;
    this.#retries = Math.max(0, options.retries ?? 2);
    const plain = options.insecure === true || isLoopbackHost(host);
    this.baseUrl = `${plain ? "http" : "https"}://${host}`;
    this.#http = new HttpClient({
      ...pick(options, [
        "retries",
        "retryDelayMs",
        "connectTimeoutMs",
        "idleTimeoutMs",
        "maxRetryAfterMs",
        "onExchange",
        "tls",
        "env",
        "onWarning",
        "signal",
      ]),
      insecureHosts: options.insecure === true ? [host] : [],
      pool: options.registryShare?.pool,
    });
    this.#share = options.registryShare;
    this.#signal = options.signal;
    this.#auth = new Authenticator(this.#http, host, options.credential, options.tokenCache);
  }

  /** The auth the registry asked for and where credentials go; complete after `ping()`. */
  get auth(): AuthSummary {
    return this.#auth.summary;
  }

  /**
   * `GET /v2/` without credentials: learns the auth scheme from the challenge.
   * Resolves with 200 (open) or 401 (auth needed); throws `network`/`registry` otherwise.
   * Memoized: later calls reuse the answer.
   */
  ping(): Promise<PingResult> {
    this.#pinged ??= this.#ping().catch((error: unknown) => {
      this.#pinged = undefined; // a failed ping may succeed later
      throw error;
    });
    return this.#pinged;
  }

  /**
   * Ask the token service for a token for `scopes` (empty: a login check, as `docker login` does).
   * Throws RegistryResponseError (source "token-service") when refused. Bearer registries only.
   */
  async requestToken(scopes: readonly string[]): Promise<void> {
    await this.ping();
    await this.#auth.fetchToken(scopes);
  }

  /**
   * `GET /v2/` with the credential: proves a Basic credential (200) or not (401). Returns the status.
   */
  async checkLogin(): Promise<number> {
    const response = await this.#send("GET", "/v2/", [], {});
    discardBody(response.body);
    return response.status;
  }

  /** `HEAD` a manifest by tag or digest. Throws `not-found`, `auth`, … as RegistryResponseError. */
  async headManifest(repository: string, reference: string, accept: readonly string[] = MANIFEST_MEDIA_TYPES): Promise<ManifestDescriptor> {
    const response = await this.#expectOk("HEAD", manifestPath(repository, reference), repository, { accept: accept.join(", ") });
    discardBody(response.body);
    const length = Number(response.header("content-length"));
    return {
      mediaType: mediaTypeOf(response.header("content-type")),
      digest: response.header("docker-content-digest"),
      size: Number.isSafeInteger(length) ? length : undefined,
    };
  }

  /**
   * `GET` a manifest, capped at 4 MiB (`limit`). When `reference` is a digest the bytes are
   * checked against it (`integrity`).
   */
  async getManifest(repository: string, reference: string, accept: readonly string[] = MANIFEST_MEDIA_TYPES): Promise<Manifest> {
    const what = `manifest ${repository}:${reference} from ${this.host}`;
    const { response, bytes } = await this.#fetchWhole(what, () =>
      this.#expectOk("GET", manifestPath(repository, reference), repository, { accept: accept.join(", ") }),
    );
    const asked = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):/.exec(reference)?.[1];
    const algorithm = asked === "sha512" ? "sha512" : "sha256";
    const digest = `${algorithm}:${hexDigest(algorithm, bytes)}`;
    if (asked !== undefined && digest !== reference) {
      throw new PullbackError("integrity", `${what}: content digest is ${digest}`);
    }
    const mediaType = mediaTypeOf(response.header("content-type")) ?? mediaTypeInside(bytes) ?? "application/octet-stream";
    return { mediaType, digest, bytes };
  }

  /**
   * The whole manifest body, capped at 4 MiB (`limit`). HttpClient retries the request; a body
   * that breaks off (`network`) is asked for again here, as often, rather than read short.
   */
  async #fetchWhole(what: string, send: () => Promise<HttpResponse>): Promise<{ response: HttpResponse; bytes: Buffer }> {
    for (let attempt = 0; ; attempt++) {
      const response = await send();
      if (Number(response.header("content-length")) > MANIFEST_SIZE_LIMIT) {
        response.body.destroy();
        throw new PullbackError("limit", `${what} is larger than ${MANIFEST_SIZE_LIMIT} bytes`);
      }
      try {
        const bytes = await readBodyWhole(response.body, MANIFEST_SIZE_LIMIT + 1, what);
        if (bytes.length > MANIFEST_SIZE_LIMIT) throw new PullbackError("limit", `${what} is larger than ${MANIFEST_SIZE_LIMIT} bytes`);
        return { response, bytes };
      } catch (error) {
        if (!isPullbackError(error, "network") || attempt >= this.#retries) throw error;
      }
    }
  }

  /**
   * `GET` a blob as a stream, from `offset` when given (Range). Follows the registry's
   * redirect to blob storage without the Authorization header when the host changes.
   * The caller verifies the digest while consuming the body.
   */
  async getBlob(
    repository: string,
    digest: string,
    options: { readonly offset?: number; readonly signal?: AbortSignal | undefined } = {},
  ): Promise<BlobResponse> {
    const offset = options.offset ?? 0;
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const { signal } = options;
    const via: Sender = (request) => this.#http.send({ ...request, signal });
    const response = await this.#expectOk("GET", `/v2/${repository}/blobs/${digest}`, repository, headers, via);
    const length = Number(response.header("content-length"));
    return {
      body: response.body,
      contentLength: Number.isSafeInteger(length) ? length : undefined,
      rangeHonoured: offset > 0 && response.status === 206,
    };
  }

  /** Release pooled connections. */
  async close(): Promise<void> {
    await this.#http.close();
  }

  async #ping(): Promise<PingResult> {
    const ask = (): Promise<PingAnswer> => this.#askPing();
    const answer = await (this.#share ? this.#share.ping(this.baseUrl, ask, this.#signal) : ask());
    if (answer.status === 401) this.#auth.learn(parseWwwAuthenticate(answer.challenges));
    else this.#auth.learnOpen();
    return { status: answer.status, auth: this.#auth.summary };
  }

  /** The anonymous `GET /v2/` itself: 2xx or 401 with its challenges; anything else throws. */
  async #askPing(): Promise<PingAnswer> {
    const response = await this.#http.send({ method: "GET", url: `${this.baseUrl}/v2/` });
    discardBody(response.body);
    if (response.status === 401 || (response.status >= 200 && response.status < 300))
      return { status: response.status, challenges: response.status === 401 ? response.headerValues("www-authenticate") : [] };
    const error = await errorFromResponse(response, `GET ${redactUrl(`${this.baseUrl}/v2/`)}`, "registry");
    // Go's TLS server answers a plain-HTTP request with a bare 400 (no headers; the body "Client sent an
    // HTTP request to an HTTPS server." is often cut by its reset): a transport mismatch, not the registry's word.
    const bare = response.header("date") === undefined && response.header("content-type") === undefined;
    if (
      response.status === 400 &&
      this.baseUrl.startsWith("http:") &&
      (bare || /client sent an http request to an https server/i.test(error.registryMessage))
    ) {
      const url = new URL(`${this.baseUrl}/v2/`);
      throw new PullbackError("network", error.message, {
        cause: error,
        reason: "tls-expected",
        diagnosis: tlsExpectedDiagnosis({ what: `GET ${redactUrl(url)}`, url, proxy: undefined, trust: undefined }),
      });
    }
    throw error;
  }

  /** Send and insist on 2xx; anything else becomes a RegistryResponseError. */
  async #expectOk(
    method: "GET" | "HEAD",
    path: string,
    repository: string,
    headers: Record<string, string>,
    via?: Sender,
  ): Promise<HttpResponse> {
    const response = await this.#send(method, path, [repositoryScope(repository)], headers, via);
    if (response.status >= 200 && response.status < 300) return response;
    const challenge = parseWwwAuthenticate(response.headerValues("www-authenticate"))[0];
    throw await errorFromResponse(response, `${method} ${redactUrl(this.baseUrl + path)}`, "registry", {
      challengeError: challenge?.params.error,
    });
  }

  /**
   * Send with auth: ping first if needed; on a 401 adopt the new challenge and try once more
   * when the first try carried no auth or a cached (possibly revoked) token.
   */
  async #send(
    method: "GET" | "HEAD",
    path: string,
    scopes: readonly string[],
    headers: Record<string, string>,
    via: Sender = (request) => this.#http.send(request),
  ): Promise<HttpResponse> {
    await this.ping();
    for (let attempt = 0; ; attempt++) {
      const authorization: Authorization = await this.#auth.authorize(scopes);
      const response = await via({
        method,
        url: this.baseUrl + path,
        headers: authorization.header === undefined ? headers : { ...headers, authorization: authorization.header },
        credentialed: this.#auth.credentialed,
      });
      const stale = authorization.header === undefined || authorization.cached;
      if (response.status !== 401 || attempt > 0 || !stale) return response;
      if (authorization.cached) this.#auth.forget(scopes);
      if (!this.#auth.learn(parseWwwAuthenticate(response.headerValues("www-authenticate"))) && !authorization.cached) return response;
      discardBody(response.body);
    }
  }
}

/** How a request goes out: this client's HttpClient, with a cancel signal when one was given. */
type Sender = (request: HttpRequest) => Promise<HttpResponse>;

function manifestPath(repository: string, reference: string): string {
  return `/v2/${repository}/manifests/${reference}`;
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(";")[0]?.trim();
  return type === "" ? undefined : type;
}

/** Old registries send JSON without a content type; the manifest names its own media type. */
function mediaTypeInside(bytes: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown };
    return typeof parsed.mediaType === "string" ? parsed.mediaType : undefined;
  } catch {
    return undefined;
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): { [P in K]?: Exclude<T[P], undefined> } {
  const picked: { [P in K]?: Exclude<T[P], undefined> } = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key] as Exclude<T[K], undefined>;
  return picked;
}
