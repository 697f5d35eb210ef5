/**
 * Which proxy a request goes through, as Go's `net/http.ProxyFromEnvironment`
 * decides it (golang.org/x/net/http/httpproxy) — the rules dockerd, containerd,
 * skopeo and crane follow, so pullback goes where they go.
 *
 * Why not `proxy-from-env`: it lets the lower-case variable win (Go: upper-case),
 * knows no IP or CIDR entries, proxies loopback, and reads only `process.env`.
 */
import { BlockList, isIP } from "node:net";
import { redactUrl } from "../errors.js";
import { hostnameOf } from "./loopback.js";

/**
 * The environment the proxy variables come from; the CLI passes its own, tests theirs.
 *
 * @example
 * await pullImage(ref, { to, env: { HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: ".corp" } });
 */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/**
 * The proxy settings of one environment.
 *
 * @example
 * const proxies = proxyConfigFromEnv({ HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: ".corp" });
 */
export interface ProxyConfig {
  readonly httpProxy: URL | undefined;
  readonly httpsProxy: URL | undefined;
  readonly noProxy: string;
}

/** The first non-empty of the names: the upper-case form wins, as in Go. */
function envAny(env: ProxyEnv, ...names: string[]): string {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
  }
  return "";
}

/** A proxy URL; without a scheme it means http:// (Go's parseProxy). */
function parseProxy(value: string): URL | undefined {
  if (value === "") return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  try {
    return new URL(withScheme);
  } catch {
    return undefined;
  }
}

/**
 * Read HTTPS_PROXY / HTTP_PROXY / NO_PROXY (upper-case wins over lower-case).
 * Like Go, HTTP_PROXY is ignored when REQUEST_METHOD is set (a CGI environment).
 *
 * @example
 * proxyConfigFromEnv(process.env).httpsProxy?.host // → "proxy.corp:3128"
 */
export function proxyConfigFromEnv(env: ProxyEnv): ProxyConfig {
  const cgi = envAny(env, "REQUEST_METHOD") !== "";
  return {
    httpProxy: cgi ? undefined : parseProxy(envAny(env, "HTTP_PROXY", "http_proxy")),
    httpsProxy: parseProxy(envAny(env, "HTTPS_PROXY", "https_proxy")),
    noProxy: envAny(env, "NO_PROXY", "no_proxy"),
  };
}

/**
 * The proxy for `url`, or undefined to go direct. https uses HTTPS_PROXY only and
 * http HTTP_PROXY only; localhost and loopback IPs never go through a proxy.
 *
 * @example
 * proxyFor(new URL("https://ghcr.io/v2/"), proxyConfigFromEnv({ HTTPS_PROXY: "proxy:3128" }))?.href // → "http://proxy:3128/"
 */
export function proxyFor(url: URL, config: ProxyConfig): URL | undefined {
  const proxy = url.protocol === "https:" ? config.httpsProxy : url.protocol === "http:" ? config.httpProxy : undefined;
  if (proxy === undefined) return undefined;
  const port = url.port === "" ? (url.protocol === "https:" ? "443" : "80") : url.port;
  return useProxy(hostnameOf(url.host), port, config.noProxy) ? proxy : undefined;
}

/** Go's httpproxy `useProxy`: host is lower-case, without brackets. */
function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === "localhost") return false;
  if (isIP(host) !== 0 && isLoopbackIp(host)) return false;
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return false;
    if (matchesEntry(host, port, entry)) return false;
  }
  return true;
}

function isLoopbackIp(ip: string): boolean {
  return isIP(ip) === 4 ? ip.startsWith("127.") : ip === "::1" || /^(0+:){7}0*1$/.test(ip) || ip === "::ffff:127.0.0.1";
}

function matchesEntry(host: string, port: string, entry: string): boolean {
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (cidr?.[1] !== undefined && isIP(cidr[1]) !== 0) return inCidr(host, cidr[1], Number(cidr[2]));
  const { name, entryPort } = splitEntry(entry);
  if (isIP(name) !== 0) return name === host && (entryPort === "" || entryPort === port);
  if (isIP(host) !== 0 || (entryPort !== "" && entryPort !== port)) return false;
  // "*.example.com" is ".example.com"; "example.com" matches itself and its subdomains,
  // ".example.com" only its subdomains.
  const suffix = name.startsWith("*.") ? name.slice(1) : name;
  if (suffix.startsWith(".")) return host.endsWith(suffix);
  return host === suffix || host.endsWith(`.${suffix}`);
}

function splitEntry(entry: string): { name: string; entryPort: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1] ?? "", entryPort: bracketed[2] ?? "" };
  const hostPort = /^([^:]+):(\d+)$/.exec(entry);
  if (hostPort) return { name: hostPort[1] ?? "", entryPort: hostPort[2] ?? "" };
  return { name: entry, entryPort: "" };
}

function inCidr(host: string, network: string, prefix: number): boolean {
  const family = isIP(network) === 6 ? "ipv6" : "ipv4";
  if (isIP(host) !== (family === "ipv6" ? 6 : 4)) return false;
  const list = new BlockList();
  try {
    list.addSubnet(network, prefix, family);
  } catch {
    return false;
  }
  return list.check(host, family);
}

/**
 * A proxy URL as it may be shown: `http://***@proxy.corp:3128/` — never its password.
 *
 * @example
 * redactProxy(new URL("http://user:s3cret@proxy:3128")) // → "http://***@proxy:3128"
 */
export function redactProxy(proxy: URL): string {
  return redactUrl(proxy).replace(/\/$/, "");
}

/**
 * The `Proxy-Authorization` value for a proxy URL with credentials, else undefined.
 *
 * @example
 * proxyAuthorization(new URL("http://u:p@proxy:3128")) // → "Basic dTpw"
 */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === "" && proxy.password === "") return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}
