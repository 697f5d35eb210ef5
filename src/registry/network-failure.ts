/**
 * A transport failure (TLS, proxy, DNS, TCP) as a `network` PullbackError with
 * a `reason` and a diagnosis that names the real problem and its fix. A
 * certificate or proxy problem is never "try again later": retrying cannot fix it.
 */
import { PullbackError, messageOf, type Diagnosis, type RecoveryStep } from "../errors.js";
import { ProxyTunnelError } from "./proxy-tunnel-error.js";
import { redactProxy } from "./proxy.js";
import type { HostTrust } from "./trust.js";

/** What was being done when the transport failed. */
export interface NetworkFailureContext {
  /** "GET https://ghcr.io/v2/" (redacted). */
  readonly what: string;
  /** The URL actually contacted (the endpoint, the realm or the blob host). */
  readonly url: URL;
  /** The proxy the request went through; undefined when direct. */
  readonly proxy: URL | undefined;
  /** The trust used for an https URL. */
  readonly trust: HostTrust | undefined;
}

/** `reason` codes of transport failures, for `--json` and scripts. */
export type NetworkFailureReason =
  | "tls-unknown-ca"
  | "tls-hostname-mismatch"
  | "tls-expired"
  | "tls-client-cert-required"
  | "tls-plain-http"
  | "tls-expected"
  | "proxy-unreachable"
  | "proxy-auth-required"
  | "proxy-upstream-failed"
  | "unreachable";

const UNKNOWN_CA = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const CLIENT_CERT =
  /^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_BAD_CERTIFICATE|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_CERTIFICATE_UNKNOWN)$/;
const PLAIN_HTTP = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL)$/;
/** OpenSSL's words when the peer answered a ClientHello with plain HTTP (Node reports some of them as EPROTO). */
const PLAIN_HTTP_WORDS = /wrong version number|packet length too long|unknown protocol/i;

/** The first string `code` on the error or its causes. */
export function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * The `network` PullbackError for a failed exchange; `error` stays as `cause` for -v.
 *
 * @example
 * throw networkFailure(error, { what: "GET https://ghcr.io/v2/", url, proxy: undefined, trust });
 */
export function networkFailure(error: unknown, context: NetworkFailureContext): PullbackError {
  const code = errorCode(error);
  const detail = code === undefined || messageOf(error).includes(code) ? messageOf(error) : `${code}: ${messageOf(error)}`;
  const { reason, diagnosis } = diagnose(error, code, detail, context);
  return new PullbackError("network", `${context.what}: ${detail}`, { cause: error, reason, diagnosis });
}

function diagnose(
  error: unknown,
  code: string | undefined,
  detail: string,
  context: NetworkFailureContext,
): { reason: NetworkFailureReason; diagnosis: Diagnosis } {
  const tunnel = findTunnelError(error);
  if (tunnel !== undefined) return proxyDiagnosis(tunnel, detail, context);
  if (
    context.proxy !== undefined &&
    context.url.protocol === "http:" &&
    code !== undefined &&
    /^E(CONNREFUSED|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH)$/.test(code)
  ) {
    return proxyDiagnosis(new ProxyTunnelError("unreachable", detail, { proxy: context.proxy }), detail, context);
  }
  if (code !== undefined && UNKNOWN_CA.has(code)) return { reason: "tls-unknown-ca", diagnosis: unknownCa(detail, context) };
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return { reason: "tls-hostname-mismatch", diagnosis: hostnameMismatch(detail, context) };
  if (code !== undefined && EXPIRED.has(code)) return { reason: "tls-expired", diagnosis: expired(detail, context) };
  if (code !== undefined && CLIENT_CERT.test(code)) return { reason: "tls-client-cert-required", diagnosis: clientCert(detail, context) };
  if ((code !== undefined && PLAIN_HTTP.test(code)) || (context.url.protocol === "https:" && PLAIN_HTTP_WORDS.test(detail)))
    return { reason: "tls-plain-http", diagnosis: plainHttp(detail, context) };
  return { reason: "unreachable", diagnosis: unreachable(detail, context) };
}

function findTunnelError(error: unknown): ProxyTunnelError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof ProxyTunnelError) return current;
    current = current.cause;
  }
  return undefined;
}

/** "host:port" with the port always there, as openssl and certs.d spell it. */
function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** The certs.d directory docker reads for this host: `HOST` on 443 (URL.host omits it), else `HOST:PORT`. */
function certsDName(url: URL): string {
  return url.host;
}

function looked(context: NetworkFailureContext): string {
  const searched = context.trust?.searched ?? [];
  const files = context.trust?.files ?? [];
  return `pullback trusts the system CAs, NODE_EXTRA_CA_CERTS${searched.length > 0 ? ` and the *.crt files in ${searched.join(", ")}` : ""}${files.length > 0 ? `; it used ${files.join(", ")}` : "; it found no extra CA for this host"}`;
}

function via(context: NetworkFailureContext): string {
  return context.proxy === undefined ? "" : ` (through the proxy ${redactProxy(context.proxy)})`;
}

/** `openssl s_client` to see what the server presents, through the same proxy. */
function opensslStep(context: NetworkFailureContext, text = "See the certificate chain the server presents"): RecoveryStep {
  const proxy = context.proxy === undefined ? "" : ` -proxy ${context.proxy.host}`;
  return {
    text,
    command: `openssl s_client -showcerts -connect ${hostPort(context.url)} -servername ${context.url.hostname}${proxy} </dev/null`,
  };
}

/** The `curl` that repeats the request with the same trust and proxy (its password shown as ***). */
export function curlStep(context: NetworkFailureContext, text: string): RecoveryStep {
  const parts = ["curl -sSI"];
  const trust = context.trust;
  const ca = trust?.files.find((file) => file.endsWith(".crt") || file.endsWith(".pem"));
  if (trust !== undefined && !trust.rejectUnauthorized) parts.push("-k");
  if (ca !== undefined) parts.push(`--cacert ${ca}`);
  if (context.proxy !== undefined) parts.push(`--proxy ${redactProxy(context.proxy)}`);
  parts.push(`${context.url.protocol}//${context.url.host}/v2/`);
  return { text, command: parts.join(" ") };
}

function unknownCa(detail: string, context: NetworkFailureContext): Diagnosis {
  const dir = certsDName(context.url);
  return {
    summary: `The certificate of ${context.url.host} is not signed by a CA pullback trusts`,
    explanation: `${context.url.host} presented a certificate from an unknown or private CA (${detail})${via(context)}. ${looked(context)}.`,
    steps: [
      opensslStep(context),
      {
        text: "Trust the CA for this host as docker and skopeo do",
        command: `sudo mkdir -p /etc/docker/certs.d/${dir} && sudo cp ca.crt /etc/docker/certs.d/${dir}/ca.crt`,
      },
      {
        text: "Or give pullback a directory holding the CA as ca.crt (skopeo's --cert-dir layout)",
        command: `pullback check ${context.url.host} --cert-dir ./certs`,
      },
      { text: "Or trust the CA for every Node.js program", command: "export NODE_EXTRA_CA_CERTS=/path/to/ca.crt" },
    ],
    retryable: false,
  };
}

function hostnameMismatch(detail: string, context: NetworkFailureContext): Diagnosis {
  return {
    summary: `The certificate of ${context.url.host} is for another name`,
    explanation: `${context.url.hostname} is not among the names the certificate was issued for (${detail})${via(context)}. A certificate for another name proves nothing about this host, so no CA setting fixes this.`,
    steps: [
      opensslStep(context, "See which names the certificate covers (subject and subjectAltName)"),
      { text: "Use the registry by a name its certificate covers, or have the certificate reissued with this name in its subjectAltName" },
    ],
    retryable: false,
  };
}

function expired(detail: string, context: NetworkFailureContext): Diagnosis {
  return {
    summary: `The certificate of ${context.url.host} is expired or not yet valid`,
    explanation: `The certificate ${context.url.host} presented is outside its validity dates (${detail})${via(context)}. Retrying cannot help until it is renewed.`,
    steps: [
      {
        text: "See the certificate's dates",
        command: `openssl s_client -connect ${hostPort(context.url)} -servername ${context.url.hostname}${context.proxy === undefined ? "" : ` -proxy ${context.proxy.host}`} </dev/null 2>/dev/null | openssl x509 -noout -dates`,
      },
      { text: "Check this machine's clock", command: "date -u" },
      { text: "Ask the registry's operator to renew the certificate" },
    ],
    retryable: false,
  };
}

function clientCert(detail: string, context: NetworkFailureContext): Diagnosis {
  const dir = certsDName(context.url);
  const had = context.trust?.cert !== undefined;
  const searched = context.trust?.searched ?? [];
  return {
    summary: had
      ? `${context.url.host} refused the client certificate pullback offered`
      : `${context.url.host} requires a client certificate, and pullback found none`,
    explanation: `The server demands mutual TLS (${detail})${via(context)}. pullback offers client.cert + client.key (or NAME.cert + NAME.key) from ${searched.length > 0 ? searched.join(", ") : "the certificate directories"}${had ? "; the server did not accept the one found there" : ", and found none"}.`,
    steps: [
      {
        text: "Put the client certificate and key where docker and skopeo look for them",
        command: `sudo cp client.cert client.key /etc/docker/certs.d/${dir}/`,
      },
      {
        text: "Or give pullback a directory holding ca.crt, client.cert and client.key",
        command: `pullback check ${context.url.host} --cert-dir ./certs`,
      },
      opensslStep(context, "Check that the server accepts the certificate: add -cert client.cert -key client.key"),
    ],
    retryable: false,
  };
}

function plainHttp(detail: string, context: NetworkFailureContext): Diagnosis {
  return {
    summary: `${context.url.host} answered in plain HTTP where TLS was expected`,
    explanation: `pullback spoke TLS to ${hostPort(context.url)}, and the server there does not speak it (${detail})${via(context)}. Registries on loopback addresses are spoken to over plain HTTP; any other host only when allowed with --insecure, and credentials never cross plain HTTP.`,
    steps: [
      { text: "Check what the port speaks", command: `curl -sSI http://${context.url.host}/v2/` },
      {
        text: "If the registry really serves plain HTTP on a trusted network, allow it explicitly",
        command: `pullback check ${context.url.host} --insecure`,
      },
      { text: "Better: serve the registry over TLS" },
    ],
    retryable: false,
  };
}

/**
 * A TLS server answered plain HTTP ("Client sent an HTTP request to an HTTPS server").
 *
 * @example
 * throw new PullbackError("network", message, { reason: "tls-expected", diagnosis: tlsExpectedDiagnosis(context) });
 */
export function tlsExpectedDiagnosis(context: NetworkFailureContext): Diagnosis {
  return {
    summary: `${context.url.host} speaks TLS, but pullback spoke plain HTTP to it`,
    explanation: `The server on ${hostPort(context.url)} answered "Client sent an HTTP request to an HTTPS server". pullback speaks plain HTTP to loopback addresses and to hosts marked insecure.`,
    steps: [
      { text: "Drop --insecure for this registry, or reach it by a name that is not a loopback address" },
      { text: "Check that it speaks TLS", command: `curl -sSI https://${context.url.host}/v2/` },
    ],
    retryable: false,
  };
}

function proxyDiagnosis(
  tunnel: ProxyTunnelError,
  detail: string,
  context: NetworkFailureContext,
): { reason: NetworkFailureReason; diagnosis: Diagnosis } {
  const variable = context.url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY";
  const noProxy = {
    text: `If ${context.url.hostname} should be reached directly, add it to NO_PROXY`,
    command: `export NO_PROXY=${context.url.hostname}`,
  };
  const curl = curlStep(context, "Try the same request through the proxy with curl");
  if (tunnel.stage === "unreachable") {
    return {
      reason: "proxy-unreachable",
      diagnosis: {
        summary: `The proxy ${tunnel.proxy} could not be reached`,
        explanation: `Requests to ${context.url.host} go through the proxy ${tunnel.proxy} (from ${variable}), and connecting to it failed (${detail}). pullback neither went direct nor retried anonymously.`,
        steps: [{ text: `Check that the proxy runs and that ${variable} names its host and port` }, curl, noProxy],
        retryable: false,
      },
    };
  }
  if (tunnel.stage === "auth") {
    const hasCredentials = context.proxy !== undefined && (context.proxy.username !== "" || context.proxy.password !== "");
    return {
      reason: "proxy-auth-required",
      diagnosis: {
        summary: `The proxy ${tunnel.proxy} refused the request: proxy authentication required (HTTP ${tunnel.status ?? 407})`,
        explanation: `${hasCredentials ? "The proxy refused the user and password in the proxy URL" : "The proxy URL carries no user and password, and the proxy requires them"} (${variable}). This says nothing about the registry credentials, so pullback did not retry anonymously.`,
        steps: [
          {
            text: `Put the proxy's user and password in ${variable}`,
            command: `export ${variable}=http://USER:PASSWORD@${context.proxy?.host ?? "PROXY:PORT"}`,
          },
          curl,
        ],
        retryable: false,
      },
    };
  }
  return {
    reason: "proxy-upstream-failed",
    diagnosis: {
      summary: `The proxy ${tunnel.proxy} could not reach ${context.url.host} (HTTP ${tunnel.status ?? "?"})`,
      explanation: `The proxy answered CONNECT ${hostPort(context.url)} with HTTP ${tunnel.status ?? "?"}: it could not connect to the registry, or its rules forbid it.`,
      steps: [{ text: `Ask whoever runs the proxy to allow CONNECT to ${hostPort(context.url)}` }, curl, noProxy],
      retryable: tunnel.status !== undefined && tunnel.status >= 502 && tunnel.status <= 504,
    },
  };
}

function unreachable(detail: string, context: NetworkFailureContext): Diagnosis {
  return {
    summary: `${context.url.host} could not be reached`,
    explanation: `${context.what} failed before the server answered (${detail})${via(context)}. This says nothing about the credentials, so pullback did not retry anonymously.`,
    steps: [
      curlStep(context, "Check that the host resolves and accepts connections"),
      {
        text: `Check the proxy settings (HTTPS_PROXY, NO_PROXY): ${context.proxy === undefined ? `${context.url.host} is reached directly` : `${context.url.host} goes through ${redactProxy(context.proxy)}`}`,
      },
      { text: "Pull again once the network is back" },
    ],
    retryable: true,
  };
}
