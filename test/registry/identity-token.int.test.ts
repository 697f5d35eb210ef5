import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Credential } from "../../src/credentials/credential.js";
import { verifyCredentials } from "../../src/registry/verify-credentials.js";
import { connectDocker, type DockerConnection } from "../../src/targets/docker/connect-docker.js";
import { ensureImage } from "../../src/targets/docker/ensure-image.js";
import { parseDestination, pullImage } from "../../src/targets/oci/pull-image.js";
import { expectNoSecrets, removeAllImages } from "../support/pull-helpers.js";
import { clearTokenRequests, getWorld, tokenRequests } from "../world/client.js";

// Identity tokens (docker config "identitytoken", OAuth2 refresh tokens) through every
// path that sends credentials: our registry client, and dockerd's own OAuth2 flow.
const world = getWorld();
const registry = world.registries.token.host;
let refreshToken: string;
let docker: DockerConnection;
const source = { type: "config", file: "/nowhere/config.json", key: registry } as const;

/** Ask the token service for an offline (refresh) token as alice would through `docker login`. */
async function mintRefreshToken(): Promise<string> {
  const challenge = (await fetch(`${world.registries.token.url}/v2/`)).headers.get("www-authenticate") ?? "";
  const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? "";
  const basic = Buffer.from(`${world.users.alice.username}:${world.users.alice.password}`).toString("base64");
  const answer = await fetch(`${world.tokenService.url}/token?service=${encodeURIComponent(service)}&offline_token=true`, {
    headers: { authorization: `Basic ${basic}` },
  });
  const body = (await answer.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error("the token service minted no refresh token");
  return body.refresh_token;
}

beforeAll(async () => {
  refreshToken = await mintRefreshToken();
  docker = await connectDocker({ host: world.dockerHost });
});
afterAll(() => docker.close());
beforeEach(() => clearTokenRequests(world));

describe("identity tokens", () => {
  it("verify as accepted through the OAuth2 refresh_token grant", async () => {
    const credential = Credential.identityToken(refreshToken, source);
    const verification = await verifyCredentials(`${registry}/private/app:1`, credential);
    expect(verification.verdict).toBe("accepted");
    const grants = (await tokenRequests(world)).filter((r) => r.grantType === "refresh_token");
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.every((r) => r.user === "alice" && r.outcome === "granted")).toBe(true);
    expectNoSecrets(world, verification);
    expect(JSON.stringify(verification)).not.toContain(refreshToken);
  });

  it("verify as rejected when the token is not the service's", async () => {
    const forged = Credential.identityToken("alice-refresh-forged", source);
    expect((await verifyCredentials(`${registry}/private/app:1`, forged)).verdict).toBe("rejected");
  });

  it("pull a private image into an OCI layout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pullback-idtoken-"));
    const outcome = await pullImage(`${registry}/private/app:1`, {
      to: parseDestination(`oci:${dir}:app`),
      credential: Credential.identityToken(refreshToken, source),
    });
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.image.digest).toBe(world.fixtures.privateApp.manifestDigest);
  });

  it("pull a private image through dockerd, which runs the OAuth2 flow itself", async () => {
    await removeAllImages(world);
    const outcome = await ensureImage(docker, `${registry}/private/app:1`, { credential: Credential.identityToken(refreshToken, source) });
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.image.digest).toBe(world.fixtures.privateApp.manifestDigest);
  });

  it("fall back to anonymous for a public image when the token is refused", async () => {
    await removeAllImages(world);
    const outcome = await ensureImage(docker, `${registry}/public/app:1`, {
      credential: Credential.identityToken("alice-refresh-forged", source),
    });
    expect(outcome.fellBack).toBe(true);
    expect(outcome.warnings[0]).toMatch(/refused by/);
  });
});
