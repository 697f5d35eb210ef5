/**
 * What the registry clients of one run share: kept-alive connections, so the images of a set
 * (and the anonymous retry of a refused pull) reuse TCP and TLS sessions instead of opening
 * their own; and each registry's answer to the anonymous `GET /v2/`, which is the registry's
 * whoever asks. Tokens are shared separately (TokenCache), keyed by identity.
 */
import { BulkPool } from "./bulk-get.js";

/** A registry's answer to the anonymous ping: 200 (open) or 401 with its challenges. */
export interface PingAnswer {
  readonly status: number;
  /** The `WWW-Authenticate` lines of a 401, one per line. */
  readonly challenges: readonly string[];
}

/**
 * One per run; hand it to every RegistryClient of the run, and `close()` it when the run is over.
 *
 * @example
 * const share = new RegistryShare();
 * try { await new RegistryClient(host, { registryShare: share }).getManifest(repo, "1") } finally { share.close() }
 */
export class RegistryShare {
  /** Idle kept-alive connections by origin; HttpClients that use it leave it open when they close. */
  readonly pool = new BulkPool();
  readonly #pings = new Map<string, { readonly answer: Promise<PingAnswer>; readonly signal: AbortSignal | undefined }>();

  /**
   * The ping answer of `baseUrl`, asked once per run by the first client that needs it; `signal` is
   * that client's. A failed ask is forgotten, so a later one asks again; one that failed because its
   * own client was cancelled is asked again at once by a waiter that was not.
   */
  ping(baseUrl: string, ask: () => Promise<PingAnswer>, signal: AbortSignal | undefined): Promise<PingAnswer> {
    const asked = this.#pings.get(baseUrl);
    if (asked !== undefined)
      return asked.answer.catch((error: unknown) => {
        if (asked.signal?.aborted === true && signal?.aborted !== true) return this.ping(baseUrl, ask, signal);
        throw error;
      });
    const answer = ask();
    this.#pings.set(baseUrl, { answer, signal });
    answer.catch(() => {
      if (this.#pings.get(baseUrl)?.answer === answer) this.#pings.delete(baseUrl);
    });
    return answer;
  }

  /** Close the idle connections; those still in use close when their exchange ends. */
  close(): void {
    this.pool.destroy();
  }
}
