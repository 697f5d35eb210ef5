import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { beforeEach, describe, expect, it } from "vitest";
import { Credential } from "../../src/credentials/credential.js";
import { parseReference } from "../../src/reference/parse-reference.js";
import { verifyCredentials, type Verdict, type Verification } from "../../src/registry/verify-credentials.js";
import { clearTokenRequests, getWorld, tokenRequests } from "../world/client.js";

const world = getWorld();
const { alice, bob, wrongPassword } = world.users;
const source = { type: "explicit", label: "the test credentials" } as const;
const users = {
  alice: Credential.basic(alice.username, alice.password, source),
  bob: Credential.basic(bob.username, bob.password, source),
  wrong: Credential.basic(alice.username, wrongPassword, source),
  anonymous: undefined,
};
type User = keyof typeof users;
type Mode = keyof typeof world.registries;
type Repo = "public/app" | "private/app";

/** [mode, user, repository, verdict, anonymousPull] — what each registry mode answers. */
const table: [Mode, User, Repo, Verdict, boolean][] = [];
const expectations: Record<Mode, Record<User, Record<Repo, Verdict>>> = {
  token: {
    alice: { "public/app": "accepted", "private/app": "accepted" },
    bob: { "public/app": "no-access", "private/app": "no-access" }, // 403 DENIED at the token service
    wrong: { "public/app": "rejected", "private/app": "rejected" },
    anonymous: { "public/app": "accepted", "private/app": "no-access" }, // empty token → 401 insufficient_scope
  },
  tokenOtherRealm: {
    alice: { "public/app": "accepted", "private/app": "accepted" },
    bob: { "public/app": "no-access", "private/app": "no-access" },
    wrong: { "public/app": "rejected", "private/app": "rejected" },
    anonymous: { "public/app": "accepted", "private/app": "no-access" },
  },
  tokenEmptyAccess: {
    alice: { "public/app": "accepted", "private/app": "accepted" },
    bob: { "public/app": "no-access", "private/app": "no-access" }, // 200 with no access → 401 on the manifest
    wrong: { "public/app": "rejected", "private/app": "rejected" },
    anonymous: { "public/app": "accepted", "private/app": "no-access" },
  },
  basic: {
    alice: { "public/app": "accepted", "private/app": "accepted" },
    bob: { "public/app": "accepted", "private/app": "accepted" }, // htpasswd: every valid user may pull
    wrong: { "public/app": "rejected", "private/app": "rejected" },
    anonymous: { "public/app": "no-access", "private/app": "no-access" },
  },
  open: {
    alice: { "public/app": "accepted", "private/app": "accepted" },
    bob: { "public/app": "accepted", "private/app": "accepted" },
    wrong: { "public/app": "accepted", "private/app": "accepted" }, // no auth: credentials are never checked
    anonymous: { "public/app": "accepted", "private/app": "accepted" },
  },
};
const anonymousPull: Record<Mode, Record<Repo, boolean>> = {
  token: { "public/app": true, "private/app": false },
  tokenOtherRealm: { "public/app": true, "private/app": false },
  tokenEmptyAccess: { "public/app": true, "private/app": false },
  basic: { "public/app": false, "private/app": false },
  open: { "public/app": true, "private/app": true },
};
for (const [mode, byUser] of Object.entries(expectations) as [Mode, Record<User, Record<Repo, Verdict>>][]) {
  for (const [user, byRepo] of Object.entries(byUser) as [User, Record<Repo, Verdict>][]) {
    for (const [repo, verdict] of Object.entries(byRepo) as [Repo, Verdict][])
      table.push([mode, user, repo, verdict, anonymousPull[mode][repo]]);
  }
}

const schemes: Record<Mode, Verification["authScheme"]> = {
  token: "bearer",
  tokenOtherRealm: "bearer",
  tokenEmptyAccess: "bearer",
  basic: "basic",
  open: "none",
};

function expectSecretFree(verification: Verification): void {
  const text = JSON.stringify(verification);
  for (const secret of [alice.password, bob.password, wrongPassword]) expect(text).not.toContain(secret);
}

describe("verifyCredentials for a repository", () => {
  it.each(table)("%s × %s × %s → %s (anonymous pull: %s)", async (mode, user, repo, verdict, anonymous) => {
    const registry = world.registries[mode];
    const credential = users[user];
    const result = await verifyCredentials(`${registry.host}/${repo}:1`, credential, { retries: 0 });
    expect(result).toMatchObject({
      verdict,
      registry: registry.host,
      repository: repo,
      anonymousPull: anonymous,
      authScheme: schemes[mode],
      realmOnOtherHost: mode === "tokenOtherRealm",
      credentialSource: credential === undefined ? undefined : "the test credentials",
    });
    if (schemes[mode] === "bearer") expect(result.realm).toMatch(/^http:\/\/127\.0\.0\.[12]:\d+\/token$/);
    else expect(result.realm).toBeUndefined();
    expect(result.message.length).toBeGreaterThan(0);
    expectSecretFree(result);
  });

  it("asks the token service for exactly the repository's pull scope, once", async () => {
    await clearTokenRequests(world);
    const result = await verifyCredentials(parseReference(`${world.registries.token.host}/private/app:1`), users.alice, { retries: 0 });
    expect(result.verdict).toBe("accepted");
    const requests = (await tokenRequests(world)).filter((r) => r.user === alice.username);
    expect(requests.map((r) => [r.scopes, r.outcome])).toEqual([[["repository:private/app:pull"], "granted"]]);
  });

  it("calls a granted token for a missing tag accepted, saying the image was not found", async () => {
    const result = await verifyCredentials(`${world.registries.token.host}/private/app:no-such-tag`, users.alice, { retries: 0 });
    expect(result.verdict).toBe("accepted");
    expect(result.message).toMatch(/repository or tag was not found/);
  });

  it("carries the token service's own words for a refusal", async () => {
    const denied = await verifyCredentials(`${world.registries.token.host}/private/app:1`, users.bob, { retries: 0 });
    expect(denied.message).toMatch(/HTTP 403/);
    const rejected = await verifyCredentials(`${world.registries.token.host}/private/app:1`, users.wrong, { retries: 0 });
    expect(rejected.message).toMatch(/HTTP 401/);
    expect(rejected.message).toMatch(/wrong or expired/);
  });
});

describe("verifyCredentials for a bare registry host (docker login)", () => {
  const rows: [Mode, User, Verdict][] = [
    ["token", "alice", "accepted"],
    ["token", "bob", "accepted"], // a login check proves the password, not access
    ["token", "wrong", "rejected"],
    ["token", "anonymous", "accepted"],
    ["tokenOtherRealm", "wrong", "rejected"],
    ["tokenEmptyAccess", "bob", "accepted"],
    ["basic", "alice", "accepted"],
    ["basic", "wrong", "rejected"],
    ["basic", "anonymous", "no-access"],
    ["open", "wrong", "accepted"],
  ];
  beforeEach(() => clearTokenRequests(world));

  it.each(rows)("%s × %s → %s", async (mode, user, verdict) => {
    const registry = world.registries[mode];
    const result = await verifyCredentials(registry.host, users[user], { retries: 0 });
    expect(result).toMatchObject({
      verdict,
      registry: registry.host,
      repository: undefined,
      anonymousPull: undefined,
      authScheme: schemes[mode],
    });
    if (mode !== "open") expect(result.message).toMatch(/docker login/);
    expectSecretFree(result);
  });

  it("asks the token service with no scope at all", async () => {
    await verifyCredentials(world.registries.token.host, users.alice, { retries: 0 });
    const requests = await tokenRequests(world);
    expect(requests.map((r) => [r.user, r.scopes])).toEqual([[alice.username, []]]);
  });
});

describe("verifyCredentials when the registry cannot be reached", () => {
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it.each([
    ["a reference", (port: number) => `127.0.0.1:${port}/private/app:1`],
    ["a bare host", (port: number) => `127.0.0.1:${port}`],
  ])("is unreachable, never rejected, for %s on a closed port", async (_what, target) => {
    const result = await verifyCredentials(target(await closedPort()), users.wrong, { retries: 0, timeoutMs: 2_000 });
    expect(result).toMatchObject({ verdict: "unreachable", anonymousPull: undefined });
    expect(result.message).toMatch(/ECONNREFUSED/);
    expect(result.message).toMatch(/says nothing about the credentials/);
  });
});
