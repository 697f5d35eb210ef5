/**
 * Regression: a manifest whose connection broke mid-body was read as the bytes that had
 * arrived, then refused as "not valid JSON" (`registry`, not retried as an outage). A
 * broken manifest body is a `network` failure; the client's retries get a whole one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/registry/registry-client.js";
import { startStub, type StubServer } from "../support/stub-server.js";

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"a".repeat(64)}`, size: 2 },
  layers: [],
});

let stub: StubServer;
let manifestGets = 0;
/** How many manifest GETs break off after half the body. */
let breakFirst = 0;
beforeAll(async () => {
  stub = await startStub((req, res) => {
    req.resume();
    if (req.url === "/v2/") return void res.writeHead(200).end("{}");
    manifestGets++;
    res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(MANIFEST.length) });
    if (manifestGets > breakFirst) return void res.end(MANIFEST);
    res.write(MANIFEST.slice(0, MANIFEST.length / 2), () => res.socket?.destroy());
  });
});
afterAll(() => stub.close());

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pullback-manifest-reset-"));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe("a manifest body that breaks off", () => {
  it("fails as network, never as a malformed manifest", async () => {
    manifestGets = 0;
    breakFirst = Infinity;
    const client = new RegistryClient(stub.host, { retries: 0 });
    try {
      await expect(client.getManifest("x/y", "1")).rejects.toMatchObject({ kind: "network" });
    } finally {
      await client.close();
    }
  });

  it("is retried, and the whole manifest is read the second time", async () => {
    manifestGets = 0;
    breakFirst = 1;
    const client = new RegistryClient(stub.host, { retries: 2, retryDelayMs: 1 });
    try {
      const manifest = await client.getManifest("x/y", "1");
      expect(manifest.bytes.toString("utf8")).toBe(MANIFEST);
      expect(manifestGets).toBe(2);
    } finally {
      await client.close();
    }
  });
});
