/**
 * The local daemon path against podman's Docker-compatible API service. podman
 * answers every pull with HTTP 200 and reports failures as error lines in the
 * stream, in containers/image's words, so these are the dockerd scenarios again.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PullError } from "../../../src/fallback/pull-outcome.js";
import { connectDocker, type DockerConnection } from "../../../src/targets/docker/connect-docker.js";
import { ensureImage } from "../../../src/targets/docker/ensure-image.js";
import { removeStateDir } from "../../world/cleanup.js";
import { clearTokenRequests, engineRequest, getWorld, registryAuthHeader, tokenRequests, type WorldInfo } from "../../world/client.js";
import { startPodman, type Podman } from "../../world/podman.js";
import { expectNoSecrets, recorder, rejectionOf, removeAllImages, secretsOf, user, wrongPassword } from "./helpers.js";

const world = getWorld();
const FIXTURE = new URL("../../fixtures/podman-messages.json", import.meta.url);
let scratch: string | undefined;
let podman: Podman | undefined;
let docker: DockerConnection | undefined;

/** The world as seen through podman: the same registries, podman's socket. */
const podmanWorld = (): WorldInfo => ({ ...world, dockerHost: podman!.dockerHost });
const image = (registry: keyof WorldInfo["registries"], repo: string) => `${world.registries[registry].host}/${repo}`;

beforeAll(async () => {
  scratch = await mkdtemp("/tmp/pullback-world-podman-");
  podman = await startPodman(scratch, Object.values(world.registries));
  docker = await connectDocker({ host: podman.dockerHost });
}, 600_000);
afterAll(async () => {
  docker?.close();
  await podman?.stop();
  if (scratch !== undefined) await removeStateDir(scratch);
});
beforeEach(async () => {
  await removeAllImages(podmanWorld());
  await clearTokenRequests(world);
});

describe("ensureImage on podman's Docker-compatible API", () => {
  it("is podman answering", async () => {
    expect(docker!.endpoint).toBe(podman!.dockerHost);
    expect((await docker!.daemon()).apiVersion).toMatch(/^1\.\d+$/);
  });

  it.each([
    ["bob (no access)", "bob", "denied"],
    ["a wrong password", "wrong", "unauthorized"],
  ] as const)("falls back to anonymous on the token registry when %s is refused", async (_who, who, refusal) => {
    const { events, onEvent } = recorder();
    const credential = who === "bob" ? user(world, "bob") : wrongPassword(world);
    const outcome = await ensureImage(docker!, image("token", "public/app:1"), { credential, onEvent });
    expect(outcome.fellBack).toBe(true);
    expect(outcome.attempts.map((a) => [a.identity.anonymous, a.succeeded])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(outcome.image.digest).toBe(world.fixtures.publicApp.manifestDigest);
    expect(outcome.warnings).toHaveLength(1);
    expect(outcome.warnings[0]).toContain(`refused by ${world.registries.token.host}`);
    expect(outcome.warnings[0]).toContain(credential.describe());
    expect(events.some((e) => e.type === "warning" && e.code === "credentials-refused")).toBe(true);
    expect(events.find((e) => e.type === "attempt-failed")).toMatchObject({ kind: "auth", willRetryAnonymously: true });
    expect(events.some((e) => e.type === "layer")).toBe(true);
    // The token service refused the credential first, then served the anonymous retry.
    const outcomes = (await tokenRequests(world)).map((r) => (r.user === null ? "anonymous" : r.outcome));
    expect(outcomes[0]).toBe(refusal);
    expect(outcomes.at(-1)).toBe("anonymous");
    expectNoSecrets(world, outcome, events);
  });

  it("pulls a private image with alice on the first attempt, then finds it present", async () => {
    const outcome = await ensureImage(docker!, image("token", "private/app:1"), { credential: user(world, "alice") });
    expect(outcome.fellBack).toBe(false);
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.image.digest).toBe(world.fixtures.privateApp.manifestDigest);
    expect(outcome.image.platform).toBe("linux/amd64");
    await clearTokenRequests(world);
    const present = await ensureImage(docker!, image("token", "private/app:1"), { credential: user(world, "alice") });
    expect(present.image.alreadyPresent).toBe(true);
    expect(await tokenRequests(world)).toHaveLength(0);
  });

  it("fails private/app:1 with bob as auth after two attempts, with a diagnosis", async () => {
    const { events, onEvent } = recorder();
    const error = await rejectionOf(ensureImage(docker!, image("token", "private/app:1"), { credential: user(world, "bob"), onEvent }));
    expect(error).toBeInstanceOf(PullError);
    const pullError = error as PullError;
    expect(pullError.kind).toBe("auth");
    expect(pullError.attempts.map((a) => a.identity.anonymous)).toEqual([false, true]);
    expect(pullError.diagnosis.explanation).toContain("bob's test credentials");
    expectNoSecrets(world, error, events);
  });

  it("fails private/app:1 anonymously as auth after one attempt", async () => {
    const error = await rejectionOf(ensureImage(docker!, image("token", "private/app:1"), { credential: null }));
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).kind).toBe("auth");
    expect((error as PullError).attempts).toHaveLength(1);
  });

  it("does not fall back on a missing repository", async () => {
    const error = await rejectionOf(ensureImage(docker!, image("token", "public/nope:1"), { credential: user(world, "alice") }));
    expect((error as PullError).kind).toBe("not-found");
    expect((error as PullError).attempts).toHaveLength(1);
    const requests = await tokenRequests(world);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.user === "alice")).toBe(true);
  });

  it("does not fall back when the registry is unreachable", async () => {
    const error = await rejectionOf(ensureImage(docker!, "127.0.0.1:1/public/app:1", { credential: user(world, "alice") }));
    expect((error as PullError).kind).toBe("network");
    expect((error as PullError).attempts).toHaveLength(1);
    expect((error as PullError).diagnosis.retryable).toBe(true);
  });
});

describe("podman's own words", () => {
  type Who = { username: string; password: string } | null;
  const { alice, bob } = world.users;
  const wrong = { username: "alice", password: world.users.wrongPassword };

  /** `POST /images/create` as the docker CLI sends it. */
  async function pull(host: string, repository: string, who: Who): Promise<{ status: number; message: string }> {
    const headers = who === null ? {} : { "X-Registry-Auth": registryAuthHeader({ ...who, serveraddress: host }) };
    const query = new URLSearchParams({ fromImage: `${host}/${repository}`, tag: "1" });
    const res = await engineRequest(podmanWorld(), "POST", `/images/create?${query.toString()}`, headers);
    if (res.status !== 200) return { status: res.status, message: (JSON.parse(res.body) as { message: string }).message };
    const lines = res.body
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as { error?: string });
    return { status: res.status, message: lines.find((line) => line.error !== undefined)?.error ?? "(no error)" };
  }

  const on = (registry: keyof WorldInfo["registries"]) => world.registries[registry].host;
  const CASES: Record<string, () => Promise<{ status: number; message: string }>> = {
    bobPublicOnTokenRegistry: () => pull(on("token"), "public/app", bob),
    wrongPasswordOnTokenRegistry: () => pull(on("token"), "public/app", wrong),
    bobPublicOnOtherRealmRegistry: () => pull(on("tokenOtherRealm"), "public/app", bob),
    bobOnEmptyAccessRegistry: () => pull(on("tokenEmptyAccess"), "public/app", bob),
    bobPrivateOnTokenRegistry: () => pull(on("token"), "private/app", bob),
    anonymousPrivateOnTokenRegistry: () => pull(on("token"), "private/app", null),
    wrongPasswordOnBasicRegistry: () => pull(on("basic"), "public/app", wrong),
    anonymousOnBasicRegistry: () => pull(on("basic"), "public/app", null),
    missingRepoWithAlice: () => pull(on("token"), "public/missing", alice),
    closedPort: () => pull("127.0.0.1:1", "public/app", alice),
    // The fault proxy is a plain-HTTP registry podman was not told is insecure.
    registryNotMarkedInsecure: () => pull(world.faultProxy.host, "public/app", null),
  };
  const normalize = (message: string): string => message.replace(/127\.0\.0\.\d+:\d+/g, "<registry>");

  it("reports each failure exactly as recorded in test/fixtures/podman-messages.json", async () => {
    const observed: Record<string, { status: number; message: string }> = {};
    for (const [name, attempt] of Object.entries(CASES)) {
      const failure = await attempt();
      for (const secret of secretsOf(world)) expect(failure.message).not.toContain(secret);
      observed[name] = { status: failure.status, message: normalize(failure.message) };
    }
    if (process.env.UPDATE_FIXTURES === "1") await writeFile(FIXTURE, `${JSON.stringify(observed, null, 2)}\n`);
    const recorded = JSON.parse(await readFile(FIXTURE, "utf8")) as unknown;
    expect(observed).toEqual(recorded);
  });
});
