import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveCredentials } from "../../src/credentials/resolve-credentials.js";
import { NOT_FOUND_BODY, answers, basicAuth, makeSandbox, type Sandbox, caught } from "./fixtures.js";

let box: Sandbox;
beforeEach(async () => {
  box = await makeSandbox();
  await box.writeHelper("pbtest", answers("helper-user", "helper-secret"));
  await box.writeHelper("pbstore", answers("store-user", "store-secret"));
  await box.writeHelper("pbnone", NOT_FOUND_BODY);
});
afterEach(() => box.remove());

describe("precedence: explicit > env > credHelpers > credsStore > auths", () => {
  const explicit = { username: "flag-user", secret: "flag-secret" };
  const envVars = { PULLBACK_REGISTRY_USERNAME: "env-user", PULLBACK_REGISTRY_TOKEN: "env-secret" };
  const auths = { "ghcr.io": { auth: basicAuth("auths-user", "auths-secret") } };
  const rows = [
    {
      name: "explicit beats everything",
      explicit,
      envVars,
      config: { credHelpers: { "ghcr.io": "pbtest" }, credsStore: "pbstore", auths },
      expected: "flag-user/flag-secret",
    },
    {
      name: "env beats the Docker config",
      envVars,
      config: { credHelpers: { "ghcr.io": "pbtest" }, credsStore: "pbstore", auths },
      expected: "env-user/env-secret",
    },
    {
      name: "credHelpers beats credsStore",
      config: { credHelpers: { "ghcr.io": "pbtest" }, credsStore: "pbstore", auths },
      expected: "helper-user/helper-secret",
    },
    { name: "credsStore beats auths", config: { credsStore: "pbstore", auths }, expected: "store-user/store-secret" },
    {
      name: "a credHelper with nothing falls through to credsStore",
      config: { credHelpers: { "ghcr.io": "pbnone" }, credsStore: "pbstore", auths },
      expected: "store-user/store-secret",
    },
    {
      name: "helpers with nothing fall through to auths",
      config: { credHelpers: { "ghcr.io": "pbnone" }, credsStore: "pbnone", auths },
      expected: "auths-user/auths-secret",
    },
    {
      name: "a credHelper for another registry is not asked",
      config: { credHelpers: { "quay.io": "pbtest" }, auths },
      expected: "auths-user/auths-secret",
    },
    { name: "auths alone", config: { auths }, expected: "auths-user/auths-secret" },
    { name: "an empty auths entry (left by credsStore) is nothing", config: { auths: { "ghcr.io": {} } }, expected: undefined },
    { name: "nothing configured", config: {}, expected: undefined },
    { name: "--no-credentials ignores env and config", anonymous: true, envVars, config: { auths }, expected: undefined },
  ];

  it.each(rows)("$name", async (row) => {
    await box.writeConfig(row.config);
    const credential = await resolveCredentials("ghcr.io", {
      explicit: row.explicit,
      env: { ...box.env, ...row.envVars },
      dockerConfigDir: box.configDir,
      anonymous: row.anonymous ?? false,
    });
    expect(credential && `${credential.username}/${credential.reveal()}`).toBe(row.expected);
  });

  it("reports where each credential came from", async () => {
    const file = await box.writeConfig({ credHelpers: { "ghcr.io": "pbtest" }, auths });
    const options = { env: box.env, dockerConfigDir: box.configDir };
    expect((await resolveCredentials("ghcr.io", options))?.describe()).toBe("the credentials for ghcr.io from docker-credential-pbtest");
    expect((await resolveCredentials("ghcr.io", { ...options, explicit }))?.describe()).toBe("the credentials given on the command line");
    await box.writeConfig({ auths });
    expect((await resolveCredentials("ghcr.io", options))?.source).toEqual({ type: "config", file, key: "ghcr.io" });
  });

  it("refuses explicit credentials together with --no-credentials", async () => {
    const error = await caught(resolveCredentials("ghcr.io", { explicit, anonymous: true, env: box.env }));
    expect(error.kind).toBe("usage");
    expect(error.message).not.toContain("flag-secret");
  });
});

describe("explicit and environment credentials", () => {
  const options = () => ({ env: box.env, dockerConfigDir: box.configDir });

  it("uses __token__ for an explicit secret without a username", async () => {
    const credential = await resolveCredentials("ghcr.io", { ...options(), explicit: { secret: "tok" } });
    expect([credential?.username, credential?.reveal(), credential?.kind]).toEqual(["__token__", "tok", "basic"]);
  });

  it("uses __token__ for PULLBACK_REGISTRY_TOKEN alone", async () => {
    const credential = await resolveCredentials("ghcr.io", { ...options(), env: { ...box.env, PULLBACK_REGISTRY_TOKEN: "tok" } });
    expect(credential?.username).toBe("__token__");
    expect(credential?.describe()).toBe("the token from PULLBACK_REGISTRY_TOKEN");
  });

  it("explains a username without a token", async () => {
    const error = await caught(resolveCredentials("ghcr.io", { ...options(), env: { ...box.env, PULLBACK_REGISTRY_USERNAME: "bot" } }));
    expect(error.kind).toBe("credentials");
    expect(error.message).toMatch(/PULLBACK_REGISTRY_TOKEN is not/);
    expect(error.diagnosis?.steps.length).toBeGreaterThan(0);
  });

  it("treats empty variables as unset (a missing CI secret) and moves on to the Docker config", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { username: "cfg", password: "pw" } } });
    const env = { ...box.env, PULLBACK_REGISTRY_USERNAME: "", PULLBACK_REGISTRY_TOKEN: "" };
    expect((await resolveCredentials("ghcr.io", { ...options(), env }))?.username).toBe("cfg");
  });

  it("rejects a secret with a trailing newline without echoing it", async () => {
    const error = await caught(resolveCredentials("ghcr.io", { ...options(), explicit: { secret: "SENTINEL-tok\n" } }));
    expect(error.kind).toBe("credentials");
    expect(inspect(error)).not.toContain("SENTINEL");
  });
});

describe("Docker config location", () => {
  it("defaults to $DOCKER_CONFIG", async () => {
    await box.writeConfig({ auths: { "ghcr.io": { username: "u", password: "p" } } });
    const credential = await resolveCredentials("ghcr.io", { env: { ...box.env, DOCKER_CONFIG: box.configDir } });
    expect(credential?.username).toBe("u");
  });

  it("falls back to $HOME/.docker", async () => {
    const home = join(box.root, "home");
    await mkdir(join(home, ".docker"), { recursive: true });
    await writeFile(join(home, ".docker", "config.json"), JSON.stringify({ auths: { "ghcr.io": { username: "h", password: "p" } } }));
    expect((await resolveCredentials("ghcr.io", { env: { ...box.env, HOME: home } }))?.username).toBe("h");
  });

  it("resolves nothing when the file or the directory is missing", async () => {
    expect(await resolveCredentials("ghcr.io", { env: box.env, dockerConfigDir: box.configDir })).toBeUndefined();
    expect(await resolveCredentials("ghcr.io", { env: box.env, dockerConfigDir: join(box.root, "nope") })).toBeUndefined();
  });
});
