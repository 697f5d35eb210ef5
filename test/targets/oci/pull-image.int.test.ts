import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Credential } from "../../../src/credentials/credential.js";
import type { PullEvent } from "../../../src/events.js";
import { PullError } from "../../../src/fallback/pull-outcome.js";
import { parseDestination, pullImage } from "../../../src/targets/oci/pull-image.js";
import { clearFaults, clearProxyRequests, getWorld, proxyRequests, setFaults } from "../../world/client.js";

const run = promisify(execFile);
const world = getWorld();
const token = world.registries.token.host;
const { publicApp, privateApp, publicMulti } = world.fixtures;
const alice = Credential.basic(world.users.alice.username, world.users.alice.password, {
  type: "explicit",
  label: "alice's test credentials",
});
const bob = Credential.basic(world.users.bob.username, world.users.bob.password, { type: "explicit", label: "bob's test credentials" });

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pullback-oci-int-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  await clearFaults(world);
});

let counter = 0;
const fresh = (): string => join(scratch, `out-${++counter}`);
const hex = (digest: string): string => digest.slice("sha256:".length);
const blobNames = async (dir: string): Promise<string[]> => (await readdir(join(dir, "blobs", "sha256"))).sort();

describe("credentials and fallback", () => {
  it("falls back to an anonymous pull of a public image when bob is refused, with a warning", async () => {
    const dir = fresh();
    const events: PullEvent[] = [];
    const outcome = await pullImage(`${token}/public/app:1`, {
      to: parseDestination(`oci:${dir}:app`),
      credential: bob,
      onEvent: (e) => events.push(e),
    });
    expect(outcome.fellBack).toBe(true);
    expect(outcome.attempts.map((a) => [a.identity.anonymous, a.succeeded])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(outcome.warnings).toHaveLength(1);
    expect(outcome.warnings[0]).toMatch(
      new RegExp(`^Bob's test credentials (was|were) refused by ${token.replace(/\./g, "\\.")}: .*denied`, "i"),
    );
    expect(outcome.image).toMatchObject({
      digest: publicApp.manifestDigest,
      layers: 3,
      platform: "linux/amd64",
      destination: `oci:${dir}:app`,
    });
    expect(events.some((e) => e.type === "warning" && e.code === "credentials-refused")).toBe(true);
    expect(
      events
        .filter((e) => e.type === "layer" && e.status === "done")
        .map((e) => e.type === "layer" && e.id)
        .sort(),
    ).toEqual(publicApp.layers.map((l) => hex(l.digest).slice(0, 12)).sort());
    expect(JSON.stringify(events)).not.toContain(world.users.bob.password);
  });

  it("pulls a private image with alice on the first attempt, digests as pushed", async () => {
    const dir = fresh();
    const outcome = await pullImage(`${token}/private/app:1`, { to: parseDestination(`oci:${dir}:private`), credential: alice });
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.fellBack).toBe(false);
    expect(outcome.image.digest).toBe(privateApp.manifestDigest);
    const expected = [privateApp.manifestDigest, privateApp.configDigest, ...privateApp.layers.map((l) => l.digest)].map(hex).sort();
    expect(await blobNames(dir)).toEqual(expected);
    expect(outcome.image.bytes).toBeGreaterThan(privateApp.layers.reduce((sum, l) => sum + l.size, 0));
  });

  it("fails with auth after two attempts when bob pulls a private image, leaving no index", async () => {
    const dir = fresh();
    const error = await pullImage(`${token}/private/app:1`, { to: parseDestination(`oci:${dir}`), credential: bob }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).kind).toBe("auth");
    expect((error as PullError).attempts).toHaveLength(2);
    expect((error as PullError).message).not.toContain(world.users.bob.password);
    expect(existsSync(join(dir, "index.json"))).toBe(false);
  });
});

describe("what other tools read", () => {
  it("skopeo inspects the OCI layout by tag", async () => {
    const dir = fresh();
    await pullImage(`${world.registries.open.host}/public/app:1`, { to: parseDestination(`oci:${dir}:v1`) });
    const { stdout } = await run("skopeo", ["inspect", `oci:${dir}:v1`]);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string };
    expect(inspected.Digest).toBe(publicApp.manifestDigest);
    expect(inspected.Layers).toEqual(publicApp.layers.map((l) => l.digest));
    expect(inspected.Architecture).toBe("amd64");
  });

  it("docker load accepts the docker-archive, tagged, with the layers' diff IDs", async () => {
    const file = join(fresh() + ".tar");
    const outcome = await pullImage(`${token}/public/app:1`, { to: parseDestination(`docker-archive:${file}`) });
    expect(outcome.image.destination).toBe(`docker-archive:${file}`);
    expect(await readdir(scratch)).not.toContainEqual(expect.stringMatching(/pullback/)); // staging and temp files gone
    const { stdout } = await run("docker", ["-H", world.dockerHost, "load", "-i", file]);
    expect(stdout).toContain(`Loaded image: ${token}/public/app:1`);
    const inspect = await run("docker", ["-H", world.dockerHost, "image", "inspect", `${token}/public/app:1`]);
    const [image] = JSON.parse(inspect.stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    expect(image?.Id).toBe(publicApp.configDigest);
    expect(image?.RootFS.Layers).toEqual(publicApp.layers.map((l) => l.diffId));
    await run("docker", ["-H", world.dockerHost, "image", "rm", `${token}/public/app:1`]);
  });
});

describe("platforms", () => {
  it.each(["linux/amd64", "linux/arm64"])("picks %s from public/multi:1", async (platform) => {
    const dir = fresh();
    const outcome = await pullImage(`${token}/public/multi:1`, { to: parseDestination(`oci:${dir}:m`), platform });
    const wanted = publicMulti.platforms?.[platform];
    expect(outcome.image.digest).toBe(wanted?.manifestDigest);
    expect(outcome.image.platform).toBe(platform === "linux/arm64" ? "linux/arm64/v8" : platform);
    expect(await blobNames(dir)).toEqual(
      [wanted!.manifestDigest, wanted!.configDigest, ...wanted!.layers.map((l) => l.digest)].map(hex).sort(),
    );
  });

  it("keeps the whole index with allPlatforms and refuses a platform that is not offered", async () => {
    const dir = fresh();
    const outcome = await pullImage(`${token}/public/multi:1`, { to: parseDestination(`oci:${dir}:all`), allPlatforms: true });
    expect(outcome.image.digest).toBe(publicMulti.manifestDigest);
    expect(outcome.image.layers).toBe(2);
    const { stdout } = await run("skopeo", ["inspect", "--raw", `oci:${dir}:all`]);
    expect((JSON.parse(stdout) as { manifests: unknown[] }).manifests).toHaveLength(2);
    const error = await pullImage(`${token}/public/multi:1`, { to: parseDestination(`oci:${dir}:s390x`), platform: "linux/s390x" }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: "platform", message: expect.stringContaining("linux/amd64, linux/arm64/v8") });
  });
});

describe("one layout, several images", () => {
  it("stores shared blobs once and keeps both names in index.json", async () => {
    const dir = fresh();
    await pullImage(`${token}/public/app:1`, { to: parseDestination(`oci:${dir}:first`) });
    await clearProxyRequests(world);
    await pullImage(`${world.faultProxy.host}/public/app:1`, { to: parseDestination(`oci:${dir}:second`) });
    const requests = await proxyRequests(world);
    expect(requests.filter((r) => r.path.includes("/blobs/"))).toEqual([]);
    expect(await blobNames(dir)).toHaveLength(2 + publicApp.layers.length);
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"])).toEqual(["first", "second"]);
  });
});

describe("faults", () => {
  const proxied = `${world.faultProxy.host}/public/app:1`;
  const layer = publicApp.layers[1]!;

  it("rejects a corrupted layer, keeping neither it nor an index entry", async () => {
    const dir = fresh();
    await setFaults(world, [{ match: { method: "GET", path: `/blobs/${layer.digest}` }, action: { type: "corrupt", offset: 1000 } }]);
    const error = await pullImage(proxied, { to: parseDestination(`oci:${dir}:x`) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).cause).toMatchObject({ kind: "integrity", message: expect.stringContaining(layer.digest) });
    expect((error as PullError).attempts).toHaveLength(1);
    const names = existsSync(join(dir, "blobs", "sha256")) ? await blobNames(dir) : [];
    expect(names.filter((name) => name.startsWith(hex(layer.digest)))).toEqual([]);
    expect(existsSync(join(dir, "index.json"))).toBe(false);
  });

  it("resumes an interrupted pull on the next run with a Range request", async () => {
    const dir = fresh();
    await setFaults(world, [{ match: { method: "GET", path: `/blobs/${layer.digest}` }, action: { type: "reset", afterBytes: 200_000 } }]);
    const error = await pullImage(proxied, { to: parseDestination(`oci:${dir}:x`) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "network" });
    expect(existsSync(join(dir, "blobs", "sha256", `${hex(layer.digest)}.partial`))).toBe(true);
    expect(existsSync(join(dir, "index.json"))).toBe(false);
    await clearFaults(world);
    await clearProxyRequests(world);
    const outcome = await pullImage(proxied, { to: parseDestination(`oci:${dir}:x`) });
    expect(outcome.image.digest).toBe(publicApp.manifestDigest);
    const layerGets = (await proxyRequests(world)).filter((r) => r.path.includes(layer.digest));
    expect(layerGets.map((r) => r.status)).toEqual([206]);
    expect((await blobNames(dir)).some((name) => name.endsWith(".partial"))).toBe(false);
  });
});
