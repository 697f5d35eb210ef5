/**
 * The proxy's failure, apart from the tunnel itself (proxy-tunnel.ts), so that classifying
 * an error does not load node:https and node:tls on a plain-HTTP run.
 */
import { redactProxy } from "./proxy.js";

/** What went wrong on the way through the proxy, before the registry said anything. */
export type ProxyFailureStage = "unreachable" | "auth" | "upstream";

/** The proxy, not the registry, failed the request. Never holds the proxy's password. */
export class ProxyTunnelError extends Error {
  override readonly name = "ProxyTunnelError";
  readonly stage: ProxyFailureStage;
  /** The proxy's answer to CONNECT, when it answered. */
  readonly status: number | undefined;
  /** The proxy, redacted. */
  readonly proxy: string;

  constructor(stage: ProxyFailureStage, message: string, details: { proxy: URL; status?: number; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.stage = stage;
    this.status = details.status;
    this.proxy = redactProxy(details.proxy);
  }
}
