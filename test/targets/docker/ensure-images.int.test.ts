/**
 * ensureImages against the world's dockerd: a set of thirteen images across the registries
 * (public, private with good credentials, private with refused credentials, a missing tag),
 * credentials resolved once per registry from a Docker config, refusals warned once per
 * registry, keepGoing on and off, and an abort in the middle of a pull.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PullEvent } from "../../../src/events.js";
import { connectDocker, type DockerConnection } from "../../../src/targets/docker/connect-docker.js";
import { ensureImages } from "../../../src/targets/docker/ensure-images.js";
import type { ImageSetItem } from "../../../src/sets/set-result.js";
import type { DaemonImage } from "../../../src/targets/docker/daemon-pull.js";
import { clearFaults, clearTokenRequests, engineRequest, getWorld, setFaults, tokenRequests, type WorldInfo } from "../../world/client.js";
import { expectNoSecrets, recorder, removeAllImages, wrongPassword } from "./helpers.js";

const world = getWorld();
let docker: DockerConnection;

beforeAll(async () => {
  docker = await connectDocker({ host: world.dockerHost });
});
afterAll(() => docker.close());
beforeEach(async () => {
  await clearFaults(world);
  await removeAllImages(world);
  await clearTokenRequests(world);
});

type RegistryName = keyof WorldInfo["registries"];
const image = (registry: RegistryName, repo: string) => `${world.registries[registry].host}/${repo}`;
const fixture = (repo: string) => world.fixtures.set.find((f) => `${f.repository}:${f.tag}` === repo)!;

/** A Docker config naming a credential per registry: alice on token and basic, bob (no access) on the other realm, a wrong password on empty-access. */
function dockerConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "pullback-ensure-images-"));
  const auth = (username: string, password: string) => ({ auth: Buffer.from(`${username}:${password}`).toString("base64") });
  const { alice, bob, wrongPassword: wrong } = world.users;
  const auths = {
    [world.registries.token.host]: auth(alice.username, alice.password),
    [world.registries.basic.host]: auth(alice.username, alice.password),
    [world.registries.tokenOtherRealm.host]: auth(bob.username, bob.password),
    [world.registries.tokenEmptyAccess.host]: auth(alice.username, wrong),
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths }), { mode: 0o600 });
  return dir;
}
const resolve = () => ({ dockerConfigDir: dockerConfig(), env: {} });

/** Thirteen images and what each must come to: pulled (with or without fallback) or failed with a kind. */
const SET: readonly (readonly [RegistryName, string, "pulled" | "fell-back" | "auth" | "not-found"])[] = [
  ["token", "public/set-1:1", "pulled"],
  ["token", "private/set-1:1", "pulled"],
  ["token", "private/set-2:1", "pulled"],
  ["tokenOtherRealm", "public/set-2:1", "fell-back"],
  ["tokenOtherRealm", "public/set-3:1", "fell-back"],
  ["tokenOtherRealm", "private/set-3:1", "auth"],
  ["tokenEmptyAccess", "public/set-4:1", "fell-back"],
  ["tokenEmptyAccess", "public/set-5:1", "fell-back"],
  ["tokenEmptyAccess", "public/set-6:1", "fell-back"],
  ["basic", "private/set-4:1", "pulled"],
  ["basic", "public/set-7:1", "pulled"],
  ["open", "public/set-8:1", "pulled"],
  ["open", "public/set-1:missing", "not-found"],
];

function resultOf(item: ImageSetItem<DaemonImage>): string {
  if (!item.ok) return item.error.kind;
  return item.outcome.fellBack ? "fell-back" : "pulled";
}

async function storedDigests(ref: string): Promise<string[] | undefined> {
  const response = await engineRequest(world, "GET", `/images/${ref}/json`);
  if (response.status === 404) return undefined;
  return (JSON.parse(response.body) as { RepoDigests: string[] }).RepoDigests;
}

describe("ensureImages on the local daemon", () => {
  it("ensures thirteen images across registries: one item each, in order, digests right, one refusal warning per registry", async () => {
    const { events, onEvent } = recorder();
    const refs = SET.map(([registry, repo]) => image(registry, repo));
    const items = await ensureImages(docker, refs, { resolve: resolve(), onEvent, keepGoing: true });

    expect(items.map((item) => item.image)).toEqual(refs);
    expect(items.map(resultOf)).toEqual(SET.map(([, , expected]) => expected));
    for (const [index, item] of items.entries()) {
      expect(item.host).toBeUndefined();
      if (!item.ok) continue;
      const repo = SET[index]![1];
      expect(item.outcome.image.digest).toBe(fixture(repo).manifestDigest);
      expect(await storedDigests(refs[index]!)).toContain(`${refs[index]!.replace(/:[^:/]+$/, "")}@${fixture(repo).manifestDigest}`);
    }
    // The failed ones are not there.
    expect(await storedDigests(refs[5]!)).toBeUndefined();
    expect(await storedDigests(refs[12]!)).toBeUndefined();

    // Every event names its image; the refusal is said once per registry and source, not once per image.
    expect(events.every((e) => "image" in e && typeof e.image === "string" && refs.includes(e.image))).toBe(true);
    const refusals = events.filter(
      (e): e is Extract<PullEvent, { type: "warning" }> => e.type === "warning" && e.code === "credentials-refused",
    );
    expect(refusals.map((e) => e.registry).sort()).toEqual(
      [world.registries.tokenEmptyAccess.host, world.registries.tokenOtherRealm.host].sort(),
    );
    // Each item still carries its own warning in its outcome.
    expect(items.filter((i) => i.ok && i.outcome.fellBack).every((i) => i.ok && i.outcome.warnings.length === 1)).toBe(true);
    // bob has no access ("denied"): that says nothing against the credential, so each of his three images
    // asked the token service once, through the daemon, and pullback asked nothing more.
    const bobAsked = (await tokenRequests(world)).filter((r) => r.user === world.users.bob.username);
    expect(bobAsked.map((r) => r.outcome)).toEqual(["denied", "denied", "denied"]);
    expectNoSecrets(world, items, events);
  });

  it("does not send a credential its token service rejected outright again: one token request saved per later image", async () => {
    const repos = ["public/set-1:1", "public/set-2:1", "public/set-3:1", "public/set-4:1", "public/set-5:1", "public/set-6:1"];
    const refs = repos.map((repo) => image("token", repo));
    const credential = wrongPassword(world);
    const refusedRequests = async () => (await tokenRequests(world)).filter((r) => r.outcome === "unauthorized").length;

    // One image alone: what one refused attempt costs at the token service.
    const [alone] = await ensureImages(docker, refs.slice(0, 1), { credential, jobs: 1 });
    expect(alone?.ok && alone.outcome.fellBack).toBe(true);
    const perImage = await refusedRequests();
    expect(perImage).toBeGreaterThanOrEqual(1);

    await removeAllImages(world);
    await clearTokenRequests(world);
    const items = await ensureImages(docker, refs, { credential, jobs: 1 });
    expect(items.map(resultOf)).toEqual(repos.map(() => "fell-back"));
    // The first image tries it as before; the second asks the token service once, itself; the rest skip it.
    expect(await refusedRequests()).toBe(perImage + 1);
    const later = items.slice(1).map((i) => (i.ok ? i.outcome.attempts[0]?.failure?.message : undefined));
    expect(later.every((m) => m?.includes("earlier in this run; not sent again"))).toBe(true);
    // Without the skip the run would have cost perImage for every image.
    expect(perImage + 1).toBeLessThan(perImage * refs.length);
  });

  it("without keepGoing, nothing new starts after the first failure; with it, every image is tried", async () => {
    const refs = [image("open", "public/set-1:missing"), image("open", "public/set-1:1"), image("open", "public/set-2:1")];
    const stopped = await ensureImages(docker, refs, { credential: null, jobs: 1 });
    expect(stopped.map((i) => (i.ok ? "ok" : `${i.error.kind}/${i.error.reason ?? ""}`))).toEqual([
      expect.stringMatching(/^not-found\//),
      "other/cancelled",
      "other/cancelled",
    ]);
    expect(stopped[1]?.ok === false && stopped[1].error.message).toContain(`${refs[0]} failed first`);
    expect(await storedDigests(refs[1]!)).toBeUndefined();

    const all = await ensureImages(docker, refs, { credential: null, jobs: 1, keepGoing: true });
    expect(all.map((i) => i.ok)).toEqual([false, true, true]);
  });

  it("an abort stops the running pull and starts nothing else: every item settled, none half there", async () => {
    // Blobs of the token registry behind the fault proxy come slowly, so the abort lands mid-pull.
    await setFaults(world, [{ match: { method: "GET", path: "/blobs/" }, action: { type: "delay", ms: 4_000 } }]);
    const refs = ["public/set-1:1", "public/set-2:1", "public/set-3:1", "public/set-4:1"].map((repo) => `${world.faultProxy.host}/${repo}`);
    const controller = new AbortController();
    const { events, onEvent } = recorder();
    const listener = (event: PullEvent): void => {
      onEvent(event);
      if (event.type === "attempt-started") setTimeout(() => controller.abort(), 1_000);
    };
    const items = await ensureImages(docker, refs, { credential: null, jobs: 2, signal: controller.signal, onEvent: listener });
    expect(items).toHaveLength(4);
    for (const item of items) {
      expect(item.ok).toBe(false);
      expect(!item.ok && [item.error.kind, item.error.reason]).toEqual(["other", "cancelled"]);
    }
    // Two were running (their pulls were cancelled), two never started.
    expect(new Set(events.filter((e) => e.type === "attempt-started").map((e) => e.image))).toEqual(new Set(refs.slice(0, 2)));
    await clearFaults(world);
    // dockerd drops the cancelled pulls, but blob requests it had already sent finish behind the
    // 4 s delay: let them land here (and prove they leave no image) rather than in the next file's proxy log.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    for (const ref of refs) expect(await storedDigests(ref)).toBeUndefined();
  });
});
