import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PullError } from "../../../src/fallback/pull-outcome.js";
import { connectDocker, type DockerConnection } from "../../../src/targets/docker/connect-docker.js";
import { ensureImage } from "../../../src/targets/docker/ensure-image.js";
import {
  clearFaults,
  clearTokenRequests,
  engineRequest,
  getWorld,
  proxyRequests,
  clearProxyRequests,
  setFaults,
  tokenRequests,
} from "../../world/client.js";
import { expectNoSecrets, recorder, rejectionOf, removeAllImages, user, wrongPassword } from "./helpers.js";

const world = getWorld();
let docker: DockerConnection;

beforeAll(async () => {
  docker = await connectDocker({ host: world.dockerHost });
});
afterAll(() => docker.close());
beforeEach(async () => {
  await removeAllImages(world);
  await clearTokenRequests(world);
});

const image = (registry: keyof typeof world.registries, repo: string) => `${world.registries[registry].host}/${repo}`;

describe("ensureImage on the local daemon", () => {
  it.each([
    ["token", "bob (no access)", "bob"],
    ["token", "a wrong password", "wrong"],
    ["tokenOtherRealm", "bob (no access)", "bob"],
    ["tokenEmptyAccess", "bob (empty-access token)", "bob"],
    ["basic", "a wrong password", "wrong"],
  ] as const)("falls back to anonymous on the %s registry when %s is refused", async (registry, _who, who) => {
    if (registry === "basic") {
      // A Basic registry refuses every anonymous pull: the fallback is tried and refused too.
      const { events, onEvent } = recorder();
      const error = await rejectionOf(ensureImage(docker, image(registry, "public/app:1"), { credential: wrongPassword(world), onEvent }));
      expect(error).toBeInstanceOf(PullError);
      expect((error as PullError).kind).toBe("auth");
      expect((error as PullError).attempts).toHaveLength(2);
      expectNoSecrets(world, error, events);
      return;
    }
    const { events, onEvent } = recorder();
    const credential = who === "bob" ? user(world, "bob") : wrongPassword(world);
    const outcome = await ensureImage(docker, image(registry, "public/app:1"), { credential, onEvent });
    expect(outcome.fellBack).toBe(true);
    expect(outcome.attempts.map((a) => [a.identity.anonymous, a.succeeded])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(outcome.image.digest).toBe(world.fixtures.publicApp.manifestDigest);
    expect(outcome.warnings).toHaveLength(1);
    expect(outcome.warnings[0]).toContain(`refused by ${world.registries[registry].host}`);
    expect(outcome.warnings[0]).toContain(credential.describe());
    expect(events.some((e) => e.type === "warning" && e.code === "credentials-refused")).toBe(true);
    expect(events.some((e) => e.type === "layer")).toBe(true);
    expectNoSecrets(world, outcome, events);
  });

  it("pulls a private image with alice on the first attempt", async () => {
    const outcome = await ensureImage(docker, image("token", "private/app:1"), { credential: user(world, "alice") });
    expect(outcome.fellBack).toBe(false);
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.image.digest).toBe(world.fixtures.privateApp.manifestDigest);
    expect(outcome.image.platform).toBe("linux/amd64");
  });

  it("skips the registry entirely when the image is already there", async () => {
    const first = await ensureImage(docker, image("token", "public/app:1"), { credential: user(world, "alice") });
    expect(first.image.alreadyPresent).toBe(false);
    await clearTokenRequests(world);
    const present = await ensureImage(docker, image("token", "public/app:1"), { credential: user(world, "alice") });
    expect(present.image.alreadyPresent).toBe(true);
    expect(present.attempts).toHaveLength(0);
    expect(present.image.digest).toBe(world.fixtures.publicApp.manifestDigest);
    expect(await tokenRequests(world)).toHaveLength(0);
  });

  it('pull: "always" asks the registry although the image is there, and says it was up to date', async () => {
    await ensureImage(docker, image("token", "public/app:1"), { credential: null });
    await clearTokenRequests(world);
    const { events, onEvent } = recorder();
    const again = await ensureImage(docker, image("token", "public/app:1"), { credential: wrongPassword(world), pull: "always", onEvent });
    // The credentials were checked, refused, and the anonymous retry found nothing new.
    expect(again.fellBack).toBe(true);
    expect(again.image.alreadyPresent).toBe(true);
    expect(events.find((e) => e.type === "done")).toMatchObject({ upToDate: true, digest: world.fixtures.publicApp.manifestDigest });
    expect((await tokenRequests(world)).length).toBeGreaterThan(0);
  });

  it('pull: "never" fails as not-found without a registry request when the image is missing', async () => {
    const error = await rejectionOf(ensureImage(docker, image("token", "public/app:1"), { credential: null, pull: "never" }));
    expect(error).toMatchObject({ kind: "not-found", reason: "pull-never" });
    expect(await tokenRequests(world)).toHaveLength(0);
  });

  it("tags the image with tagAs, whether it was pulled or already there", async () => {
    const pulled = await ensureImage(docker, image("open", "public/app:1"), { credential: null, tagAs: "local/app:dev" });
    expect(pulled.image.tags).toEqual(["local/app:dev"]);
    const present = await ensureImage(docker, image("open", "public/app:1"), { credential: null, tagAs: "cluster:dev" });
    expect(present.image.alreadyPresent).toBe(true);
    for (const name of ["local/app:dev", "cluster:dev"]) {
      const tagged = await engineRequest(world, "GET", `/images/${name}/json`);
      expect((JSON.parse(tagged.body) as { Id: string }).Id).toBe(pulled.image.id);
    }
    expect(await rejectionOf(ensureImage(docker, image("open", "public/app:1"), { tagAs: "x@sha256:" + "a".repeat(64) }))).toMatchObject({
      kind: "usage",
    });
  });

  it("fails private/app:1 with bob as auth after two attempts, with a diagnosis", async () => {
    const { events, onEvent } = recorder();
    const error = await rejectionOf(ensureImage(docker, image("token", "private/app:1"), { credential: user(world, "bob"), onEvent }));
    expect(error).toBeInstanceOf(PullError);
    const pullError = error as PullError;
    expect(pullError.kind).toBe("auth");
    expect(pullError.attempts.map((a) => a.identity.anonymous)).toEqual([false, true]);
    expect(pullError.diagnosis.steps.length).toBeGreaterThan(1);
    expect(pullError.diagnosis.explanation).toContain("bob's test credentials");
    expectNoSecrets(world, error, events);
  });

  it("fails private/app:1 anonymously as auth after one attempt", async () => {
    const error = await rejectionOf(ensureImage(docker, image("token", "private/app:1"), { credential: null }));
    expect((error as PullError).kind).toBe("auth");
    expect((error as PullError).attempts).toHaveLength(1);
  });

  it("does not fall back on a missing repository", async () => {
    const error = await rejectionOf(ensureImage(docker, image("token", "public/nope:1"), { credential: user(world, "alice") }));
    expect((error as PullError).kind).toBe("not-found");
    expect((error as PullError).attempts).toHaveLength(1);
    const requests = await tokenRequests(world);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.user === "alice")).toBe(true);
  });

  it("does not fall back when the registry is unreachable", async () => {
    const error = await rejectionOf(ensureImage(docker, "127.0.0.1:1/public/app:1", { credential: user(world, "alice") }));
    expect((error as PullError).kind).toBe("network");
    expect((error as PullError).attempts).toHaveLength(1);
    expect((error as PullError).diagnosis.retryable).toBe(true);
  });

  it("refuses to pull a local-only name that is missing", async () => {
    const error = await rejectionOf(ensureImage(docker, "cluster:dev"));
    expect(error).toMatchObject({ kind: "local-only" });
  });

  it("catches an auth failure that arrives inside a 200 pull stream and retries anonymously", async () => {
    await clearProxyRequests(world);
    await setFaults(world, [
      {
        match: { method: "GET", path: "^/v2/public/app/blobs/", authenticated: true },
        action: {
          type: "respond",
          status: 401,
          headers: { "content-type": "application/json" },
          body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
        },
      },
    ]);
    try {
      const { events, onEvent } = recorder();
      const outcome = await ensureImage(docker, `${world.faultProxy.host}/public/app:1`, { credential: user(world, "alice"), onEvent });
      expect(outcome.fellBack).toBe(true);
      const failed = events.find((e) => e.type === "attempt-failed");
      expect(failed).toMatchObject({ kind: "auth", willRetryAnonymously: true });
      // Progress had started before the refusal: the failure came inside the stream.
      const firstFailure = events.findIndex((e) => e.type === "attempt-failed");
      expect(events.slice(0, firstFailure).some((e) => e.type === "layer")).toBe(true);
      const faulted = (await proxyRequests(world)).filter((r) => r.fault !== null);
      expect(faulted.length).toBeGreaterThan(0);
      expectNoSecrets(world, outcome, events);
    } finally {
      await clearFaults(world);
    }
  });
});
