/**
 * Property fuzzing of every parser that reads what a registry, a token service, a
 * daemon or a user hands us: it returns or throws a PullbackError, quickly.
 */
import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseReference } from "../../src/reference/parse-reference.js";
import { parseWwwAuthenticate } from "../../src/registry/challenge.js";
import type { HttpResponse } from "../../src/registry/http.js";
import { readTokenResponse } from "../../src/registry/token-auth.js";
import { PullStreamParser, streamErrorOf } from "../../src/targets/docker/pull-stream.js";
import { parseManifest } from "../../src/targets/oci/manifest.js";
import { MAX_MS_PER_INPUT, TIMEOUT_MS, fuzz, grammarString } from "./fuzz-harness.js";

const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`);

describe("parseReference", () => {
  it(
    "parses or refuses as a PullbackError, each input in under 50 ms",
    async () => {
      const parts = fc.array(grammarString("abcXYZ09._-/:@", 40), { maxLength: 6 }).map((p) => p.join(""));
      const structured = fc
        .tuple(
          fc.option(fc.domain()),
          fc.array(fc.stringMatching(/^[a-z0-9]+([._-][a-z0-9]+)*$/), { minLength: 1, maxLength: 4 }),
          fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/)),
          fc.option(digest),
        )
        .map(
          ([host, path, tag, d]) =>
            `${host === null ? "" : `${host}/`}${path.join("/")}${tag === null ? "" : `:${tag}`}${d === null ? "" : `@${d}`}`,
        );
      const long = fc.string({ unit: fc.constantFrom("a", "/", ".", "-", ":", "_"), minLength: 200, maxLength: 5000 });
      const stats = await fuzz(fc.oneof(parts, structured, long), (input) => parseReference(input));
      expect(stats.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    },
    TIMEOUT_MS,
  );
});

describe("parseWwwAuthenticate", () => {
  it(
    "never throws at all, and is fast on hostile headers",
    async () => {
      const header = grammarString('Bearer Basic realm="service=scope,error \\\t\'=,"x', 400);
      const many = fc.array(header, { maxLength: 5 });
      const stats = await fuzz(fc.oneof(header, many), (input) => {
        const challenges = parseWwwAuthenticate(input);
        // Parameters are plain data: no prototype to pollute.
        for (const challenge of challenges) expect(Object.getPrototypeOf(challenge.params)).toBeNull();
      });
      expect(stats.kinds).toEqual({});
      expect(stats.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    },
    TIMEOUT_MS,
  );
});

describe("the token response parser", () => {
  const response = (body: string): HttpResponse => ({
    status: 200,
    url: new URL("http://127.0.0.1/token"),
    body: Readable.from([Buffer.from(body)]),
    headerValues: () => [],
    header: () => undefined,
  });

  it(
    "finds a token or fails as registry",
    async () => {
      const bodies = fc.oneof(
        fc.json(),
        fc.string({ maxLength: 300 }),
        fc
          .record({ token: fc.anything(), access_token: fc.anything(), expires_in: fc.anything() }, { requiredKeys: [] })
          .map((o) => JSON.stringify(o) ?? "null"),
      );
      const stats = await fuzz(bodies, async (body) => {
        const { token, expiresIn } = await readTokenResponse(response(body), "token request to http://127.0.0.1/token");
        expect(typeof token === "string" && token !== "").toBe(true);
        expect(expiresIn === undefined || typeof expiresIn === "number").toBe(true);
      });
      expect(Object.keys(stats.kinds).every((kind) => kind === "registry")).toBe(true);
      expect(stats.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    },
    TIMEOUT_MS,
  );
});

describe("parseManifest", () => {
  const descriptorArb = fc.record(
    {
      mediaType: fc.oneof(fc.string(), fc.constant("application/vnd.oci.image.layer.v1.tar+gzip")),
      digest: fc.oneof(digest, fc.anything()),
      size: fc.oneof(fc.nat(), fc.anything()),
      platform: fc.anything(),
    },
    { requiredKeys: [] },
  );
  const manifestArb = fc.record(
    {
      schemaVersion: fc.constant(2),
      mediaType: fc.constantFrom(
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "",
        "text/html",
      ),
      config: descriptorArb,
      layers: fc.array(descriptorArb, { maxLength: 8 }),
      manifests: fc.array(descriptorArb, { maxLength: 8 }),
    },
    { requiredKeys: [] },
  );
  const nested = fc.nat({ max: 20_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);
  const bytes = fc.oneof(
    manifestArb.map((m) => JSON.stringify(m)),
    fc.json(),
    fc.string({ maxLength: 500 }),
    nested,
    fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b).toString("latin1")),
  );

  it(
    "parses or refuses as registry/limit, each input in under 50 ms",
    async () => {
      const stats = await fuzz(
        fc.tuple(bytes, fc.constantFrom("application/json", "application/vnd.oci.image.manifest.v1+json", "")),
        ([text, type]) => parseManifest(Buffer.from(text, "latin1"), type, "fuzz/x:1"),
      );
      expect(Object.keys(stats.kinds).every((kind) => kind === "registry" || kind === "limit")).toBe(true);
      expect(stats.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    },
    TIMEOUT_MS,
  );

  it("refuses 10,000-deep nesting as limit without parsing it", () => {
    expect(() => parseManifest(Buffer.from(`${"[".repeat(10_000)}${"]".repeat(10_000)}`), "application/json", "deep/x:1")).toThrow(
      expect.objectContaining({ kind: "limit" }),
    );
  });
});

describe("PullStreamParser", () => {
  it(
    "splits any chunking of any bytes into objects, never throwing",
    async () => {
      const line = fc.oneof(
        fc.json(),
        fc
          .record(
            { status: fc.string(), id: fc.string(), error: fc.anything(), errorDetail: fc.anything(), progressDetail: fc.anything() },
            { requiredKeys: [] },
          )
          .map((o) => JSON.stringify(o) ?? ""),
        grammarString('{}[]":,\\ab\r\n', 200),
      );
      const stream = fc.tuple(fc.array(line, { maxLength: 20 }), fc.array(fc.nat({ max: 300 }), { maxLength: 30 }));
      const stats = await fuzz(stream, ([lines, cuts]) => {
        const text = lines.join("\n");
        const parser = new PullStreamParser();
        const out = [];
        let at = 0;
        for (const cut of cuts) {
          out.push(...parser.push(text.slice(at, at + cut)));
          at += cut;
        }
        out.push(...parser.push(text.slice(at)), ...parser.end());
        for (const parsed of out) {
          expect(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)).toBe(true);
          streamErrorOf(parsed);
        }
      });
      expect(stats.kinds).toEqual({});
      expect(stats.maxMs).toBeLessThan(MAX_MS_PER_INPUT);
    },
    TIMEOUT_MS,
  );

  // Regression: each push used to rescan the whole pending line (1.4 s for this input); its speed is bench row 12's.
  it("reports a 2 MiB line without newline, arriving in 1 KiB chunks, as an error", () => {
    const parser = new PullStreamParser();
    const chunk = "x".repeat(1024);
    const lines = [];
    for (let i = 0; i < 2048; i++) lines.push(...parser.push(chunk));
    expect(lines.some((l) => streamErrorOf(l) !== undefined)).toBe(true);
  });
});
