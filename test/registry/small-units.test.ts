import { describe, expect, it } from "vitest";
import { hostnameOf, isLoopbackHost } from "../../src/registry/loopback.js";
import { parseRetryAfter } from "../../src/registry/retry-after.js";
import { mergeScopes, parseScope, repositoryScope } from "../../src/registry/scope.js";
import { EXPIRY_MARGIN_MS, TokenCache } from "../../src/registry/token-cache.js";
import { kindForResponse, parseErrorBody } from "../../src/registry/registry-error.js";

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.0.0.1:5000", true],
    ["127.255.3.4:80", true],
    ["localhost", true],
    ["LOCALHOST:5000", true],
    ["registry.localhost:5000", true],
    ["[::1]:5000", true],
    ["::1", true],
    ["128.0.0.1", false],
    ["127.example.com", false],
    ["10.0.0.1:5000", false],
    ["ghcr.io", false],
    ["[::2]:5000", false],
    ["localhost.example.com", false],
  ])("%s → %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it("strips ports and brackets", () => {
    expect(hostnameOf("[::1]:5000")).toBe("::1");
    expect(hostnameOf("Example.com:443")).toBe("example.com");
    expect(hostnameOf("fe80::1")).toBe("fe80::1");
  });
});

describe("scopes", () => {
  it("names the repository path only, never the host:port of the registry", () => {
    expect(repositoryScope("team/app")).toBe("repository:team/app:pull");
    expect(repositoryScope("team/app", ["pull", "push", "pull"])).toBe("repository:team/app:pull,push");
  });

  it("parses names that contain host:port colons", () => {
    expect(parseScope("repository:localhost:5000/app:pull,push")).toEqual({
      type: "repository",
      name: "localhost:5000/app",
      actions: ["pull", "push"],
    });
    expect(parseScope("registry:catalog:*")).toEqual({ type: "registry", name: "catalog", actions: ["*"] });
    expect(parseScope("nonsense")).toBeUndefined();
  });

  it("merges actions per resource and orders stably", () => {
    expect(mergeScopes(["repository:b:pull", "repository:a:push", "repository:a:pull", "repository:127.0.0.1:5000/c:pull"])).toEqual([
      "repository:127.0.0.1:5000/c:pull",
      "repository:a:pull,push",
      "repository:b:pull",
    ]);
    expect(mergeScopes(["repository:a:pull", "repository:a:pull"])).toEqual(["repository:a:pull"]);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:27:00 GMT");
  it.each([
    ["0", 0],
    ["120", 120_000],
    [" 3 ", 3_000],
    ["Wed, 21 Oct 2015 07:28:00 GMT", 60_000],
    ["Wed, 21 Oct 2015 07:00:00 GMT", 0],
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    ["", undefined],
  ])("%j → %s", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it("takes the first of several header values and tolerates absence", () => {
    expect(parseRetryAfter(["7", "9"], now)).toBe(7_000);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("TokenCache", () => {
  const key = { realm: "https://auth/t", service: "reg", scopes: ["repository:a:pull"], identity: "anonymous" };

  it("keeps a token until a few seconds before it expires", () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    cache.set(key, "t1", 300);
    now += 300_000 - EXPIRY_MARGIN_MS - 1;
    expect(cache.get(key)).toBe("t1");
    now += 1;
    expect(cache.get(key)).toBeUndefined();
  });

  it("treats a missing or short expires_in as 60 s", () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set(key, "short", 5);
    cache.set({ ...key, identity: "x" }, "none", undefined);
    now = 50_000;
    expect(cache.get(key)).toBe("short");
    expect(cache.get({ ...key, identity: "x" })).toBe("none");
    now = 60_000;
    expect(cache.get(key)).toBeUndefined();
  });

  it("separates identities, services and scope sets, but not scope order", () => {
    const cache = new TokenCache(() => 0);
    cache.set({ ...key, scopes: ["repository:a:pull", "repository:b:pull"] }, "ab", 300);
    expect(cache.get({ ...key, scopes: ["repository:b:pull", "repository:a:pull"] })).toBe("ab");
    expect(cache.get({ ...key, scopes: ["repository:a:pull"] })).toBeUndefined();
    expect(cache.get({ ...key, scopes: ["repository:a:pull", "repository:b:pull"], identity: "basic:bob:1" })).toBeUndefined();
    expect(cache.get({ ...key, scopes: ["repository:a:pull", "repository:b:pull"], service: "other" })).toBeUndefined();
    cache.delete({ ...key, scopes: ["repository:b:pull", "repository:a:pull"] });
    expect(cache.get({ ...key, scopes: ["repository:a:pull", "repository:b:pull"] })).toBeUndefined();
  });
});

describe("error bodies", () => {
  it.each([
    [
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
      ["DENIED"],
      "requested access to the resource is denied",
    ],
    ['{"details":"incorrect username or password"}', [], "incorrect username or password"],
    ['{"error":"invalid_grant","error_description":"refresh token expired"}', [], "refresh token expired"],
    ["<html><body><h1>502 Bad Gateway</h1></body></html>", [], "502 Bad Gateway"],
    ["null", [], ""],
    ['{"errors":"not-an-array"}', [], ""],
    ['{"errors":[{"code":"name_unknown"},{"code":"X","message":"m"}]}', ["NAME_UNKNOWN", "X"], "m"],
  ])("%s", (body, codes, message) => {
    expect(parseErrorBody(body)).toEqual({ codes, message });
  });

  it("decides the kind on the status and codes", () => {
    expect(kindForResponse(401, [])).toBe("auth");
    expect(kindForResponse(403, ["DENIED"])).toBe("auth");
    expect(kindForResponse(404, ["MANIFEST_UNKNOWN"])).toBe("not-found");
    expect(kindForResponse(429, [])).toBe("rate-limited");
    expect(kindForResponse(403, ["TOOMANYREQUESTS"])).toBe("rate-limited");
    expect(kindForResponse(502, [])).toBe("registry");
  });
});
