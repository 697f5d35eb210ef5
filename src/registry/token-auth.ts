/**
 * Registry authentication as the registry's own challenge describes it — never a
 * hard-coded token URL. Bearer (distribution token auth, OAuth2 refresh tokens)
 * and Basic; tokens cached until shortly before expiry.
 */
import type { Credential } from "../credentials/credential.js";
import { PullbackError, redactUrl } from "../errors.js";
import { findChallenge, type Challenge } from "./challenge.js";
import { hexDigest } from "./hex-digest.js";
import { hostnameOf } from "./loopback.js";
import type { HttpClient, HttpResponse } from "./http.js";
import { readBodyCapped } from "./read-body.js";
import { errorFromResponse } from "./registry-error.js";
import { mergeScopes } from "./scope.js";
import { TokenCache, type TokenKey } from "./token-cache.js";

export type AuthScheme = "bearer" | "basic" | "none";

/** What the registry asked for and where credentials go, secret-free (for outcomes and `-v`). */
export interface AuthSummary {
  /** undefined until the registry has been asked (ping or a 401). */
  readonly scheme: AuthScheme | undefined;
  /** The token realm, redacted; bearer only. */
  readonly realm: string | undefined;
  readonly service: string | undefined;
  /** The realm's host name differs from the registry's (like auth.docker.io for Docker Hub): credentials go there too. Ports are not compared. */
  readonly realmOnOtherHost: boolean;
}

/** An Authorization header value, and whether it came from the cache (a cached token may have been revoked). */
export interface Authorization {
  readonly header: string | undefined;
  readonly cached: boolean;
}

const TOKEN_BODY_LIMIT = 1024 * 1024;
const CLIENT_ID = "pullback";

/**
 * Holds one registry's auth state for one identity (a credential or anonymous).
 *
 * @example
 * const auth = new Authenticator(http, "ghcr.io", credential);
 * auth.learn(parseWwwAuthenticate(response.headerValues("www-authenticate")));
 * const { header } = await auth.authorize(["repository:owner/app:pull"]);
 */
export class Authenticator {
  readonly #http: HttpClient;
  readonly #registryHost: string;
  readonly #credential: Credential | undefined;
  readonly #cache: TokenCache;
  readonly #identity: string;
  #scheme: AuthScheme | undefined;
  #realm: URL | undefined;
  #service: string | undefined;

  constructor(http: HttpClient, registryHost: string, credential: Credential | undefined, cache: TokenCache = new TokenCache()) {
    this.#http = http;
    this.#registryHost = registryHost;
    this.#credential = credential;
    this.#cache = cache;
    this.#identity = identityOf(credential);
  }

  get summary(): AuthSummary {
    return {
      scheme: this.#scheme,
      realm: this.#realm === undefined ? undefined : redactUrl(this.#realm),
      service: this.#service,
      realmOnOtherHost: this.#realm !== undefined && hostnameOf(this.#realm.host) !== hostnameOf(this.#registryHost),
    };
  }

  /** Whether requests carry something bought with the user's credential (never over plain HTTP off loopback). */
  get credentialed(): boolean {
    return this.#credential !== undefined && this.#scheme !== "none";
  }

  /** The registry needs no auth: its `/v2/` answered without a challenge. */
  learnOpen(): void {
    this.#scheme ??= "none";
  }

  /**
   * Adopt the registry's challenges (from `GET /v2/` or any 401). Bearer wins over Basic.
   * Returns false when no challenge is one we can answer.
   */
  learn(challenges: readonly Challenge[]): boolean {
    const bearer = findChallenge(challenges, "bearer");
    const realm = bearer?.params.realm;
    if (bearer && realm !== undefined) {
      this.#realm = parseRealm(realm);
      this.#service = bearer.params.service;
      this.#scheme = "bearer";
      return true;
    }
    if (findChallenge(challenges, "basic")) {
      this.#scheme = "basic";
      this.#realm = undefined;
      return true;
    }
    return false;
  }

  /** The Authorization header for a request needing `scopes`, fetching a token when none is cached. */
  async authorize(scopes: readonly string[]): Promise<Authorization> {
    if (this.#scheme === "basic") return { header: this.#basicHeader(), cached: false };
    if (this.#scheme !== "bearer") return { header: undefined, cached: false };
    const key = this.#key(scopes);
    const cached = this.#cache.get(key);
    if (cached !== undefined) return { header: `Bearer ${cached}`, cached: true };
    return { header: `Bearer ${await this.fetchToken(scopes)}`, cached: false };
  }

  /** Drop a cached token the registry no longer accepts. */
  forget(scopes: readonly string[]): void {
    if (this.#scheme === "bearer") this.#cache.delete(this.#key(scopes));
  }

  /**
   * Ask the token service for a token (bypassing the cache, then caching it). An empty `scopes`
   * is what `docker login` asks: it proves the credential without naming a repository.
   * Throws a RegistryResponseError with source "token-service" when refused (401 wrong credentials, 403 denied).
   */
  async fetchToken(scopes: readonly string[]): Promise<string> {
    const realm = this.#realm;
    if (this.#scheme !== "bearer" || realm === undefined) {
      throw new PullbackError("registry", `${this.#registryHost} asked for no token (its challenge is not Bearer)`);
    }
    const merged = mergeScopes(scopes);
    let response = this.#credential?.kind === "identity-token" ? await this.#postRefreshToken(realm, merged) : undefined;
    if (response && (response.status === 404 || response.status === 405)) {
      // Token services without the OAuth2 endpoint (containerd does the same fallback).
      response.body.destroy();
      response = undefined;
    }
    response ??= await this.#getToken(realm, merged);
    const what = `token request to ${redactUrl(realm)}`;
    if (response.status !== 200) throw await errorFromResponse(response, what, "token-service");
    const { token, expiresIn } = await readTokenResponse(response, what);
    this.#cache.set(this.#key(merged), token, expiresIn);
    return token;
  }

  async #getToken(realm: URL, scopes: readonly string[]): Promise<HttpResponse> {
    const url = new URL(realm);
    if (this.#service !== undefined) url.searchParams.set("service", this.#service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    if (this.#credential) url.searchParams.set("account", this.#credential.username);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#credential) headers.authorization = this.#basicHeader() ?? "";
    return this.#http.send({ method: "GET", url, headers, credentialed: this.#credential !== undefined, source: "token-service" });
  }

  async #postRefreshToken(realm: URL, scopes: readonly string[]): Promise<HttpResponse> {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: this.#credential?.reveal() ?? "",
      client_id: CLIENT_ID,
    });
    if (this.#service !== undefined) form.set("service", this.#service);
    if (scopes.length > 0) form.set("scope", scopes.join(" "));
    return this.#http.send({
      method: "POST",
      url: realm,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      credentialed: true,
      source: "token-service",
    });
  }

  #basicHeader(): string | undefined {
    const credential = this.#credential;
    if (!credential) return undefined;
    return `Basic ${Buffer.from(`${credential.username}:${credential.reveal()}`).toString("base64")}`;
  }

  #key(scopes: readonly string[]): TokenKey {
    return { realm: this.#realm?.href ?? "", service: this.#service, scopes: mergeScopes(scopes), identity: this.#identity };
  }
}

/** Realms must be http(s) URLs; whether plain HTTP is allowed is the transport's rule (loopback or insecure only). */
function parseRealm(realm: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new PullbackError("registry", `the registry's token realm is not a URL: ${redactUrl(realm)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new PullbackError("registry", `the registry's token realm is not http(s): ${redactUrl(url)}`);
  }
  return url;
}

/** Tells credentials apart in the token cache without keeping the secret there. */
function identityOf(credential: Credential | undefined): string {
  if (!credential) return "anonymous";
  const digest = hexDigest("sha256", credential.reveal()).slice(0, 16);
  return `${credential.kind}:${credential.username}:${digest}`;
}

/**
 * The token in a token service's 200 answer (`token` or `access_token`, and `expires_in`);
 * a `registry` error when the body is not JSON or holds no token. Exported for the fuzz tests.
 *
 * @example
 * const { token, expiresIn } = await readTokenResponse(response, "token request to https://ghcr.io/token");
 */
export async function readTokenResponse(response: HttpResponse, what: string): Promise<{ token: string; expiresIn: number | undefined }> {
  const text = (await readBodyCapped(response.body, TOKEN_BODY_LIMIT)).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PullbackError("registry", `${what}: the answer is not JSON`);
  }
  const { token, access_token: accessToken, expires_in: expiresIn } = (body ?? {}) as Record<string, unknown>;
  const value = [token, accessToken].find((candidate): candidate is string => typeof candidate === "string" && candidate !== "");
  if (value === undefined) throw new PullbackError("registry", `${what}: the answer holds no token`);
  return { token: value, expiresIn: typeof expiresIn === "number" ? expiresIn : undefined };
}
