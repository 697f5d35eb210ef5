/**
 * Which hosts may be spoken to over plain HTTP. Loopback traffic never leaves
 * the machine, so plain HTTP there exposes nothing (dockerd agrees: it treats
 * 127.0.0.0/8 registries as insecure without configuration).
 */
import { isIPv4 } from "node:net";

/** The host name of `host[:port]` or `[v6]:port`, lower-cased, without brackets. */
export function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(host);
  if (bracketed) return (bracketed[1] ?? "").toLowerCase();
  // A bare IPv6 address has several colons; only a single colon separates a port.
  const colons = host.split(":").length - 1;
  return (colons === 1 ? host.slice(0, host.indexOf(":")) : host).toLowerCase();
}

/**
 * True for localhost, 127.0.0.0/8 and ::1, given a host with or without a port.
 *
 * @example
 * isLoopbackHost("127.0.0.1:5000") // → true
 * isLoopbackHost("[::1]:5000")     // → true
 * isLoopbackHost("ghcr.io")        // → false
 */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host).replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIPv4(name)) return name.startsWith("127.");
  return name === "::1" || name === "0:0:0:0:0:0:0:1";
}
