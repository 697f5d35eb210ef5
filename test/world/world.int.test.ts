import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { clearTokenRequests, engineRequest, getWorld, tokenRequests } from "./client.js";
import { challengeParams, fetchToken, getManifest } from "./registry-client.js";

const run = promisify(execFile);
const world = getWorld();
const { alice, bob, wrongPassword } = world.users;
const wrong = { username: "alice", password: wrongPassword };
const pull = (repository: string): string[] => [`repository:${repository}:pull`];

describe("dockerd", () => {
  it("answers /version on its unix socket", async () => {
    const res = await engineRequest(world, "GET", "/version");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty("ApiVersion");
  });
});

describe("registry challenges", () => {
  it.each([
    ["token", world.tokenService.url, "pullback-token"],
    ["tokenOtherRealm", world.tokenService.otherHostUrl, "pullback-token-other-realm"],
    ["tokenEmptyAccess", world.tokenService.url, "pullback-token-empty-access"],
  ] as const)("%s asks for a bearer token from its realm", async (name, realmBase, service) => {
    const res = await fetch(`${world.registries[name].url}/v2/`);
    expect(res.status).toBe(401);
    const header = res.headers.get("www-authenticate")!;
    expect(header).toMatch(/^Bearer /);
    expect(challengeParams(header)).toMatchObject({ realm: `${realmBase}/token`, service });
  });

  it("basic asks for Basic credentials and open asks for nothing", async () => {
    const basic = await fetch(`${world.registries.basic.url}/v2/`);
    expect(basic.status).toBe(401);
    expect(basic.headers.get("www-authenticate")).toBe('Basic realm="pullback-world basic"');
    const open = await fetch(`${world.registries.open.url}/v2/`);
    expect(open.status).toBe(200);
    expect(open.headers.get("www-authenticate")).toBeNull();
  });

  it("the other realm is served on another host", () => {
    expect(new URL(world.tokenService.otherHostUrl).hostname).toBe("127.0.0.2");
  });
});

describe("token service, checked through the registry", () => {
  const { token, tokenOtherRealm, tokenEmptyAccess } = world.registries;
  beforeEach(() => clearTokenRequests(world));

  it("grants alice a private pull the registry honours", async () => {
    const answer = await fetchToken(token, pull("private/app"), alice);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ expires_in: 300 });
    expect(answer.body.token).toBe(answer.body.access_token);
    const manifest = await getManifest(token, "private/app", "1", { bearer: String(answer.body.token) });
    expect(manifest.status).toBe(200);
    expect(manifest.digest).toBe(world.fixtures.privateApp.manifestDigest);
    const [record] = await tokenRequests(world);
    expect(record).toMatchObject({
      method: "GET",
      user: "alice",
      outcome: "granted",
      service: "pullback-token",
      scopes: pull("private/app"),
    });
    expect(record!.granted).toEqual([{ type: "repository", name: "private/app", actions: ["pull"] }]);
  });

  it("gives anonymous an empty grant on private (registry: 401 insufficient_scope) and pull on public", async () => {
    const privateToken = await fetchToken(token, pull("private/app"), null);
    expect(privateToken.status).toBe(200);
    const denied = await getManifest(token, "private/app", "1", { bearer: String(privateToken.body.token) });
    expect(denied.status).toBe(401);
    expect(challengeParams(denied.wwwAuthenticate)).toMatchObject({ error: "insufficient_scope", scope: "repository:private/app:pull" });
    const publicToken = await fetchToken(token, pull("public/app"), null);
    expect((await getManifest(token, "public/app", "1", { bearer: String(publicToken.body.token) })).status).toBe(200);
    expect((await tokenRequests(world)).map((r) => [r.user, r.outcome])).toEqual([
      [null, "empty"],
      [null, "granted"],
    ]);
  });

  it("refuses bob with 403 DENIED even for a public repository", async () => {
    const answer = await fetchToken(token, pull("public/app"), bob);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] });
    expect((await tokenRequests(world))[0]).toMatchObject({ user: "bob", outcome: "denied", granted: [] });
  });

  it("gives bob an empty grant in empty-access mode, which the registry refuses", async () => {
    const answer = await fetchToken(tokenEmptyAccess, pull("public/app"), bob);
    expect(answer.status).toBe(200);
    const manifest = await getManifest(tokenEmptyAccess, "public/app", "1", { bearer: String(answer.body.token) });
    expect(manifest.status).toBe(401);
    expect(challengeParams(manifest.wwwAuthenticate).error).toBe("insufficient_scope");
    expect((await tokenRequests(world))[0]).toMatchObject({ user: "bob", outcome: "empty", service: "pullback-token-empty-access" });
  });

  it("answers a wrong password with 401 and a Basic challenge", async () => {
    for (const user of [wrong, { username: "bob", password: wrongPassword }, { username: "mallory", password: wrongPassword }]) {
      const answer = await fetchToken(token, pull("public/app"), user);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });
      expect(answer.wwwAuthenticate).toMatch(/^Basic realm=/);
    }
    expect((await tokenRequests(world)).map((r) => r.outcome)).toEqual(["unauthorized", "unauthorized", "unauthorized"]);
  });

  it("checks a login (no scope): 200 for alice and bob, 401 for a wrong password", async () => {
    expect((await fetchToken(token, [], alice)).status).toBe(200);
    expect((await fetchToken(token, [], bob)).status).toBe(200);
    expect((await fetchToken(token, [], wrong)).status).toBe(401);
  });

  it("serves the other realm from 127.0.0.2 with tokens its registry accepts", async () => {
    const answer = await fetchToken(tokenOtherRealm, pull("private/app"), alice);
    expect((await getManifest(tokenOtherRealm, "private/app", "1", { bearer: String(answer.body.token) })).status).toBe(200);
    expect((await tokenRequests(world))[0]!.host).toMatch(/^127\.0\.0\.2:/);
  });

  it("supports OAuth2 password and refresh_token grants", async () => {
    const form = (fields: Record<string, string>) => ({
      method: "POST",
      body: new URLSearchParams({ service: "pullback-token", scope: "repository:private/app:pull", client_id: "test", ...fields }),
    });
    const first = await fetch(
      `${world.tokenService.url}/token`,
      form({ grant_type: "password", username: "alice", password: alice.password, access_type: "offline" }),
    );
    expect(first.status).toBe(200);
    const { refresh_token: refresh } = (await first.json()) as { refresh_token: string };
    expect(refresh).toMatch(/^alice-refresh-/);
    const second = await fetch(`${world.tokenService.url}/token`, form({ grant_type: "refresh_token", refresh_token: refresh }));
    const { access_token: accessToken } = (await second.json()) as { access_token: string };
    expect((await getManifest(token, "private/app", "1", { bearer: accessToken })).status).toBe(200);
    const forged = await fetch(
      `${world.tokenService.url}/token`,
      form({ grant_type: "refresh_token", refresh_token: "alice-refresh-forged" }),
    );
    expect(forged.status).toBe(401);
    const bad = await fetch(
      `${world.tokenService.url}/token`,
      form({ grant_type: "password", username: "alice", password: wrongPassword }),
    );
    expect(bad.status).toBe(401);
    expect((await tokenRequests(world)).map((r) => [r.grantType, r.user, r.outcome])).toEqual([
      ["password", "alice", "granted"],
      ["refresh_token", "alice", "granted"],
      ["refresh_token", null, "unauthorized"],
      ["password", "alice", "unauthorized"],
    ]);
  });

  it("never records a password", async () => {
    await fetchToken(token, pull("public/app"), alice);
    await fetchToken(token, pull("public/app"), wrong);
    const recorded = JSON.stringify(await tokenRequests(world));
    for (const secret of [alice.password, bob.password, wrongPassword]) expect(recorded).not.toContain(secret);
  });
});

describe("fixtures as the registries serve them", () => {
  const { publicApp, privateApp, publicMulti } = world.fixtures;

  it.each(["open", "basic", "token", "tokenOtherRealm", "tokenEmptyAccess"] as const)(
    "%s serves public/app:1 with the fixture's digests",
    async (name) => {
      const registry = world.registries[name];
      const auth =
        name === "open"
          ? {}
          : name === "basic"
            ? { user: alice }
            : { bearer: String((await fetchToken(registry, pull("public/app"), null)).body.token) };
      const manifest = await getManifest(registry, "public/app", "1", auth);
      expect(manifest.status).toBe(200);
      expect(manifest.digest).toBe(publicApp.manifestDigest);
      const body = JSON.parse(manifest.body) as { config: { digest: string }; layers: { digest: string; size: number }[] };
      expect(body.config.digest).toBe(publicApp.configDigest);
      expect(body.layers.map((l) => [l.digest, l.size])).toEqual(publicApp.layers.map((l) => [l.digest, l.size]));
    },
  );

  it("has the sizes and platforms the brief promises", async () => {
    expect(publicApp.layers).toHaveLength(3);
    const total = publicApp.layers.reduce((sum, l) => sum + l.size, 0);
    expect(total).toBeGreaterThan(18 * 1024 * 1024);
    expect(total).toBeLessThan(24 * 1024 * 1024);
    expect(privateApp.layers.map((l) => l.digest)).not.toEqual(publicApp.layers.map((l) => l.digest));
    const index = await getManifest(world.registries.open, "public/multi", "1", {});
    expect(index.digest).toBe(publicMulti.manifestDigest);
    const manifests = (JSON.parse(index.body) as { manifests: { digest: string; platform: { os: string; architecture: string } }[] })
      .manifests;
    const byPlatform = Object.fromEntries(manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]));
    expect(byPlatform).toEqual({
      "linux/amd64": publicMulti.platforms!["linux/amd64"]!.manifestDigest,
      "linux/arm64": publicMulti.platforms!["linux/arm64"]!.manifestDigest,
    });
    for (const [platform, expected] of Object.entries(publicMulti.platforms!)) {
      const config = await fetch(`${world.registries.open.url}/v2/public/multi/blobs/${expected.configDigest}`);
      const parsed = (await config.json()) as { os: string; architecture: string; rootfs: { diff_ids: string[] } };
      expect(`${parsed.os}/${parsed.architecture}`).toBe(platform);
      expect(parsed.rootfs.diff_ids).toEqual(expected.layers.map((l) => l.diffId));
    }
  });
});

describe("sshd", () => {
  it("lets `ssh … docker version` reach the world's dockerd", async () => {
    const { ssh } = world;
    const args = [
      "-F",
      "/dev/null",
      "-i",
      ssh.keyFile,
      "-o",
      `UserKnownHostsFile=${ssh.knownHostsFile}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      "-p",
      String(ssh.port),
      `root@${ssh.host}`,
    ];
    const { stdout } = await run("ssh", [...args, "docker", "version", "--format", "'{{.Server.Version}} {{.Server.Os}}'"]);
    const version = JSON.parse((await engineRequest(world, "GET", "/version")).body) as { Version: string };
    expect(stdout.trim()).toBe(`${version.Version} linux`);
    const { stdout: host } = await run("ssh", [...args, "printenv", "DOCKER_HOST"]);
    expect(host.trim()).toBe(world.dockerHost);
    expect(await readFile(ssh.logFile, "utf8")).toMatch(/Accepted publickey for root from 127\.0\.0\.1/);
  });
});
