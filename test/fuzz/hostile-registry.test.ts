/**
 * Hostile registries, served in-process on 127.0.0.1: a huge manifest (50 MiB, a stand-in
 * for 2 GiB), an endless chunked body, JSON nested 10,000 deep, 100,000 layers, an endless
 * token answer. Each is refused with a `limit` error (or an `unreachable` verdict) quickly
 * and without holding the body in memory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCredentials } from "../../src/registry/verify-credentials.js";
import { Credential } from "../../src/credentials/credential.js";
import { PullError } from "../../src/fallback/pull-outcome.js";
import { parseDestination, pullImage } from "../../src/targets/oci/pull-image.js";
import { startStub, type StubServer } from "../support/stub-server.js";

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, "[");
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** Writes `total` bytes (Infinity: until the client leaves) from one reused chunk, minding backpressure. */
async function stream(res: ServerResponse, total: number): Promise<void> {
  let sent = 0;
  let open = true;
  res.on("close", () => (open = false));
  while (open && sent < total) {
    const piece = total - sent < CHUNK.length ? CHUNK.subarray(0, total - sent) : CHUNK;
    sent += piece.length;
    if (!res.write(piece)) await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
  }
  if (open) res.end();
}

const hundredThousandLayers = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"a".repeat(64)}`, size: 2 },
  layers: Array.from({ length: 100_000 }, () => ({})),
});

let stub: StubServer;
beforeAll(async () => {
  stub = await startStub((req, res) => {
    req.resume();
    const path = req.url ?? "";
    if (path === "/v2/" || path === "/v2") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    if (path.startsWith("/token")) return void stream(res.writeHead(200, { "content-type": "application/json" }), Infinity);
    const kind = /^\/v2\/hostile\/([a-z-]+)\/manifests\//.exec(path)?.[1];
    if (kind === "huge")
      return void stream(res.writeHead(200, { "content-type": OCI_MANIFEST, "content-length": String(50 * MiB) }), 50 * MiB);
    if (kind === "huge-chunked") return void stream(res.writeHead(200, { "content-type": OCI_MANIFEST }), 50 * MiB);
    if (kind === "endless") return void stream(res.writeHead(200, { "content-type": OCI_MANIFEST }), Infinity);
    if (kind === "deep") return void res.writeHead(200, { "content-type": OCI_MANIFEST }).end(`${"[".repeat(10_000)}${"]".repeat(10_000)}`);
    if (kind === "layers") return void res.writeHead(200, { "content-type": OCI_MANIFEST }).end(hundredThousandLayers);
    res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  });
});
afterAll(() => stub.close());

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pullback-hostile-"));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Runs `work`, returning its rejection, how long it took and how much the RSS grew. */
async function measured(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number; rssDelta: number }> {
  const rss = process.memoryUsage().rss;
  const started = Date.now();
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started, rssDelta: process.memoryUsage().rss - rss };
}

describe("a hostile registry's manifest", () => {
  it.each([
    ["huge", "50 MiB with Content-Length"],
    ["huge-chunked", "50 MiB chunked"],
    ["endless", "an endless chunked body"],
    ["deep", "JSON nested 10,000 deep"],
    ["layers", "100,000 layers"],
  ])(
    "%s (%s): limit, bounded time and memory",
    async (kind) => {
      const { error, ms, rssDelta } = await measured(() =>
        pullImage(`${stub.host}/hostile/${kind}:1`, { to: parseDestination(`oci:${join(scratch, kind)}:x`) }),
      );
      expect(error).toBeInstanceOf(PullError);
      const pullError = error as PullError;
      expect(pullError.cause).toMatchObject({ kind: "limit" });
      expect(pullError.attempts).toHaveLength(1);
      expect(ms).toBeLessThan(10_000);
      expect(rssDelta).toBeLessThan(100 * MiB);
    },
    20_000,
  );
});

describe("a hostile token service", () => {
  it("an endless token answer: verification is unreachable, bounded", async () => {
    const realm = await startStub((req, res) => {
      req.resume();
      if ((req.url ?? "").startsWith("/token")) return void stream(res.writeHead(200, { "content-type": "application/json" }), Infinity);
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://${realmHost}/token",service="hostile"` }).end();
    });
    const realmHost = realm.host;
    try {
      const credential = Credential.basic("fuzz", "fuzz-password", { type: "explicit", label: "fuzz credentials" });
      let verdict: string | undefined;
      const { ms, rssDelta } = await measured(async () => {
        verdict = (await verifyCredentials(`${realm.host}/hostile/x:1`, credential)).verdict;
      });
      expect(verdict).toBe("unreachable");
      expect(ms).toBeLessThan(10_000);
      expect(rssDelta).toBeLessThan(100 * MiB);
    } finally {
      await realm.close();
    }
  }, 20_000);
});
