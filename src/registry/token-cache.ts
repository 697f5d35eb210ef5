/**
 * Bearer tokens kept until shortly before they expire, so a pull asks the token
 * service once per (realm, service, scopes, identity), not once per request.
 */

/** Token services grant tokens for at least this long; distribution's spec says 60 s. */
export const MIN_TOKEN_LIFETIME_S = 60;
/** Refresh a little early: a token that expires in flight fails a request halfway through a pull. */
export const EXPIRY_MARGIN_MS = 5_000;

export interface TokenKey {
  readonly realm: string;
  readonly service: string | undefined;
  readonly scopes: readonly string[];
  /** "anonymous", or something that tells credentials apart without holding the secret. */
  readonly identity: string;
}

interface Entry {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * A small token cache with an injectable clock.
 *
 * @example
 * const cache = new TokenCache();
 * cache.set(key, "abc", 300);
 * cache.get(key); // → "abc" until ~295 s from now
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(key: TokenKey): string | undefined {
    const id = cacheId(key);
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (this.#now() >= entry.expiresAt) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.token;
  }

  /** Store a token for `expiresInS` seconds (raised to the 60 s minimum; absent or junk means 60 s). */
  set(key: TokenKey, token: string, expiresInS: number | undefined): void {
    const lifetime = Math.max(MIN_TOKEN_LIFETIME_S, Number.isFinite(expiresInS) ? (expiresInS as number) : 0);
    this.#entries.set(cacheId(key), { token, expiresAt: this.#now() + lifetime * 1000 - EXPIRY_MARGIN_MS });
  }

  /** Forget tokens for an identity, e.g. after the registry refused one. */
  delete(key: TokenKey): void {
    this.#entries.delete(cacheId(key));
  }
}

function cacheId(key: TokenKey): string {
  return JSON.stringify([key.realm, key.service ?? null, [...key.scopes].sort(), key.identity]);
}
