import { describe, expect, it } from "vitest";
import { proxyAuthorization, proxyConfigFromEnv, proxyFor, redactProxy } from "../../src/registry/proxy.js";

const route = (url: string, env: Record<string, string>): string | undefined => proxyFor(new URL(url), proxyConfigFromEnv(env))?.href;

describe("proxyConfigFromEnv: Go's ProxyFromEnvironment", () => {
  it("lets the upper-case variable win over the lower-case one", () => {
    expect(route("https://ghcr.io/v2/", { HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:2" })).toBe("http://upper:1/");
    expect(route("https://ghcr.io/v2/", { https_proxy: "http://lower:2" })).toBe("http://lower:2/");
    expect(route("https://ghcr.io/v2/", { HTTPS_PROXY: "", https_proxy: "http://lower:2" })).toBe("http://lower:2/");
  });

  it("reads a proxy without a scheme as http://", () => {
    expect(route("https://ghcr.io/v2/", { HTTPS_PROXY: "proxy.corp:3128" })).toBe("http://proxy.corp:3128/");
  });

  it("uses HTTPS_PROXY for https and HTTP_PROXY for http, never the other", () => {
    expect(route("https://ghcr.io/v2/", { HTTP_PROXY: "http://p:1" })).toBeUndefined();
    expect(route("http://registry.corp:5000/v2/", { HTTPS_PROXY: "http://p:1" })).toBeUndefined();
    expect(route("http://registry.corp:5000/v2/", { HTTP_PROXY: "http://p:1" })).toBe("http://p:1/");
  });

  it("ignores HTTP_PROXY in a CGI environment (REQUEST_METHOD set), as Go does", () => {
    expect(route("http://registry.corp/v2/", { HTTP_PROXY: "http://p:1", REQUEST_METHOD: "GET" })).toBeUndefined();
  });

  it("never proxies localhost or loopback IPs", () => {
    const env = { HTTPS_PROXY: "http://p:1", HTTP_PROXY: "http://p:1" };
    for (const url of ["https://localhost/v2/", "http://127.0.0.1:5000/v2/", "https://127.9.9.9/v2/", "https://[::1]:5000/v2/"]) {
      expect(route(url, env), url).toBeUndefined();
    }
    // Only the exact name "localhost" is special to Go.
    expect(route("https://foo.localhost/v2/", env)).toBe("http://p:1/");
  });

  const noProxy: [string, string, boolean][] = [
    // [NO_PROXY, URL, goes direct?]
    ["example.com", "https://example.com/v2/", true],
    ["example.com", "https://registry.example.com/v2/", true],
    ["example.com", "https://notexample.com/v2/", false],
    [".example.com", "https://example.com/v2/", false],
    [".example.com", "https://registry.example.com/v2/", true],
    ["*.example.com", "https://registry.example.com/v2/", true],
    ["*.example.com", "https://example.com/v2/", false],
    ["example.com:5000", "https://example.com:5000/v2/", true],
    ["example.com:5000", "https://example.com/v2/", false],
    ["example.com:443", "https://example.com/v2/", true],
    ["10.1.2.3", "https://10.1.2.3:5000/v2/", true],
    ["10.1.2.3:5000", "https://10.1.2.3:5001/v2/", false],
    ["10.0.0.0/8", "https://10.200.1.1/v2/", true],
    ["10.0.0.0/8", "https://11.0.0.1/v2/", false],
    ["10.0.0.0/8", "https://ten.example/v2/", false],
    ["fd00::/8", "https://[fd12::1]/v2/", true],
    ["*", "https://ghcr.io/v2/", true],
    [" ghcr.io , quay.io ", "https://quay.io/v2/", true],
    ["GHCR.IO", "https://ghcr.io/v2/", true],
    ["", "https://ghcr.io/v2/", false],
  ];
  it.each(noProxy)("NO_PROXY=%j, %s: direct=%s", (entries, url, direct) => {
    const proxied = route(url, { HTTPS_PROXY: "http://p:1", NO_PROXY: entries });
    expect(proxied === undefined).toBe(direct);
  });

  it("reads no_proxy when NO_PROXY is unset", () => {
    expect(route("https://ghcr.io/v2/", { HTTPS_PROXY: "http://p:1", no_proxy: "ghcr.io" })).toBeUndefined();
  });
});

describe("proxy credentials", () => {
  it("builds Proxy-Authorization from the URL and never shows the password", () => {
    const proxy = new URL("http://ci%40corp:p%3Ass@proxy.corp:3128");
    expect(proxyAuthorization(proxy)).toBe(`Basic ${Buffer.from("ci@corp:p:ss").toString("base64")}`);
    expect(redactProxy(proxy)).toBe("http://***@proxy.corp:3128");
    expect(proxyAuthorization(new URL("http://proxy.corp:3128"))).toBeUndefined();
  });
});
