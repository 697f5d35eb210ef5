/**
 * The daemonless pull's destinations against the real world, as a user meets them: a wrong
 * platform costs one small request, a corrupted blob is named with both digests, an archive
 * path that is a directory is refused before any request, an archive of another image is not
 * replaced unless asked, a moving oci: tag is said out loud, and a directory pullback may not
 * write gets an io diagnosis. Requests are counted in the fault proxy's log.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exitCodeFor } from "../../../src/cli/exit-codes.js";
import { PullbackError } from "../../../src/errors.js";
import type { PullEvent } from "../../../src/events.js";
import { PullError } from "../../../src/fallback/pull-outcome.js";
import { parseDestination, pullImage } from "../../../src/targets/oci/pull-image.js";
import { readTarEntry } from "../../../src/targets/oci/tar.js";
import { buildOnce, cleanHome, runCli } from "../../support/run-cli.js";
import { clearFaults, clearProxyRequests, getWorld, proxyRequests, setFaults } from "../../world/client.js";

const world = getWorld();
const proxied = (repo: string): string => `${world.faultProxy.host}/${repo}`;
const { publicApp, publicMulti } = world.fixtures;
const scratch = mkdtempSync(join(tmpdir(), "pullback-destinations-"));
let counter = 0;
const fresh = (name = "out"): string => join(scratch, `${name}-${++counter}`);

beforeAll(() => {
  // Everyone may enter the scratch directory: the EACCES case runs the CLI as nobody.
  chmodSync(scratch, 0o755);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeEach(async () => {
  await clearFaults(world);
  await clearProxyRequests(world);
});

const blobGets = async (): Promise<string[]> =>
  (await proxyRequests(world)).filter((r) => r.method === "GET" && r.path.includes("/blobs/")).map((r) => r.path);
const failure = async (promise: Promise<unknown>): Promise<PullbackError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PullbackError)) throw new Error(`expected a PullbackError, got ${String(error)}`);
  return error;
};

describe("config before layers", () => {
  it("a single-platform amd64 image asked for as linux/arm64 costs the config blob only: no layer, exit 7, no layout left", async () => {
    const dir = fresh();
    const error = await failure(
      pullImage(proxied("public/app:1"), { to: parseDestination(`oci:${dir}:x`), platform: "linux/arm64", credential: null }),
    );
    expect([error.kind, exitCodeFor(error)]).toEqual(["platform", 7]);
    expect(error.message).toContain("is built for linux/amd64, not linux/arm64");
    expect(await blobGets()).toEqual([`/v2/public/app/blobs/${publicApp.configDigest}`]);
    for (const layer of publicApp.layers) expect((await blobGets()).join(" ")).not.toContain(layer.digest);
    // The run created the layout and nothing in it can serve a later run: it is gone again.
    expect(existsSync(dir)).toBe(false);
  });
});

describe("integrity", () => {
  it("a corrupted layer is refused, naming the blob, the expected and the actual digest; exit 9, no anonymous retry", async () => {
    const layer = publicApp.layers[0]!;
    await setFaults(world, [{ match: { method: "GET", path: `/blobs/${layer.digest}` }, action: { type: "corrupt", offset: 10 } }]);
    const dir = fresh();
    const error = await failure(pullImage(proxied("public/app:1"), { to: parseDestination(`oci:${dir}:x`), credential: null }));
    expect(error).toBeInstanceOf(PullError);
    const pullError = error as PullError;
    expect([pullError.kind, pullError.reason, exitCodeFor(pullError), pullError.attempts.length]).toEqual([
      "integrity",
      "digest-mismatch",
      9,
      1,
    ]);
    expect(pullError.diagnosis.summary).toBe(
      `The registry sent wrong bytes for blob ${layer.digest} of ${world.faultProxy.host}/public/app:1`,
    );
    expect(pullError.diagnosis.explanation).toMatch(new RegExp(`^Expected ${layer.digest}, received sha256:[a-f0-9]{64}\\.`));
    expect(pullError.diagnosis.retryable).toBe(true);
    expect(readdirSync(join(dir, "blobs", "sha256")).filter((name) => name.startsWith(layer.digest.slice(7)))).toEqual([]);
  });
});

describe("docker-archive", () => {
  it("refuses a path that is a directory before any request, leaving nothing behind; exit 8", async () => {
    const parent = fresh("parent");
    const file = join(parent, "app.tar");
    mkdirSync(file, { recursive: true });
    const error = await failure(pullImage(proxied("public/app:1"), { to: parseDestination(`docker-archive:${file}`), credential: null }));
    expect([error.kind, error.reason, exitCodeFor(error)]).toEqual(["io", "is-a-directory", 8]);
    expect(error.diagnosis?.summary).toBe(`${file} is a directory, not a file`);
    expect(await proxyRequests(world)).toEqual([]);
    expect(readdirSync(parent)).toEqual(["app.tar"]);
  });

  it("does not replace an archive of another image unless asked; the same image again is fine", async () => {
    const file = join(fresh("archive"), "app.tar");
    await pullImage(proxied("public/app:1"), { to: parseDestination(`docker-archive:${file}`), credential: null });
    const before = readFileSync(file);
    await pullImage(proxied("public/app:1"), { to: parseDestination(`docker-archive:${file}`), credential: null });

    await clearProxyRequests(world);
    const error = await failure(
      pullImage(proxied("public/multi:1"), { to: parseDestination(`docker-archive:${file}`), platform: "linux/amd64", credential: null }),
    );
    expect([error.kind, error.reason, exitCodeFor(error)]).toEqual(["usage", "destination-exists", 2]);
    expect(error.diagnosis?.summary).toBe(`${file} already holds another image (${world.faultProxy.host}/public/app:1)`);
    expect(error.diagnosis?.steps[0]?.command).toMatch(/--replace$/);
    const amd64 = publicMulti.platforms!["linux/amd64"]!;
    for (const layer of amd64.layers) expect((await blobGets()).join(" ")).not.toContain(layer.digest);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(join(file, "..")).filter((name) => name.includes("pullback"))).toEqual([]);

    const events: PullEvent[] = [];
    await pullImage(proxied("public/multi:1"), {
      to: parseDestination(`docker-archive:${file}`),
      platform: "linux/amd64",
      replace: true,
      credential: null,
      onEvent: (e) => events.push(e),
    });
    expect(
      events.filter((e) => e.type === "warning" && e.code === "destination-replaced").map((e) => (e.type === "warning" ? e.message : "")),
    ).toEqual([`${file} held ${world.faultProxy.host}/public/app:1; it is replaced by ${world.faultProxy.host}/public/multi:1`]);
    const manifest = JSON.parse((await readTarEntry(file, "manifest.json", 1 << 20))!.toString("utf8")) as { RepoTags: string[] }[];
    expect(manifest[0]?.RepoTags).toEqual([`${world.faultProxy.host}/public/multi:1`]);
  });

  it("--all-platforms is refused in user terms before any request", async () => {
    const file = join(fresh("all"), "app.tar");
    const error = await failure(
      pullImage(proxied("public/multi:1"), { to: parseDestination(`docker-archive:${file}`), allPlatforms: true, credential: null }),
    );
    expect(error.kind).toBe("usage");
    expect(error.message).toBe(
      "A docker-archive holds the image of one platform; to keep every platform, pull into an OCI layout (oci:DIR) instead",
    );
    expect(error.message).not.toMatch(/allPlatforms/);
    expect(await proxyRequests(world)).toEqual([]);
  });
});

describe("oci: layout", () => {
  it("says out loud when a tag moves to another image", async () => {
    const dir = fresh();
    await pullImage(proxied("public/app:1"), { to: parseDestination(`oci:${dir}:v`), credential: null });
    const events: PullEvent[] = [];
    const outcome = await pullImage(proxied("public/multi:1"), {
      to: parseDestination(`oci:${dir}:v`),
      platform: "linux/amd64",
      credential: null,
      onEvent: (e) => events.push(e),
    });
    const warnings = events.flatMap((e) => (e.type === "warning" && e.code === "destination-replaced" ? [e.message] : []));
    expect(warnings).toEqual([
      `oci:${dir}:v named ${publicApp.manifestDigest}; it will name ${outcome.image.digest} (${world.faultProxy.host}/public/multi:1). The image it named before stays in the layout, untagged.`,
    ]);
  });

  it("a directory pullback may not write (EACCES, as nobody) gets an io diagnosis, exit 8, before any request", async () => {
    buildOnce();
    const locked = fresh("locked");
    mkdirSync(locked, { mode: 0o755 });
    const home = cleanHome();
    chmodSync(home, 0o755);
    const run = await runCli(["pull", proxied("public/app:1"), "--to", `oci:${join(locked, "layout")}:x`], {
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: "1" },
      command: [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        process.execPath,
        join(import.meta.dirname, "..", "..", "..", "bin", "pullback.cjs"),
      ],
    });
    expect(run.code).toBe(8);
    const lines = run.stderr.split("\n");
    expect(lines[0]).toBe(`error: pullback may not write ${join(locked, "layout")}`);
    expect(run.stderr).toContain("EACCES");
    expect(run.stderr).not.toMatch(/Run again with -v/);
    expect(await proxyRequests(world)).toEqual([]);
    expect(statSync(locked).isDirectory()).toBe(true);
  });
});
