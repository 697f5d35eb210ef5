/**
 * How an https origin is reached: its trust (certs.d, extra CAs, client certificate), the TLS
 * settings direct requests connect with, and an https Agent (direct or tunnelled through a
 * proxy) made on first use. Its own module, loaded by http.ts on the first https URL, so a
 * plain-HTTP run never loads node:tls (~6 ms).
 */
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";
import type { BulkTls } from "./bulk-get.js";
import { lazyClient, type LazyClient } from "./node-client.js";
import { TunnelAgent } from "./proxy-tunnel.js";
import { loadHostTrust, type HostTrust, type TlsOptions } from "./trust.js";
import type { ProxyEnv } from "./proxy.js";

/** An https origin's route, as http.ts keeps it per origin. */
export interface SecureRoute {
  /** node:https's client, for requests through a proxy and requests with a body. */
  readonly client: LazyClient;
  readonly trust: HostTrust;
  readonly proxy: URL | undefined;
  /** The same trust for direct GETs and HEADs, which connect without the agent. */
  readonly bulkTls: BulkTls;
}

/**
 * @example
 * const route = await secureRoute(new URL("https://ghcr.io/v2/"), undefined, {}, process.env, console.warn);
 */
export async function secureRoute(
  url: URL,
  proxy: URL | undefined,
  options: { readonly tls?: TlsOptions | undefined; readonly connectTimeoutMs?: number | undefined },
  env: ProxyEnv,
  warn: (message: string) => void,
): Promise<SecureRoute> {
  const trust = await loadHostTrust(url.host, options.tls ?? {}, env);
  if (!trust.rejectUnauthorized) {
    warn(
      `TLS certificate verification is off for ${url.host} (insecure_skip_verify): anyone between here and the registry can read and change the traffic, credentials included`,
    );
  }
  const agentOptions = {
    keepAlive: true,
    rejectUnauthorized: trust.rejectUnauthorized,
    ...(trust.ca === undefined ? {} : { ca: [...trust.ca] }),
    ...(trust.cert === undefined || trust.key === undefined ? {} : { cert: trust.cert, key: trust.key }),
  };
  const client = lazyClient(() => ({
    agent: proxy === undefined ? new HttpsAgent(agentOptions) : new TunnelAgent(proxy, agentOptions, options.connectTimeoutMs ?? 10_000),
    request: httpsRequest,
  }));
  return { client, trust, proxy, bulkTls: { connect: tlsConnect, options: agentOptions } };
}
