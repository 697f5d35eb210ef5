import { afterEach, describe, expect, it } from "vitest";
import { Credential } from "../../src/credentials/credential.js";
import { isBareRegistryHost, verifyCredentials } from "../../src/registry/verify-credentials.js";
import { startServer, type LocalServer } from "./local-server.js";

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const credential = Credential.basic("alice", "s3cret-value", { type: "env", secretVariable: "PULLBACK_REGISTRY_TOKEN" });

describe("isBareRegistryHost", () => {
  it.each([
    ["ghcr.io", true],
    ["127.0.0.1:5000", true],
    ["localhost", true],
    ["localhost:5000", true],
    ["[::1]:5000", true],
    ["registry.example.com:443", true],
    ["nginx", false], // docker.io/library/nginx
    ["nginx:latest", false],
    ["ghcr.io/acme/app", false],
    ["ghcr.io/acme/app:1", false],
    ["alpine@sha256:0123", false],
  ])("%s → %s", (target, expected) => {
    expect(isBareRegistryHost(target)).toBe(expected);
  });
});

describe("verifyCredentials edge answers", () => {
  async function registry(handler: Parameters<typeof startServer>[0]): Promise<LocalServer> {
    const started = await startServer(handler);
    servers.push(started);
    return started;
  }

  it("is unreachable, not rejected, when the challenge is a scheme we do not speak", async () => {
    const negotiate = await registry((_req, res) => res.writeHead(401, { "www-authenticate": "Negotiate" }).end());
    const result = await verifyCredentials(negotiate.host, credential, { retries: 0 });
    expect(result).toMatchObject({ verdict: "unreachable", credentialSource: "the token from PULLBACK_REGISTRY_TOKEN" });
  });

  it("is unreachable, not rejected, when the token service fails with 5xx", async () => {
    const tokens = await registry((_req, res) => res.writeHead(503).end("<html>maintenance</html>"));
    const bearer = await registry((_req, res) =>
      res.writeHead(401, { "www-authenticate": `Bearer realm="${tokens.url}/token",service="s"` }).end(),
    );
    const result = await verifyCredentials(`${bearer.host}/team/app:1`, credential, { retries: 0 });
    expect(result.verdict).toBe("unreachable");
    expect(result.message).toMatch(/HTTP 503/);
    expect(result.message).not.toContain("s3cret-value");
  });

  it("is unreachable when the token service rate-limits", async () => {
    const tokens = await registry((_req, res) => res.writeHead(429, { "retry-after": "3600" }).end());
    const bearer = await registry((_req, res) => res.writeHead(401, { "www-authenticate": `Bearer realm="${tokens.url}/token"` }).end());
    expect((await verifyCredentials(bearer.host, credential, { retries: 0 })).verdict).toBe("unreachable");
  });

  it("calls a 401 from a Basic registry rejected, and says so without the secret", async () => {
    const basic = await registry((_req, res) => res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end());
    const result = await verifyCredentials(`${basic.host}/team/app:1`, credential, { retries: 0 });
    expect(result).toMatchObject({ verdict: "rejected", authScheme: "basic", realm: undefined, anonymousPull: false });
    expect(JSON.stringify(result)).not.toContain("s3cret-value");
  });
});
