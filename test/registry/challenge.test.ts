import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findChallenge, parseWwwAuthenticate } from "../../src/registry/challenge.js";

type Row = [title: string, input: string | string[], expected: { scheme: string; params?: Record<string, string>; token68?: string }[]];

const rows: Row[] = [
  [
    "Docker Hub bearer",
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    [
      {
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
      },
    ],
  ],
  [
    "gcr.io unquoted service",
    'Bearer realm="https://gcr.io/v2/token",service=gcr.io',
    [{ scheme: "bearer", params: { realm: "https://gcr.io/v2/token", service: "gcr.io" } }],
  ],
  [
    "unquoted realm with colons and slashes",
    "Bearer realm=https://a.example/token,service=a",
    [{ scheme: "bearer", params: { realm: "https://a.example/token", service: "a" } }],
  ],
  [
    "quay.io without scope",
    'Bearer realm="https://quay.io/v2/auth",service="quay.io"',
    [{ scheme: "bearer", params: { realm: "https://quay.io/v2/auth", service: "quay.io" } }],
  ],
  [
    "ECR Basic only",
    'Basic realm="https://123.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
    [{ scheme: "basic", params: { realm: "https://123.dkr.ecr.us-east-1.amazonaws.com/", service: "ecr.amazonaws.com" } }],
  ],
  ["bare Basic", "Basic", [{ scheme: "basic", params: {} }]],
  [
    "insufficient_scope",
    'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/a:pull",error="insufficient_scope"',
    [
      {
        scheme: "bearer",
        params: { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:o/a:pull", error: "insufficient_scope" },
      },
    ],
  ],
  [
    "comma inside a quoted value",
    'Bearer realm="https://r/t",scope="repository:a:pull,push"',
    [{ scheme: "bearer", params: { realm: "https://r/t", scope: "repository:a:pull,push" } }],
  ],
  [
    "escaped quote and backslash",
    'Bearer realm="a\\"b\\\\c",service="s"',
    [{ scheme: "bearer", params: { realm: 'a"b\\c', service: "s" } }],
  ],
  [
    "two challenges in one header",
    'Bearer realm="https://r/t",service="s", Basic realm="reg"',
    [
      { scheme: "bearer", params: { realm: "https://r/t", service: "s" } },
      { scheme: "basic", params: { realm: "reg" } },
    ],
  ],
  [
    "two challenges, second without params",
    'Basic realm="x", Negotiate',
    [
      { scheme: "basic", params: { realm: "x" } },
      { scheme: "negotiate", params: {} },
    ],
  ],
  [
    "two header lines",
    ['Basic realm="x"', 'Bearer realm="https://r/t"'],
    [
      { scheme: "basic", params: { realm: "x" } },
      { scheme: "bearer", params: { realm: "https://r/t" } },
    ],
  ],
  [
    "upper-case scheme and names",
    'BEARER Realm="https://r/t",SERVICE="S"',
    [{ scheme: "bearer", params: { realm: "https://r/t", service: "S" } }],
  ],
  [
    "spaces around = and commas",
    'Bearer realm = "https://r/t" ,  service = s',
    [{ scheme: "bearer", params: { realm: "https://r/t", service: "s" } }],
  ],
  ["token68", "Negotiate YWJjZA==", [{ scheme: "negotiate", params: {}, token68: "YWJjZA==" }]],
  [
    "token68 then another challenge",
    'Negotiate abc, Basic realm="r"',
    [
      { scheme: "negotiate", params: {}, token68: "abc" },
      { scheme: "basic", params: { realm: "r" } },
    ],
  ],
  ["empty header", "", []],
  ["only separators", " , ,, ", []],
  [
    "unterminated quote runs to the end",
    'Bearer realm="https://r/t,service=s',
    [{ scheme: "bearer", params: { realm: "https://r/t,service=s" } }],
  ],
  [
    "duplicate parameter: the first wins",
    'Bearer realm="https://good/t",realm="https://evil/t"',
    [{ scheme: "bearer", params: { realm: "https://good/t" } }],
  ],
  ["empty quoted value", 'Bearer realm="",service=""', [{ scheme: "bearer", params: { realm: "", service: "" } }]],
  [
    "prototype-looking names are plain parameters",
    'Bearer __proto__="x",constructor="y"',
    [{ scheme: "bearer", params: { ["__proto__"]: "x", constructor: "y" } }],
  ],
  ["garbage characters are skipped", '@@@ Bearer realm="https://r/t"', [{ scheme: "bearer", params: { realm: "https://r/t" } }]],
  ["trailing comma", 'Bearer realm="https://r/t",', [{ scheme: "bearer", params: { realm: "https://r/t" } }]],
];

describe("parseWwwAuthenticate", () => {
  it.each(rows)("%s", (_title, input, expected) => {
    const parsed = parseWwwAuthenticate(input);
    expect(
      parsed.map((c) => ({ scheme: c.scheme, params: { ...c.params }, ...(c.token68 === undefined ? {} : { token68: c.token68 }) })),
    ).toEqual(
      expected.map((c) => ({ scheme: c.scheme, params: c.params ?? {}, ...(c.token68 === undefined ? {} : { token68: c.token68 }) })),
    );
  });

  it("keeps a __proto__ parameter as an own property and leaves Object.prototype alone", () => {
    const [challenge] = parseWwwAuthenticate('Bearer __proto__="x"');
    expect(Object.hasOwn(challenge!.params, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("returns nothing for undefined", () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });

  it("never throws, whatever the input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.string())), (input) => {
        const parsed = parseWwwAuthenticate(input);
        expect(Array.isArray(parsed)).toBe(true);
      }),
    );
  });

  it("is linear on hostile input (no backtracking)", () => {
    const hostile = `Bearer ${'a="\\'.repeat(50_000)}${" ,".repeat(50_000)}${"x".repeat(100_000)}`;
    const started = performance.now();
    parseWwwAuthenticate(hostile);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("finds a challenge by scheme, case-insensitively", () => {
    const challenges = parseWwwAuthenticate('Basic realm="x", Bearer realm="https://r/t"');
    expect(findChallenge(challenges, "BEARER")?.params.realm).toBe("https://r/t");
    expect(findChallenge(challenges, "digest")).toBeUndefined();
  });
});
