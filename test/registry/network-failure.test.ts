/**
 * The exact words of every TLS and proxy diagnosis: each names the host, the
 * real problem and the fix, and none says "try again later" when retrying cannot help.
 */
import { describe, expect, it } from "vitest";
import { networkFailure, type NetworkFailureContext } from "../../src/registry/network-failure.js";
import { ProxyTunnelError } from "../../src/registry/proxy-tunnel-error.js";
import type { HostTrust } from "../../src/registry/trust.js";

const trust: HostTrust = {
  ca: undefined,
  cert: undefined,
  key: undefined,
  rejectUnauthorized: true,
  searched: ["/etc/containers/certs.d/registry.corp:5443", "/etc/docker/certs.d/registry.corp:5443"],
  files: [],
};
const url = new URL("https://registry.corp:5443/v2/");
const direct: NetworkFailureContext = { what: "GET https://registry.corp:5443/v2/", url, proxy: undefined, trust };
const proxy = new URL("http://ci:s3cret-proxy-pw@proxy.corp:3128");
const proxied: NetworkFailureContext = { ...direct, proxy };
const coded = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe("networkFailure: reason and exact diagnosis per failure", () => {
  const rows: [string, unknown, NetworkFailureContext, string, string, string, string[], boolean][] = [
    [
      "unknown CA",
      coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
      direct,
      "tls-unknown-ca",
      "The certificate of registry.corp:5443 is not signed by a CA pullback trusts",
      "registry.corp:5443 presented a certificate from an unknown or private CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate). pullback trusts the system CAs, NODE_EXTRA_CA_CERTS and the *.crt files in /etc/containers/certs.d/registry.corp:5443, /etc/docker/certs.d/registry.corp:5443; it found no extra CA for this host.",
      [
        "See the certificate chain the server presents: openssl s_client -showcerts -connect registry.corp:5443 -servername registry.corp </dev/null",
        "Trust the CA for this host as docker and skopeo do: sudo mkdir -p /etc/docker/certs.d/registry.corp:5443 && sudo cp ca.crt /etc/docker/certs.d/registry.corp:5443/ca.crt",
        "Or give pullback a directory holding the CA as ca.crt (skopeo's --cert-dir layout): pullback check registry.corp:5443 --cert-dir ./certs",
        "Or trust the CA for every Node.js program: export NODE_EXTRA_CA_CERTS=/path/to/ca.crt",
      ],
      false,
    ],
    [
      "another name",
      coded(
        "ERR_TLS_CERT_ALTNAME_INVALID",
        "Hostname/IP does not match certificate's altnames: Host: registry.corp. is not in the cert's altnames: DNS:other.corp",
      ),
      direct,
      "tls-hostname-mismatch",
      "The certificate of registry.corp:5443 is for another name",
      "registry.corp is not among the names the certificate was issued for (ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames: Host: registry.corp. is not in the cert's altnames: DNS:other.corp). A certificate for another name proves nothing about this host, so no CA setting fixes this.",
      [
        "See which names the certificate covers (subject and subjectAltName): openssl s_client -showcerts -connect registry.corp:5443 -servername registry.corp </dev/null",
        "Use the registry by a name its certificate covers, or have the certificate reissued with this name in its subjectAltName",
      ],
      false,
    ],
    [
      "expired",
      coded("CERT_HAS_EXPIRED", "certificate has expired"),
      direct,
      "tls-expired",
      "The certificate of registry.corp:5443 is expired or not yet valid",
      "The certificate registry.corp:5443 presented is outside its validity dates (CERT_HAS_EXPIRED: certificate has expired). Retrying cannot help until it is renewed.",
      [
        "See the certificate's dates: openssl s_client -connect registry.corp:5443 -servername registry.corp </dev/null 2>/dev/null | openssl x509 -noout -dates",
        "Check this machine's clock: date -u",
        "Ask the registry's operator to renew the certificate",
      ],
      false,
    ],
    [
      "client certificate demanded",
      coded("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required"),
      direct,
      "tls-client-cert-required",
      "registry.corp:5443 requires a client certificate, and pullback found none",
      "The server demands mutual TLS (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required). pullback offers client.cert + client.key (or NAME.cert + NAME.key) from /etc/containers/certs.d/registry.corp:5443, /etc/docker/certs.d/registry.corp:5443, and found none.",
      [
        "Put the client certificate and key where docker and skopeo look for them: sudo cp client.cert client.key /etc/docker/certs.d/registry.corp:5443/",
        "Or give pullback a directory holding ca.crt, client.cert and client.key: pullback check registry.corp:5443 --cert-dir ./certs",
        "Check that the server accepts the certificate: add -cert client.cert -key client.key: openssl s_client -showcerts -connect registry.corp:5443 -servername registry.corp </dev/null",
      ],
      false,
    ],
    [
      "plain HTTP on the TLS port",
      coded("EPROTO", "write EPROTO 40E7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number"),
      direct,
      "tls-plain-http",
      "registry.corp:5443 answered in plain HTTP where TLS was expected",
      "pullback spoke TLS to registry.corp:5443, and the server there does not speak it (write EPROTO 40E7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number). Registries on loopback addresses are spoken to over plain HTTP; any other host only when allowed with --insecure, and credentials never cross plain HTTP.",
      [
        "Check what the port speaks: curl -sSI http://registry.corp:5443/v2/",
        "If the registry really serves plain HTTP on a trusted network, allow it explicitly: pullback check registry.corp:5443 --insecure",
        "Better: serve the registry over TLS",
      ],
      false,
    ],
    [
      "dead proxy",
      new ProxyTunnelError("unreachable", "cannot connect to the proxy http://***@proxy.corp:3128: connect ECONNREFUSED 10.0.0.1:3128", {
        proxy,
        cause: coded("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:3128"),
      }),
      proxied,
      "proxy-unreachable",
      "The proxy http://***@proxy.corp:3128 could not be reached",
      "Requests to registry.corp:5443 go through the proxy http://***@proxy.corp:3128 (from HTTPS_PROXY), and connecting to it failed (cannot connect to the proxy http://***@proxy.corp:3128: connect ECONNREFUSED 10.0.0.1:3128). pullback neither went direct nor retried anonymously.",
      [
        "Check that the proxy runs and that HTTPS_PROXY names its host and port",
        "Try the same request through the proxy with curl: curl -sSI --proxy http://***@proxy.corp:3128 https://registry.corp:5443/v2/",
        "If registry.corp should be reached directly, add it to NO_PROXY: export NO_PROXY=registry.corp",
      ],
      false,
    ],
    [
      "proxy wants authentication",
      new ProxyTunnelError(
        "auth",
        "the proxy http://***@proxy.corp:3128 answered CONNECT registry.corp:5443 with HTTP 407 (proxy authentication required)",
        { proxy, status: 407 },
      ),
      proxied,
      "proxy-auth-required",
      "The proxy http://***@proxy.corp:3128 refused the request: proxy authentication required (HTTP 407)",
      "The proxy refused the user and password in the proxy URL (HTTPS_PROXY). This says nothing about the registry credentials, so pullback did not retry anonymously.",
      [
        "Put the proxy's user and password in HTTPS_PROXY: export HTTPS_PROXY=http://USER:PASSWORD@proxy.corp:3128",
        "Try the same request through the proxy with curl: curl -sSI --proxy http://***@proxy.corp:3128 https://registry.corp:5443/v2/",
      ],
      false,
    ],
    [
      "proxy cannot reach the registry",
      new ProxyTunnelError(
        "upstream",
        "the proxy http://***@proxy.corp:3128 answered CONNECT registry.corp:5443 with HTTP 403 (the proxy could not or would not connect)",
        { proxy, status: 403 },
      ),
      proxied,
      "proxy-upstream-failed",
      "The proxy http://***@proxy.corp:3128 could not reach registry.corp:5443 (HTTP 403)",
      "The proxy answered CONNECT registry.corp:5443 with HTTP 403: it could not connect to the registry, or its rules forbid it.",
      [
        "Ask whoever runs the proxy to allow CONNECT to registry.corp:5443",
        "Try the same request through the proxy with curl: curl -sSI --proxy http://***@proxy.corp:3128 https://registry.corp:5443/v2/",
        "If registry.corp should be reached directly, add it to NO_PROXY: export NO_PROXY=registry.corp",
      ],
      false,
    ],
    [
      "refused connection, direct",
      coded("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.2:5443"),
      direct,
      "unreachable",
      "registry.corp:5443 could not be reached",
      "GET https://registry.corp:5443/v2/ failed before the server answered (connect ECONNREFUSED 10.0.0.2:5443). This says nothing about the credentials, so pullback did not retry anonymously.",
      [
        "Check that the host resolves and accepts connections: curl -sSI https://registry.corp:5443/v2/",
        "Check the proxy settings (HTTPS_PROXY, NO_PROXY): registry.corp:5443 is reached directly",
        "Pull again once the network is back",
      ],
      true,
    ],
  ];

  it.each(rows)("%s", (_name, error, context, reason, summary, explanation, steps, retryable) => {
    const failure = networkFailure(error, context);
    expect(failure.kind).toBe("network");
    expect(failure.reason).toBe(reason);
    expect(failure.cause).toBe(error);
    expect(failure.diagnosis?.summary).toBe(summary);
    expect(failure.diagnosis?.explanation).toBe(explanation);
    expect(failure.diagnosis?.steps.map((s) => (s.command === undefined ? s.text : `${s.text}: ${s.command}`))).toEqual(steps);
    expect(failure.diagnosis?.retryable).toBe(retryable);
    const all = JSON.stringify({ message: failure.message, diagnosis: failure.diagnosis });
    expect(all).not.toContain("s3cret-proxy-pw");
    if (!retryable) expect(all).not.toMatch(/again later/i);
  });

  it("names the endpoint actually contacted (registry-1.docker.io for docker.io) and carries the trust used in curl", () => {
    const hub = new URL("https://registry-1.docker.io/v2/");
    const failure = networkFailure(coded("ETIMEDOUT", "connect ETIMEDOUT"), {
      what: "GET https://registry-1.docker.io/v2/",
      url: hub,
      proxy: new URL("http://proxy.corp:3128"),
      trust: { ...trust, searched: [], files: ["/etc/docker/certs.d/docker.io/ca.crt"] },
    });
    expect(failure.diagnosis?.steps[0]?.command).toBe(
      "curl -sSI --cacert /etc/docker/certs.d/docker.io/ca.crt --proxy http://proxy.corp:3128 https://registry-1.docker.io/v2/",
    );
  });
});
