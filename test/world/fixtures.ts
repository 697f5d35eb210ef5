import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { FIXTURE_VERSION, fixtureSpecs, type ImageSpec } from "./fixture-specs.js";
import { writeOciLayout } from "./oci-layout.js";
import type { FixtureImage, UserCredentials, WorldInfo } from "./types.js";

const run = promisify(execFile);

/** A fixture image built on disk, ready to push. */
export interface BuiltFixture {
  readonly spec: ImageSpec;
  readonly layoutDir: string;
  readonly image: FixtureImage;
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/pullback-world/<version>` */
export function fixtureCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(base, "pullback-world", FIXTURE_VERSION);
}

async function readCached(dir: string): Promise<FixtureImage | null> {
  try {
    return JSON.parse(await readFile(join(dir, "fixture.json"), "utf8")) as FixtureImage;
  } catch {
    return null;
  }
}

/** Builds into a private temp dir and renames it into place, so concurrent worlds never see half a layout. */
async function buildOne(spec: ImageSpec, cacheDir: string): Promise<BuiltFixture> {
  const dir = join(cacheDir, spec.repository.replace("/", "_"));
  const cached = await readCached(dir);
  if (cached !== null) return { spec, layoutDir: join(dir, "layout"), image: cached };
  const temp = await mkdtemp(join(cacheDir, ".building-"));
  try {
    const image = await writeOciLayout(spec, join(temp, "layout"));
    await writeFile(join(temp, "fixture.json"), JSON.stringify(image, null, 2));
    await rename(temp, dir).catch(async (error: unknown) => {
      // Another world finished first: theirs is identical.
      if ((await readCached(dir)) === null) throw error;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return { spec, layoutDir: join(dir, "layout"), image: (await readCached(dir))! };
}

/**
 * The fixture images as OCI layouts, built once per FIXTURE_VERSION and cached.
 *
 * @example
 * const built = await buildFixtures({ big: false });
 */
export async function buildFixtures(options: { big: boolean }): Promise<BuiltFixture[]> {
  const cacheDir = fixtureCacheDir();
  await mkdir(cacheDir, { recursive: true });
  const built: BuiltFixture[] = [];
  for (const spec of fixtureSpecs(options.big)) built.push(await buildOne(spec, cacheDir));
  return built;
}

/** A containers-auth.json for `hosts` with `user`: credentials go in a file, never on argv. */
export async function writeAuthFile(file: string, hosts: readonly string[], user: UserCredentials): Promise<void> {
  const auth = Buffer.from(`${user.username}:${user.password}`).toString("base64");
  const auths = Object.fromEntries(hosts.map((host) => [host, { auth }]));
  await writeFile(file, JSON.stringify({ auths }), { mode: 0o600 });
}

/**
 * Pushes every fixture to `host` with skopeo, digests preserved.
 *
 * @example
 * await pushFixtures(built, "127.0.0.1:5000", `${stateDir}/auth.json`);
 */
export async function pushFixtures(built: readonly BuiltFixture[], host: string, authFile: string): Promise<void> {
  for (const { spec, layoutDir } of built) {
    const args = [
      "copy",
      "--all",
      "--preserve-digests",
      "--quiet",
      "--retry-times",
      "2",
      "--dest-tls-verify=false",
      "--dest-authfile",
      authFile,
      `oci:${layoutDir}:${spec.tag}`,
      `docker://${host}/${spec.repository}:${spec.tag}`,
    ];
    try {
      await run("/usr/bin/skopeo", args, { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? "";
      throw new Error(`pushing ${spec.repository}:${spec.tag} to ${host} failed: ${stderr.trim()}`, { cause: error });
    }
  }
}

/** The fixtures as WorldInfo reports them. */
export function fixtureInfo(built: readonly BuiltFixture[]): WorldInfo["fixtures"] {
  const byKey = new Map(built.map((b) => [b.spec.key, b.image]));
  const need = (key: ImageSpec["key"]): FixtureImage => {
    const image = byKey.get(key);
    if (image === undefined) throw new Error(`fixture ${key} was not built`);
    return image;
  };
  const publicBig = byKey.get("publicBig");
  const publicLayers = byKey.get("publicLayers");
  return {
    publicApp: need("publicApp"),
    privateApp: need("privateApp"),
    publicMulti: need("publicMulti"),
    ...(publicBig === undefined ? {} : { publicBig }),
    ...(publicLayers === undefined ? {} : { publicLayers }),
    set: built.filter((b) => b.spec.key.startsWith("set:")).map((b) => b.image),
  };
}
