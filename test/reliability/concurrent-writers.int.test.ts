/**
 * Many pullback processes writing to one destination at once, as a CI matrix or a
 * gateway starting sandboxes does: every tag ends in the layout, every blob is whole
 * and hashes to its name, nothing private to a writer is left behind, skopeo reads it;
 * two writers of one docker-archive leave one complete archive, never a mix; and a lock
 * left by a crashed writer does not block the next.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, buildOnce, cleanHome } from "../cli/run-cli.js";
import { testEnv } from "../support/hermetic-env.js";
import { getWorld } from "../world/client.js";

const run = promisify(execFile);
const world = getWorld();
const registry = world.registries.open.host;
const app = `${registry}/public/app:1`;
const multi = `${registry}/public/multi:1`;
const PROCESSES = 8;
const TAGS_PER_PROCESS = 3;
const ROUNDS = 3;
const scratch = mkdtempSync(join(tmpdir(), "pullback-concurrent-"));
const env = testEnv({ HOME: cleanHome(), NO_COLOR: "1" });

beforeAll(() => buildOnce(), 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** One process pulling `pulls` one after another, as `sh -c "pullback … && pullback …"`. */
function writer(pulls: ReadonlyArray<readonly [image: string, to: string]>, flags = ""): Promise<{ code: number | null; output: string }> {
  const script = pulls
    .map(([image, to]) => `"${process.execPath}" "${BIN}" pull "${image}" --to "${to}" --no-credentials -q${flags}`)
    .join(" && ");
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

interface Index {
  manifests: { digest: string; mediaType: string; annotations?: Record<string, string> }[];
}

/** Every blob hashes to its name; every manifest the index names has its config and layers. */
function checkLayout(dir: string): Index {
  const blobs = join(dir, "blobs", "sha256");
  const names = readdirSync(blobs);
  expect(
    names.filter((name) => !/^[a-f0-9]{64}$/.test(name)),
    "only whole blobs are left",
  ).toEqual([]);
  for (const name of names) expect(sha256(join(blobs, name)), `blob ${name}`).toBe(name);
  expect(readdirSync(dir).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as Index;
  const blob = (digest: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(blobs, digest.slice(7)), "utf8")) as Record<string, unknown>;
  const walk = (digest: string): void => {
    const manifest = blob(digest) as { manifests?: { digest: string }[]; config?: { digest: string }; layers?: { digest: string }[] };
    for (const child of manifest.manifests ?? []) if (existsSync(join(blobs, child.digest.slice(7)))) walk(child.digest);
    for (const part of [manifest.config, ...(manifest.layers ?? [])]) if (part) expect(names).toContain(part.digest.slice(7));
  };
  for (const entry of index.manifests) walk(entry.digest);
  return index;
}

describe("eight processes into one OCI layout", () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: ${PROCESSES} × ${TAGS_PER_PROCESS} tags and one tag all share — every tag present, every blob whole`, async () => {
      const dir = join(scratch, `layout-${round}`);
      const expected = new Map<string, string>();
      const writers = Array.from({ length: PROCESSES }, (_, p) => {
        const pulls: Array<readonly [string, string]> = [];
        for (let t = 0; t < TAGS_PER_PROCESS; t++) {
          const tag = `p${p}-t${t}`;
          const image = (p + t) % 2 === 0 ? app : multi;
          expected.set(tag, image);
          pulls.push([image, `oci:${dir}:${tag}`]);
        }
        pulls.push([app, `oci:${dir}:shared`]);
        return writer(pulls);
      });
      expected.set("shared", app);
      const results = await Promise.all(writers);
      for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });

      const index = checkLayout(dir);
      const tags = index.manifests.map((entry) => entry.annotations?.["org.opencontainers.image.ref.name"]);
      expect(tags.sort()).toEqual([...expected.keys()].sort());
      const appEntry = index.manifests.find((entry) => entry.annotations?.["org.opencontainers.image.ref.name"] === "shared");
      expect(appEntry?.digest).toBe(world.fixtures.publicApp.manifestDigest);

      // What skopeo reads: every tag in the last round, the shared one in each.
      const checked = round === ROUNDS ? [...expected.keys()] : ["shared"];
      for (const tag of checked) {
        const { stdout } = await run("skopeo", ["inspect", `oci:${dir}:${tag}`]);
        const wanted =
          expected.get(tag) === app ? world.fixtures.publicApp.layers : world.fixtures.publicMulti.platforms?.["linux/amd64"]?.layers;
        expect((JSON.parse(stdout) as { Layers: string[] }).Layers, tag).toEqual(wanted?.map((layer) => layer.digest));
      }
    }, 300_000);
  }
});

describe("two processes writing one docker-archive", () => {
  it("leave one complete archive of one image, never a mix, and no staging area", async () => {
    for (let round = 1; round <= 2; round++) {
      const file = join(scratch, `archive-${round}.tar`);
      // Each writer replaces whatever the other left (--replace): the last one wins, whole.
      const results = await Promise.all([
        writer([[app, `docker-archive:${file}`]], " --replace"),
        writer([[multi, `docker-archive:${file}`]], " --replace"),
      ]);
      for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });
      const { stdout } = await run("skopeo", ["inspect", `docker-archive:${file}`]);
      const layers = (JSON.parse(stdout) as { Layers: string[] }).Layers;
      const candidates = [world.fixtures.publicApp.layers, world.fixtures.publicMulti.platforms?.["linux/amd64"]?.layers ?? []].map(
        (list) => list.map((layer) => layer.diffId),
      ); // an archive holds uncompressed layers: skopeo names them by diff ID
      expect(candidates).toContainEqual(layers);
      expect(readdirSync(scratch).filter((name) => name.includes(`archive-${round}.tar`))).toEqual([`archive-${round}.tar`]);
    }
  }, 300_000);
});

describe("a lock left by a crashed writer", () => {
  it("is taken over at once when its process is gone", async () => {
    const dir = join(scratch, "crashed");
    await expect(writer([[app, `oci:${dir}:first`]])).resolves.toMatchObject({ code: 0 });
    // A holder that died: a pid that has exited (reaped, so the kernel no longer knows it).
    const dead = spawn("true");
    await new Promise((resolve) => dead.on("close", resolve));
    writeFileSync(join(dir, "index.json.lock"), JSON.stringify({ pid: dead.pid, start: "1", host: hostname() }));
    const started = Date.now();
    await expect(writer([[app, `oci:${dir}:second`]])).resolves.toMatchObject({ code: 0 });
    expect(Date.now() - started).toBeLessThan(15_000);
    const index = checkLayout(dir);
    expect(index.manifests.map((entry) => entry.annotations?.["org.opencontainers.image.ref.name"]).sort()).toEqual(["first", "second"]);
  }, 120_000);
});
