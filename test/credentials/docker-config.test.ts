import { chmod } from "node:fs/promises";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveCredentials } from "../../src/credentials/resolve-credentials.js";
import { basicAuth, makeSandbox, type Sandbox, caught } from "./fixtures.js";

let box: Sandbox;
beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(() => box.remove());

const resolve = (registry: string) => resolveCredentials(registry, { env: box.env, dockerConfigDir: box.configDir });

describe("Docker Hub aliases", () => {
  const hubKeys = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io", "http://index.docker.io/v1/"];
  const hubNames = ["docker.io", "index.docker.io", "registry-1.docker.io"];

  it.each(hubKeys.flatMap((key) => hubNames.map((name) => [key, name])))("auths[%j] serves %s", async (key, name) => {
    await box.writeConfig({ auths: { [key]: { auth: basicAuth("hubuser", "hubpass") } } });
    const credential = await resolve(name);
    expect(credential?.username).toBe("hubuser");
    expect(credential?.source).toMatchObject({ type: "config", key });
  });

  it("prefers docker's own key https://index.docker.io/v1/ over the other spellings", async () => {
    await box.writeConfig({
      auths: { "docker.io": { auth: basicAuth("short", "p") }, "https://index.docker.io/v1/": { auth: basicAuth("legacy", "p") } },
    });
    expect((await resolve("docker.io"))?.username).toBe("legacy");
  });

  it("does not hand Docker Hub credentials to another registry", async () => {
    await box.writeConfig({ auths: { "https://index.docker.io/v1/": { auth: basicAuth("hubuser", "p") } } });
    expect(await resolve("ghcr.io")).toBeUndefined();
    expect(await resolve("docker.example.com")).toBeUndefined();
  });
});

describe("auths keys match by host and port", () => {
  it.each([
    "127.0.0.1:5000",
    "http://127.0.0.1:5000",
    "https://127.0.0.1:5000",
    "https://127.0.0.1:5000/v1/",
    "HTTPS://127.0.0.1:5000/v2/",
  ])("%j matches 127.0.0.1:5000", async (key) => {
    await box.writeConfig({ auths: { [key]: { username: "local", password: "p" } } });
    expect((await resolve("127.0.0.1:5000"))?.username).toBe("local");
  });

  it.each(["127.0.0.1", "127.0.0.1:5001", "https://127.0.0.1:50000", "127.0.0.1.example.com:5000"])(
    "%j does not match 127.0.0.1:5000",
    async (key) => {
      await box.writeConfig({ auths: { [key]: { username: "other", password: "p" } } });
      expect(await resolve("127.0.0.1:5000")).toBeUndefined();
    },
  );

  it("matches host names case-insensitively", async () => {
    await box.writeConfig({ auths: { "https://GHCR.io": { username: "u", password: "p" } } });
    expect((await resolve("ghcr.io"))?.username).toBe("u");
  });
});

describe("auths entries", () => {
  it("decodes base64 auth, splitting at the first colon only", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { auth: basicAuth("alice", "pa:ss:word") } } });
    const credential = await resolve("ghcr.io");
    expect([credential?.username, credential?.reveal(), credential?.kind]).toEqual(["alice", "pa:ss:word", "basic"]);
  });

  it("reads username and password fields", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { username: "bob", password: "hunter2" } } });
    expect((await resolve("ghcr.io"))?.reveal()).toBe("hunter2");
  });

  it("turns identitytoken into an identity-token credential that keeps the username", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { auth: basicAuth("carol", ""), identitytoken: "refresh-123" } } });
    const credential = await resolve("ghcr.io");
    expect([credential?.kind, credential?.username, credential?.reveal()]).toEqual(["identity-token", "carol", "refresh-123"]);
  });

  it("rejects an auth value that is not base64 of user:password, without quoting it", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { auth: Buffer.from("SENTINELnocolon").toString("base64") } } });
    const error = await caught(resolve("ghcr.io"));
    expect(error.kind).toBe("config");
    expect(error.message).toContain('auths["ghcr.io"].auth');
    expect(inspect(error)).not.toMatch(/SENTINEL|U0VOVElORUxub2NvbG9u/);
  });

  it("rejects an auth entry whose password is missing", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { username: "dave" } } });
    expect((await caught(resolve("ghcr.io"))).kind).toBe("credentials");
  });
});

describe("malformed config.json", () => {
  it("names the file and the position, never the contents", async () => {
    const file = await box.writeConfigText('{\n  "auths": {\n    "ghcr.io": { "auth": "SENTINEL-c2VjcmV0" },\n  }\n}\n');
    const error = await caught(resolve("ghcr.io"));
    expect(error.kind).toBe("config");
    expect(error.message).toContain(file);
    expect(error.message).toContain("line 4, column 3");
    expect(inspect(error, { depth: Infinity })).not.toContain("SENTINEL");
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ["a JSON array", "[]", /not a JSON object/],
    ["credHelpers of numbers", '{"credHelpers": {"ghcr.io": 1}}', /credHelpers/],
    ["auths entry not an object", '{"auths": {"ghcr.io": "SENTINEL"}}', /auths\["ghcr.io"\]/],
    ["auth not a string", '{"auths": {"ghcr.io": {"auth": ["SENTINEL"]}}}', /auths\["ghcr.io"\]\.auth/],
    ["truncated file", '{"auths": {"ghcr.io": {"auth": "SENTINEL', /not valid JSON at line 1, column 41/],
  ])("rejects %s", async (_name, text, pattern) => {
    await box.writeConfigText(text);
    const error = await caught(resolve("ghcr.io"));
    expect(error.kind).toBe("config");
    expect(error.message).toMatch(pattern);
    expect(inspect(error, { depth: Infinity })).not.toContain("SENTINEL");
  });

  it("accepts a UTF-8 byte-order mark", async () => {
    await box.writeConfigText(`\uFEFF${JSON.stringify({ auths: { "ghcr.io": { username: "u", password: "p" } } })}`);
    expect((await resolve("ghcr.io"))?.username).toBe("u");
  });

  it.skipIf(process.getuid?.() === 0)("reports an unreadable file as a config error", async () => {
    const file = await box.writeConfig({});
    await chmod(file, 0o000);
    expect((await caught(resolve("ghcr.io"))).message).toMatch(/Cannot read .*EACCES/);
  });
});
