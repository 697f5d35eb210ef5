/**
 * pullImages against the world: a set across the token (behind the fault proxy, which
 * records every request), other-realm, basic and open registries into ONE OCI layout
 * that skopeo reads and into ONE docker-archive that dockerd and containerd load; the
 * shared base layer fetched once; tokens asked once per scope and identity; one
 * refused-credential warning per registry; keepGoing, abort and bad input.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Credential } from "../../../src/credentials/credential.js";
import { PullbackError } from "../../../src/errors.js";
import type { PullEvent } from "../../../src/events.js";
import type { Exchange } from "../../../src/registry/http.js";
import type { ImageSetItem } from "../../../src/sets/set-result.js";
import { pullImages } from "../../../src/targets/oci/pull-images.js";
import type { OciPulledImage } from "../../../src/targets/oci/pulled-image.js";
import { readTarEntry } from "../../../src/targets/oci/tar.js";
import { tarSpans } from "../../../src/targets/oci/stored-image.js";
import {
  clearFaults,
  clearProxyRequests,
  clearTokenRequests,
  getWorld,
  proxyRequests,
  setFaults,
  tokenRequests,
  type FixtureImage,
} from "../../world/client.js";
import { startContainerd, type Containerd } from "../cluster/containerd.js";

const run = promisify(execFile);
const world = getWorld();
const proxied = world.faultProxy.host; // the token registry, every request recorded
const otherRealm = world.registries.tokenOtherRealm.host;
const basic = world.registries.basic.host;
const open = world.registries.open.host;
const set = new Map(world.fixtures.set.map((image) => [image.repository, image]));
const fixture = (repository: string): FixtureImage => {
  const image = set.get(repository);
  if (!image) throw new Error(`no fixture ${repository}`);
  return image;
};
const hex = (digest: string): string => digest.slice("sha256:".length);
/** The base layer every set image shares, and each image's own layer. */
const baseLayer = fixture("public/set-1").layers[0]!.digest;
const ownLayer = (repository: string): string => fixture(repository).layers[1]!.digest;

let scratch: string;
let counter = 0;
const fresh = (name = "out"): string => join(scratch, `${name}-${++counter}`);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pullback-sets-int-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  await clearFaults(world);
});

/** A Docker config naming alice for the proxied token registry and basic, bob (refused: 403 at the token service) for the other realm. */
async function dockerConfig(): Promise<string> {
  const dir = fresh("docker-config");
  await mkdir(dir, { recursive: true });
  const auth = (user: { username: string; password: string }): { auth: string } => ({
    auth: Buffer.from(`${user.username}:${user.password}`).toString("base64"),
  });
  const auths = { [proxied]: auth(world.users.alice), [basic]: auth(world.users.alice), [otherRealm]: auth(world.users.bob) };
  await writeFile(join(dir, "config.json"), JSON.stringify({ auths }));
  return dir;
}

const blobGets = (requests: readonly { method: string; path: string }[], digest: string): number =>
  requests.filter((r) => r.method === "GET" && r.path.includes(`/blobs/${digest}`)).length;
const outcomeOf = (item: ImageSetItem<OciPulledImage> | undefined): OciPulledImage => {
  if (!item?.ok) throw new Error(`${item?.image} failed: ${item?.ok === false ? item.error.message : "missing"}`);
  return item.outcome.image;
};

describe("a set across registries into one OCI layout", () => {
  // Thirteen references: eleven pull, one is refused even anonymously, one tag is missing.
  const refs = [
    `${proxied}/public/set-1:1`,
    `${proxied}/public/set-2:1`,
    `${proxied}/private/set-1:1`,
    `${proxied}/private/set-2:1`,
    `${otherRealm}/public/set-3:1`,
    `${otherRealm}/public/set-4:1`,
    `${otherRealm}/private/set-3:1`,
    `${open}/public/set-5:1`,
    `${open}/public/set-6:1`,
    `${open}/public/set-7:1`,
    `${basic}/public/set-8:1`,
    `${basic}/private/set-4:1`,
    `${proxied}/public/set-1:missing`,
  ];
  let layout = "";
  let items: ImageSetItem<OciPulledImage>[] = [];
  const events: PullEvent[] = [];
  const exchanges: Exchange[] = [];
  let tokens: Awaited<ReturnType<typeof tokenRequests>> = [];
  let proxy: Awaited<ReturnType<typeof proxyRequests>> = [];

  beforeAll(async () => {
    layout = fresh("layout");
    const dockerConfigDir = await dockerConfig();
    await clearTokenRequests(world);
    await clearProxyRequests(world);
    items = await pullImages(refs, {
      to: `oci:${layout}`,
      resolve: { env: {}, dockerConfigDir },
      keepGoing: true,
      jobs: 4,
      onEvent: (event) => events.push(event),
      onExchange: (exchange) => exchanges.push(exchange),
    });
    tokens = await tokenRequests(world);
    proxy = await proxyRequests(world);
  });

  it("resolves one item per reference, in order: eleven pulled, the refused private image and the missing tag failed", () => {
    expect(items.map((item) => item.image)).toEqual(refs);
    expect(items.map((item) => item.ok)).toEqual([true, true, true, true, true, true, false, true, true, true, true, true, false]);
    const refused = items[6];
    const missing = items[12];
    expect(refused?.ok === false && refused.error.kind).toBe("auth");
    expect(missing?.ok === false && missing.error.kind).toBe("not-found");
    for (const item of items) expect(item.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("names every image by its reference, and skopeo reads each one as oci:DIR:REFERENCE", async () => {
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const pulled = items.filter((item) => item.ok);
    expect(index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"]).sort()).toEqual(
      pulled.map((item) => item.image).sort(),
    );
    for (const item of pulled) {
      const image = outcomeOf(item);
      const repository = item.image.slice(item.image.indexOf("/") + 1, item.image.lastIndexOf(":"));
      expect(image.destination).toBe(`oci:${layout}:${item.image}`);
      expect(image.digest).toBe(fixture(repository).manifestDigest);
      const { stdout } = await run("skopeo", ["inspect", image.destination]);
      const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[] };
      expect(inspected.Digest).toBe(fixture(repository).manifestDigest);
      expect(inspected.Layers).toEqual(fixture(repository).layers.map((l) => l.digest));
    }
    // skopeo copies one out of the set, too.
    const copy = fresh("copy");
    await run("skopeo", ["copy", `oci:${layout}:${refs[8]}`, `oci:${copy}:one`]);
    expect(existsSync(join(copy, "blobs", "sha256", hex(ownLayer("public/set-6"))))).toBe(true);
  });

  it("stores and downloads the shared base layer once for the whole set", async () => {
    const blobs = await readdir(join(layout, "blobs", "sha256"));
    expect(blobs.filter((name) => name === hex(baseLayer))).toHaveLength(1);
    expect(blobs.some((name) => name.endsWith(".partial"))).toBe(false);
    // Across every registry (the client's own record) and at the proxied registry (the world's record).
    expect(exchanges.filter((e) => e.method === "GET" && e.url.includes(`/blobs/${baseLayer}`) && e.status === 200)).toHaveLength(1);
    expect(blobGets(proxy, baseLayer)).toBeLessThanOrEqual(1);
    for (const repository of ["public/set-1", "public/set-2", "private/set-1", "private/set-2"])
      expect(blobGets(proxy, ownLayer(repository))).toBe(1);
  });

  it("asks the token service once per registry, scope and identity, not once per image", () => {
    const keys = tokens.map((t) => JSON.stringify([t.service, [...t.scopes].sort(), t.user]));
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys).size).toBe(keys.length);
    // public/set-1 is asked for twice (tag 1 and the missing tag), with one token for both.
    const setOne = tokens.filter((t) => t.scopes.includes("repository:public/set-1:pull") && t.user === world.users.alice.username);
    expect(setOne).toHaveLength(1);
  });

  it("pings each registry once for the whole set, and reuses its connections across images", () => {
    // Four registries (the proxied one, the other realm, the open one, the Basic one): one anonymous GET /v2/ each.
    const pings = exchanges.filter((e) => e.method === "GET" && /^http:\/\/[^/]+\/v2\/$/.test(e.url));
    expect(pings.map((e) => new URL(e.url).host).sort()).toEqual([proxied, otherRealm, open, basic].sort());
    // The world's record of the proxied registry agrees: one ping for its four images.
    expect(proxy.filter((r) => r.method === "GET" && r.path === "/v2/")).toHaveLength(1);
  });

  it("warns once about bob's refused credentials at the other realm, and the public images there fall back", () => {
    const refusals = events.filter((e) => e.type === "warning" && e.code === "credentials-refused");
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ registry: otherRealm });
    for (const index of [4, 5]) {
      const item = items[index];
      expect(item?.ok && item.outcome.fellBack).toBe(true);
    }
    expect(items[0]?.ok && items[0].outcome.fellBack).toBe(false);
    // bob is refused for each of the three repositories he was tried on (403 is about the scope, not the credential).
    expect(tokens.filter((t) => t.user === world.users.bob.username && t.outcome === "denied")).toHaveLength(3);
  });

  it("labels every event with its image", () => {
    expect(events.length).toBeGreaterThan(0);
    const labelled = new Set(refs);
    for (const event of events) expect(labelled.has((event as { image?: string }).image ?? "")).toBe(true);
    expect(JSON.stringify(events)).not.toContain(world.users.alice.password);
  });

  it("a second run with --pull missing finds every image there and asks no registry", async () => {
    await clearProxyRequests(world);
    const again = await pullImages(refs.slice(0, 4), { to: `oci:${layout}`, pull: "missing", credential: null });
    expect(again.map((item) => item.ok && item.outcome.attempts.length)).toEqual([0, 0, 0, 0]);
    expect(await proxyRequests(world)).toEqual([]);
  });
});

describe("a multi-image docker-archive", () => {
  const refs = [
    ...Array.from({ length: 8 }, (_, i) => `${open}/public/set-${i + 1}:1`),
    `${proxied}/private/set-1:1`,
    `${proxied}/private/set-2:1`,
  ];
  const repoTags = refs; // loopback registries: docker names them as written
  let archive = "";
  let containerd: Containerd | undefined;

  beforeAll(async () => {
    archive = join(fresh("archive"), "bundle.tar");
    const alice = Credential.basic(world.users.alice.username, world.users.alice.password, { type: "explicit" });
    const items = await pullImages(refs, { to: `docker-archive:${archive}`, credential: alice });
    expect(items.filter((item) => !item.ok).map((item) => item.ok === false && item.error.message)).toEqual([]);
    containerd = await startContainerd();
  });
  afterAll(async () => {
    await containerd?.stop();
  });

  it("holds one manifest.json entry per image with its RepoTag, the repositories file, and each blob once", async () => {
    const manifest = JSON.parse((await readTarEntry(archive, "manifest.json", 1 << 20))!.toString()) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(manifest.map((entry) => entry.RepoTags)).toEqual(repoTags.map((tag) => [tag]));
    const repositories = JSON.parse((await readTarEntry(archive, "repositories", 1 << 20))!.toString()) as Record<
      string,
      Record<string, string>
    >;
    expect(Object.keys(repositories).sort()).toEqual(refs.map((ref) => ref.slice(0, ref.lastIndexOf(":"))).sort());
    const spans = await tarSpans(archive);
    expect([...spans.keys()].filter((name) => name === `blobs/sha256/${hex(baseLayer)}`)).toHaveLength(1);
    const dir = archive.slice(0, archive.lastIndexOf("/"));
    expect(await readdir(dir)).toEqual(["bundle.tar"]); // no staging area or temp file left
  });

  it("docker load accepts it, with every RepoTag present afterwards", async () => {
    const { stdout } = await run("docker", ["-H", world.dockerHost, "load", "-i", archive]);
    for (const tag of repoTags) expect(stdout).toContain(`Loaded image: ${tag}`);
    try {
      for (const [index, tag] of repoTags.entries()) {
        const inspect = await run("docker", ["-H", world.dockerHost, "image", "inspect", tag]);
        const [image] = JSON.parse(inspect.stdout) as { Id: string; RootFS: { Layers: string[] } }[];
        const repository = refs[index]!.slice(refs[index]!.indexOf("/") + 1, refs[index]!.lastIndexOf(":"));
        expect(image?.Id).toBe(fixture(repository).configDigest);
        expect(image?.RootFS.Layers).toEqual(fixture(repository).layers.map((l) => l.diffId));
      }
    } finally {
      await run("docker", ["-H", world.dockerHost, "image", "rm", ...repoTags]);
    }
  });

  it("ctr images import accepts it, with every name present", async () => {
    const address = containerd!.socket;
    await run("ctr", ["--address", address, "images", "import", "--snapshotter", "native", archive]);
    const { stdout } = await run("ctr", ["--address", address, "images", "ls", "-q"]);
    const names = stdout.split("\n").filter(Boolean);
    for (const tag of repoTags) expect(names).toContain(tag);
  });
});

describe("keepGoing, abort and bad input", () => {
  const good = (n: number): string => `${open}/public/set-${n}:1`;
  const missing = `${open}/public/set-1:missing`;

  it("without keepGoing: a failed image leaves no archive; pulled images end not-written, the rest cancelled", async () => {
    const archive = join(fresh("nokeep"), "bundle.tar");
    const items = await pullImages([good(1), missing, good(2), good(3)], { to: `docker-archive:${archive}`, jobs: 1 });
    expect(items.map((item) => (item.ok ? "ok" : (item.error.reason ?? item.error.kind)))).toEqual([
      "not-written",
      "not-found",
      "cancelled",
      "cancelled",
    ]);
    expect(items[0]?.ok === false && items[0].error.message).toContain("public/set-1:missing failed");
    expect(existsSync(archive)).toBe(false);
  });

  it("with keepGoing: the archive holds exactly the images that succeeded", async () => {
    const archive = join(fresh("keep"), "bundle.tar");
    const items = await pullImages([good(1), missing, good(2)], { to: `docker-archive:${archive}`, keepGoing: true });
    expect(items.map((item) => item.ok)).toEqual([true, false, true]);
    const manifest = JSON.parse((await readTarEntry(archive, "manifest.json", 1 << 20))!.toString()) as { RepoTags: string[] }[];
    expect(manifest.map((entry) => entry.RepoTags[0])).toEqual([good(1), good(2)]);
  });

  it("an existing archive: images already in it are carried over with --pull missing, the new one added", async () => {
    const archive = join(fresh("carry"), "bundle.tar");
    await pullImages([`${proxied}/public/set-1:1`, `${proxied}/public/set-2:1`], { to: `docker-archive:${archive}` });
    await clearProxyRequests(world);
    const refs = [`${proxied}/public/set-1:1`, `${proxied}/public/set-2:1`, `${proxied}/public/set-3:1`];
    const items = await pullImages(refs, { to: `docker-archive:${archive}`, pull: "missing" });
    expect(items.map((item) => item.ok && item.outcome.attempts.length)).toEqual([0, 0, 1]);
    const requests = await proxyRequests(world);
    expect(blobGets(requests, ownLayer("public/set-1"))).toBe(0);
    expect(blobGets(requests, ownLayer("public/set-3"))).toBe(1);
    const manifest = JSON.parse((await readTarEntry(archive, "manifest.json", 1 << 20))!.toString()) as { RepoTags: string[] }[];
    expect(manifest.map((entry) => entry.RepoTags[0])).toEqual(refs);
    const { stdout } = await run("skopeo", ["inspect", `docker-archive:${archive}:${refs[0]}`]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBeDefined();
  });

  it("an abort while a blob is awaited at the registry: every item ends, no archive is written", async () => {
    const refs = [1, 2, 3, 4].map((n) => `${proxied}/public/set-${n}:1`);
    // set-4's own layer is held at the registry; the other images finish meanwhile.
    await setFaults(world, [
      { match: { method: "GET", path: `/blobs/${ownLayer("public/set-4")}` }, action: { type: "delay", ms: 60_000 } },
    ]);
    const file = join(fresh("abort"), "bundle.tar");
    const controller = new AbortController();
    let done = 0;
    const items = await pullImages(refs, {
      to: `docker-archive:${file}`,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "done" && ++done === 3) controller.abort();
      },
    });
    expect(items.map((item) => item.ok === false && item.error.reason)).toEqual(["not-written", "not-written", "not-written", "cancelled"]);
    expect(existsSync(file)).toBe(false);
    // The request held at the registry was given up by the client (the proxy saw it close unanswered).
    await expect
      .poll(async () => (await proxyRequests(world)).some((r) => r.path.includes(ownLayer("public/set-4")) && r.status === 499))
      .toBe(true);
  });

  it("an abort while a blob streams stops it at once: its .partial stays, and the next run resumes it into a whole layout", async () => {
    const refs = [1, 2, 3, 4].map((n) => `${proxied}/public/set-${n}:1`);
    const slow = ownLayer("public/set-4");
    await setFaults(world, [{ match: { method: "GET", path: `/blobs/${slow}` }, action: { type: "throttle", bytesPerSecond: 8 * 1024 } }]);
    const dir = fresh("abort-layout");
    const controller = new AbortController();
    const items = await pullImages(refs, {
      to: `oci:${dir}`,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "layer" && event.id === hex(slow).slice(0, 12) && event.status === "downloading" && (event.current ?? 0) > 0)
          controller.abort();
      },
    });
    expect(items[3]?.ok === false && items[3].error.reason).toBe("cancelled");
    // The transfer stopped part-way (unstopped, the body would have arrived whole and been renamed into place).
    const partial = join(dir, "blobs", "sha256", `${hex(slow)}.partial`);
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(fixture("public/set-4").layers[1]!.size);
    expect(existsSync(join(dir, "blobs", "sha256", hex(slow)))).toBe(false);
    // Images that finished before the abort stay in the layout; the next run pulls only what is missing.
    const finished = items.filter((item) => item.ok).map((item) => item.image);
    // The abort may also have caught the shared base layer part-way: then it is resumed too, once.
    const baseStored = existsSync(join(dir, "blobs", "sha256", hex(baseLayer)));
    await clearFaults(world);
    await clearProxyRequests(world);
    const again = await pullImages(refs, { to: `oci:${dir}`, pull: "missing" });
    expect(again.every((item) => item.ok)).toBe(true);
    expect(again.filter((item) => item.ok && item.outcome.attempts.length === 0).map((item) => item.image)).toEqual(finished);
    const requests = await proxyRequests(world);
    expect(blobGets(requests, baseLayer)).toBe(baseStored ? 0 : 1);
    expect(blobGets(requests, slow)).toBe(1);
    expect(existsSync(partial)).toBe(false);
    const { stdout } = await run("skopeo", ["inspect", `oci:${dir}:${refs[3]}`]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(fixture("public/set-4").manifestDigest);
  });

  it("a bad reference in the list is refused before any request or file", async () => {
    await clearProxyRequests(world);
    const dir = fresh("bad");
    const error = await pullImages([`${proxied}/public/set-1:1`, "UPPER/Case:1", `${proxied}/public/set-2:1`], { to: `oci:${dir}` }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullbackError);
    expect((error as PullbackError).kind).toBe("reference");
    expect((error as PullbackError).message).toContain("refs[1]");
    expect(await proxyRequests(world)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it("oci:DIR:TAG names one image: several are a usage error", async () => {
    const dir = fresh("tagged");
    const error = await pullImages([good(1), good(2)], { to: `oci:${dir}:app` }).catch((e: unknown) => e);
    expect((error as PullbackError).kind).toBe("usage");
    expect(existsSync(dir)).toBe(false);
    const one = await pullImages([good(1)], { to: `oci:${dir}:app` });
    expect(outcomeOf(one[0]).destination).toBe(`oci:${dir}:app`);
  });
});
