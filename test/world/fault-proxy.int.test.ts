import { afterEach, describe, expect, it } from "vitest";
import { blobRequests, clearBlobRequests, clearFaults, clearProxyRequests, getWorld, proxyRequests, setFaults } from "./client.js";
import { fetchToken } from "./registry-client.js";

const world = getWorld();
const proxy = { host: world.faultProxy.host, url: world.faultProxy.url };
const layer = world.fixtures.publicApp.layers[0]!;
const blobPath = `/v2/public/app/blobs/${layer.digest}`;

async function bearer(user: "alice" | null): Promise<string> {
  const answer = await fetchToken(proxy, ["repository:public/app:pull"], user === null ? null : world.users.alice);
  return `Bearer ${String(answer.body.token)}`;
}

describe("fault proxy", () => {
  afterEach(async () => {
    await clearFaults(world);
    await clearProxyRequests(world);
    await clearBlobRequests(world);
  });

  it("passes requests through untouched when no rule matches", async () => {
    const res = await fetch(`${proxy.url}${blobPath}`, { headers: { authorization: await bearer(null) } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(layer.size);
    expect(await proxyRequests(world)).toContainEqual(
      expect.objectContaining({ method: "GET", path: blobPath, hasAuthorization: true, authenticated: false, status: 200, fault: null }),
    );
  });

  it("answers a programmed response only to authenticated requests, and only `times` times", async () => {
    await setFaults(world, [
      {
        match: { method: "GET", path: "/manifests/", authenticated: true },
        action: { type: "respond", status: 429, headers: { "retry-after": "1" }, body: "slow down" },
        times: 1,
      },
    ]);
    const manifest = `${proxy.url}/v2/public/app/manifests/1`;
    const accept = "application/vnd.oci.image.manifest.v1+json";
    expect((await fetch(manifest, { headers: { authorization: await bearer(null), accept } })).status).toBe(200);
    const faulted = await fetch(manifest, { headers: { authorization: await bearer("alice"), accept } });
    expect([faulted.status, faulted.headers.get("retry-after"), await faulted.text()]).toEqual([429, "1", "slow down"]);
    expect((await fetch(manifest, { headers: { authorization: await bearer("alice"), accept } })).status).toBe(200);
  });

  it("corrupts one byte, resets mid-body, and delays", async () => {
    const auth = { authorization: await bearer(null) };
    const clean = Buffer.from(await (await fetch(`${proxy.url}${blobPath}`, { headers: auth })).arrayBuffer());
    await setFaults(world, [{ match: { path: "/blobs/" }, action: { type: "corrupt", offset: 1000 }, times: 1 }]);
    const corrupt = Buffer.from(await (await fetch(`${proxy.url}${blobPath}`, { headers: auth })).arrayBuffer());
    expect(corrupt.length).toBe(clean.length);
    expect([...corrupt.keys()].filter((i) => corrupt[i] !== clean[i])).toEqual([1000]);
    await setFaults(world, [{ match: { path: "/blobs/" }, action: { type: "reset", afterBytes: 4096 }, times: 1 }]);
    const reset = await fetch(`${proxy.url}${blobPath}`, { headers: auth });
    await expect(reset.arrayBuffer()).rejects.toThrow();
    await setFaults(world, [{ match: { path: "/v2/$" }, action: { type: "delay", ms: 400 }, times: 1 }]);
    const started = Date.now();
    await fetch(`${proxy.url}/v2/`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it("redirects blobs to the blob server, which records whether Authorization arrived", async () => {
    await setFaults(world, [{ match: { path: "/blobs/sha256:" }, action: { type: "redirect", to: "other-host" } }]);
    const redirect = await fetch(`${proxy.url}${blobPath}`, { headers: { authorization: await bearer(null) }, redirect: "manual" });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("location")!;
    expect(location).toBe(`${world.blobServer.otherHostUrl}/blobs/${layer.digest}`);
    const blob = await fetch(location, { headers: { authorization: "Bearer leaked" } });
    expect((await blob.arrayBuffer()).byteLength).toBe(layer.size);
    expect(await blobRequests(world)).toEqual([
      expect.objectContaining({ path: `/blobs/${layer.digest}`, hasAuthorization: true, status: 200 }),
    ]);
  });

  it("rejects malformed rules", async () => {
    await expect(setFaults(world, [{ match: {}, action: { type: "explode" } } as never])).rejects.toThrow(/unknown fault action/);
  });
});
