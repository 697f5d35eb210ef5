import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { Credential } from "../../src/credentials/credential.js";
import { RegistryClient } from "../../src/registry/registry-client.js";
import { startServer, type LocalServer } from "./local-server.js";

const servers: LocalServer[] = [];
const clients: RegistryClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const alice = Credential.basic("alice", "alice-secret", { type: "explicit" });
const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const manifestDigest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;

interface TokenServiceOptions {
  /** How the token service answers an identity-token POST. */
  readonly postStatus?: number;
  readonly field?: "token" | "access_token";
  readonly expiresIn?: number;
}

/** A token service on 127.0.0.2 and a registry on 127.0.0.1 that accepts only its token. */
async function bearerWorld(options: TokenServiceOptions = {}): Promise<{ registry: LocalServer; tokens: LocalServer }> {
  const tokens = await startServer((req, res) => {
    if (req.method === "POST" && options.postStatus !== undefined) return void res.writeHead(options.postStatus).end();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ [options.field ?? "token"]: "good-token", expires_in: options.expiresIn ?? 300 }));
  }, "127.0.0.2");
  servers.push(tokens);
  const registry = await startServer((req, res) =>
    serveRegistry(req, res, `Bearer realm="${tokens.url}/token",service="test-registry"`, "Bearer good-token"),
  );
  servers.push(registry);
  return { registry, tokens };
}

function serveRegistry(req: IncomingMessage, res: ServerResponse, challenge: string, accepted: string): void {
  if (req.headers.authorization !== accepted) return void res.writeHead(401, { "www-authenticate": challenge }).end();
  if (req.url === "/v2/") return void res.end("{}");
  if (req.url?.includes("/manifests/")) {
    res.writeHead(200, {
      "content-type": "application/vnd.oci.image.manifest.v1+json",
      "docker-content-digest": manifestDigest,
      "content-length": manifest.length,
    });
    return void res.end(req.method === "HEAD" ? undefined : manifest);
  }
  res.writeHead(404).end('{"errors":[{"code":"NOT_FOUND","message":"nope"}]}');
}

function client(host: string, credential?: Credential): RegistryClient {
  const made = new RegistryClient(host, { credential, retries: 0 });
  clients.push(made);
  return made;
}

describe("RegistryClient with a bearer registry", () => {
  it("follows the challenge to a realm on another host, with Basic, service and repeated scopes, and caches the token", async () => {
    const { registry, tokens } = await bearerWorld();
    const c = client(registry.host, alice);
    const got = await c.getManifest("team/app", "1");
    expect(got).toEqual({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifestDigest, bytes: manifest });
    expect(await c.headManifest("team/app", "1")).toEqual({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: manifestDigest,
      size: manifest.length,
    });
    await c.requestToken(["repository:team/app:pull", "repository:other/app:pull"]);
    expect(tokens.requests).toHaveLength(2); // the HEAD reused the cached token
    const first = new URL(tokens.requests[0]!.url, tokens.url);
    expect(first.pathname).toBe("/token");
    expect(first.searchParams.get("service")).toBe("test-registry");
    expect(first.searchParams.getAll("scope")).toEqual(["repository:team/app:pull"]);
    expect(tokens.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from("alice:alice-secret").toString("base64")}`);
    expect(new URL(tokens.requests[1]!.url, tokens.url).searchParams.getAll("scope")).toEqual([
      "repository:other/app:pull",
      "repository:team/app:pull",
    ]);
    expect(c.auth).toEqual({ scheme: "bearer", realm: `${tokens.url}/token`, service: "test-registry", realmOnOtherHost: true });
  });

  it("accepts access_token, and asks anonymously without an Authorization header", async () => {
    const { registry, tokens } = await bearerWorld({ field: "access_token" });
    await client(registry.host).headManifest("team/app", "1");
    expect(tokens.requests[0]!.headers.authorization).toBeUndefined();
    expect(new URL(tokens.requests[0]!.url, tokens.url).searchParams.has("account")).toBe(false);
  });

  it("exchanges an identity token by OAuth2 POST", async () => {
    const { registry, tokens } = await bearerWorld();
    const identity = Credential.identityToken("refresh-me", { type: "explicit" });
    await client(registry.host, identity).headManifest("team/app", "1");
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]!.method).toBe("POST");
    const form = new URLSearchParams(tokens.requests[0]!.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "refresh_token",
      refresh_token: "refresh-me",
      client_id: "pullback",
      service: "test-registry",
      scope: "repository:team/app:pull",
    });
  });

  it.each([404, 405])("falls back to GET with Basic when the OAuth2 POST answers %i", async (status) => {
    const { registry, tokens } = await bearerWorld({ postStatus: status });
    const identity = Credential.identityToken("refresh-me", { type: "explicit" });
    await client(registry.host, identity).headManifest("team/app", "1");
    expect(tokens.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
    expect(tokens.requests[1]!.headers.authorization).toBe(`Basic ${Buffer.from("<token>:refresh-me").toString("base64")}`);
  });

  it("refuses to follow a realm that is not http(s)", async () => {
    const registry = await startServer((_req, res) =>
      res.writeHead(401, { "www-authenticate": 'Bearer realm="file:///etc/passwd"' }).end(),
    );
    servers.push(registry);
    await expect(client(registry.host, alice).ping()).rejects.toMatchObject({ kind: "registry" });
  });
});

describe("RegistryClient with a Basic registry", () => {
  it("sends Basic on each request", async () => {
    const registry = await startServer((req, res) =>
      serveRegistry(req, res, 'Basic realm="reg"', `Basic ${Buffer.from("alice:alice-secret").toString("base64")}`),
    );
    servers.push(registry);
    const c = client(registry.host, alice);
    await c.headManifest("team/app", "1");
    await c.getManifest("team/app", manifestDigest);
    expect(registry.requests.map((r) => [r.method, r.url, r.headers.authorization !== undefined])).toEqual([
      ["GET", "/v2/", false],
      ["HEAD", "/v2/team/app/manifests/1", true],
      ["GET", `/v2/team/app/manifests/${manifestDigest}`, true],
    ]);
    expect(c.auth.scheme).toBe("basic");
  });

  it("reports a 401 with status and challenge as an auth error", async () => {
    const registry = await startServer((req, res) => serveRegistry(req, res, 'Basic realm="reg"', "never"));
    servers.push(registry);
    await expect(client(registry.host, alice).headManifest("team/app", "1")).rejects.toMatchObject({
      kind: "auth",
      status: 401,
      source: "registry",
    });
  });
});

describe("RegistryClient limits and blobs", () => {
  async function open(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<RegistryClient> {
    const registry = await startServer((req, res) => (req.url === "/v2/" ? res.end("{}") : handler(req, res)));
    servers.push(registry);
    return client(registry.host);
  }

  it("refuses a manifest over 4 MiB, announced or not", async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const announced = await open((_req, res) => res.writeHead(200, { "content-length": big.length }).end(big));
    await expect(announced.getManifest("a/b", "1")).rejects.toMatchObject({ kind: "limit" });
    const chunked = await open((_req, res) => {
      res.write(big.subarray(0, 1024));
      res.end(big.subarray(1024));
    });
    await expect(chunked.getManifest("a/b", "1")).rejects.toMatchObject({ kind: "limit" });
  });

  it("checks a manifest fetched by digest against that digest", async () => {
    const lying = await open((_req, res) => res.end('{"schemaVersion":2}'));
    await expect(lying.getManifest("a/b", manifestDigest)).rejects.toMatchObject({ kind: "integrity" });
  });

  it("maps a missing manifest to not-found with the OCI code", async () => {
    const empty = await open((_req, res) =>
      res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'),
    );
    await expect(empty.getManifest("a/b", "1")).rejects.toMatchObject({
      kind: "not-found",
      status: 404,
      codes: ["MANIFEST_UNKNOWN"],
      registryMessage: "manifest unknown",
    });
  });

  it("streams a blob from an offset and says whether the Range was honoured", async () => {
    const data = Buffer.from("0123456789");
    const ranged = await open((req, res) => {
      const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? "")?.[1] ?? 0);
      if (start > 0 && req.url?.includes("ranged"))
        return void res.writeHead(206, { "content-length": data.length - start }).end(data.subarray(start));
      res.writeHead(200, { "content-length": data.length }).end(data);
    });
    const partial = await ranged.getBlob("a/b", "sha256:ranged", { offset: 4 });
    expect(partial).toMatchObject({ contentLength: 6, rangeHonoured: true });
    let text = "";
    for await (const chunk of partial.body) text += String(chunk);
    expect(text).toBe("456789");
    const whole = await ranged.getBlob("a/b", "sha256:plain", { offset: 4 });
    expect(whole).toMatchObject({ contentLength: 10, rangeHonoured: false });
    whole.body.destroy();
  });
});
