import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Credential } from "../../src/credentials/credential.js";
import { RegistryClient } from "../../src/registry/registry-client.js";
import type { Exchange } from "../../src/registry/http.js";
import { blobRequests, clearBlobRequests, clearFaults, clearProxyRequests, getWorld, proxyRequests, setFaults } from "../world/client.js";

const world = getWorld();
const alice = Credential.basic(world.users.alice.username, world.users.alice.password, { type: "explicit" });
const { privateApp } = world.fixtures;
const layer = privateApp.layers[0]!;

async function sha256(body: AsyncIterable<unknown>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of body) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

describe("RegistryClient against the real token registry (through the fault proxy)", () => {
  let client: RegistryClient;
  const exchanges: Exchange[] = [];
  beforeEach(async () => {
    await Promise.all([clearFaults(world), clearProxyRequests(world), clearBlobRequests(world)]);
    exchanges.length = 0;
    client = new RegistryClient(world.faultProxy.host, {
      credential: alice,
      retries: 2,
      retryDelayMs: 10,
      onExchange: (e) => exchanges.push(e),
    });
  });
  afterEach(async () => {
    await client.close();
    await clearFaults(world);
  });

  it("fetches a private manifest with the digest the registry holds", async () => {
    const manifest = await client.getManifest(privateApp.repository, privateApp.tag);
    expect(manifest.digest).toBe(privateApp.manifestDigest);
    expect(manifest.mediaType).toBe(privateApp.mediaType);
    expect(exchanges.every((e) => !e.url.includes(world.users.alice.password))).toBe(true);
  });

  it("follows a blob redirect to another host without the Authorization header", async () => {
    await setFaults(world, [{ match: { method: "GET", path: "/blobs/" }, action: { type: "redirect", to: "other-host" } }]);
    const blob = await client.getBlob(privateApp.repository, layer.digest);
    expect(await sha256(blob.body)).toBe(layer.digest);
    const proxied = (await proxyRequests(world)).filter((r) => r.path.includes("/blobs/"));
    expect(proxied.map((r) => [r.status, r.authenticated])).toEqual([[302, true]]);
    const served = await blobRequests(world);
    expect(served.map((r) => [new URL(`http://${r.host}`).hostname, r.hasAuthorization, r.status])).toEqual([["127.0.0.3", false, 200]]);
  });

  it("retries a manifest through two 503s", async () => {
    await setFaults(world, [{ match: { path: "/manifests/" }, action: { type: "respond", status: 503 }, times: 2 }]);
    const manifest = await client.getManifest(privateApp.repository, privateApp.tag);
    expect(manifest.digest).toBe(privateApp.manifestDigest);
    expect(exchanges.filter((e) => e.url.includes("/manifests/")).map((e) => e.status)).toEqual([503, 503, 200]);
  });

  it("resumes a blob from an offset with a honoured Range", async () => {
    const blob = await client.getBlob(privateApp.repository, layer.digest, { offset: 10 });
    expect(blob.rangeHonoured).toBe(true);
    expect(blob.contentLength).toBe(layer.size - 10);
    blob.body.destroy();
  });
});
