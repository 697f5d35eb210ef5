/**
 * node:http's (or node:https's) client for one origin, made on first use: direct GETs and
 * HEADs go out on bulk-get.ts's connections, so most runs never load node:http.
 */
import type { Agent, request } from "node:http";

export interface NodeClient {
  readonly agent: Agent;
  readonly request: typeof request;
}

/** A client made on the first call; `made` is it, once it was. */
export type LazyClient = (() => NodeClient) & { readonly made: NodeClient | undefined };

/**
 * @example
 * const client = lazyClient(() => ({ agent: new Agent({ keepAlive: true }), request }));
 * client().request(url, { agent: client().agent });
 */
export function lazyClient(make: () => NodeClient): LazyClient {
  let made: NodeClient | undefined;
  const get = (): NodeClient => (made ??= make());
  return Object.defineProperty(get, "made", { get: () => made }) as LazyClient;
}
