import { describe, expect, it } from "vitest";
import { decide, parseScope } from "./token-policy.js";
import { buildTar } from "./tar.js";

const accounts = { alice: { username: "alice", password: "a-pass" }, bob: { username: "bob", password: "b-pass" } };

describe("parseScope", () => {
  it("splits at the first and last colon, so names may hold host:port", () => {
    expect(parseScope("repository:127.0.0.1:5000/team/app:pull,push")).toEqual({
      type: "repository",
      name: "127.0.0.1:5000/team/app",
      actions: ["pull", "push"],
    });
    expect(parseScope("registry:catalog:*")).toEqual({ type: "registry", name: "catalog", actions: ["*"] });
    expect(parseScope("nonsense")).toBeNull();
  });
});

describe("decide", () => {
  const scopes = (name: string, actions = "pull"): string[] => [`repository:${name}:${actions}`];

  it("gives anonymous pull on public only, never push", () => {
    expect(decide({ mode: "standard", accounts, credentials: null, scopes: scopes("public/app", "pull,push") })).toEqual({
      outcome: "granted",
      user: null,
      access: [{ type: "repository", name: "public/app", actions: ["pull"] }],
    });
    expect(decide({ mode: "standard", accounts, credentials: null, scopes: scopes("private/app") })).toMatchObject({
      outcome: "empty",
      access: [],
    });
  });

  it("denies bob, or grants him nothing in empty-access mode; a login check passes", () => {
    const bob = { username: "bob", password: "b-pass" };
    expect(decide({ mode: "standard", accounts, credentials: bob, scopes: scopes("public/app") }).outcome).toBe("denied");
    expect(decide({ mode: "empty-access", accounts, credentials: bob, scopes: scopes("public/app") }).outcome).toBe("empty");
    expect(decide({ mode: "standard", accounts, credentials: bob, scopes: [] }).outcome).toBe("granted");
  });

  it("refuses a wrong password or an unknown user, and trusts a refresh-token identity", () => {
    expect(decide({ mode: "standard", accounts, credentials: { username: "alice", password: "b-pass" }, scopes: [] }).outcome).toBe(
      "unauthorized",
    );
    expect(decide({ mode: "standard", accounts, credentials: { username: "eve", password: "x" }, scopes: [] }).outcome).toBe(
      "unauthorized",
    );
    expect(
      decide({ mode: "standard", accounts, credentials: { username: "alice", trusted: true }, scopes: scopes("private/app", "pull,push") }),
    ).toMatchObject({
      outcome: "granted",
      access: [{ name: "private/app", actions: ["pull", "push"] }],
    });
  });
});

describe("buildTar", () => {
  it("is byte-for-byte reproducible and ustar-valid", () => {
    const entries = [
      { kind: "dir", path: "etc" },
      { kind: "text", path: "etc/id", text: "x\n" },
      { kind: "random", path: "r.bin", size: 700, seed: "s" },
    ] as const;
    const a = buildTar(entries);
    expect(a.equals(buildTar(entries))).toBe(true);
    expect(a.length % 512).toBe(0);
    expect(a.subarray(257, 262).toString()).toBe("ustar");
    expect(a.subarray(0, 4).toString()).toBe("etc/");
  });
});
