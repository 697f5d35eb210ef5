/**
 * A 1 GiB image (4 × 256 MiB layers) for the memory figure: built once into the
 * fixture cache with the world's own layout writer, pushed to the open registry
 * per run of the suite.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ImageSpec } from "../../test/world/fixture-specs.js";
import { fixtureCacheDir } from "../../test/world/fixtures.js";
import { writeOciLayout } from "../../test/world/oci-layout.js";
import type { FixtureImage, WorldInfo } from "../../test/world/types.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

const SPEC: ImageSpec = {
  key: "publicBig",
  repository: "public/huge",
  tag: "1",
  platforms: [
    {
      architecture: "amd64",
      os: "linux",
      layers: [1, 2, 3, 4].map((n) => [{ kind: "random", path: `huge-${n}.bin`, size: 256 * MiB, seed: `public/huge ${n}` }]),
    },
  ],
};

/**
 * Build (or reuse) public/huge:1 and push it to the open registry; returns its reference.
 *
 * @example
 * const ref = await pushHugeImage(info); // "127.0.0.1:PORT/public/huge:1"
 */
export async function pushHugeImage(info: WorldInfo): Promise<{ ref: string; image: FixtureImage; buildMs: number }> {
  const started = performance.now();
  const dir = join(fixtureCacheDir(), "bench-public_huge");
  let image = await readFile(join(dir, "fixture.json"), "utf8").then(
    (text) => JSON.parse(text) as FixtureImage,
    () => null,
  );
  if (image === null) {
    const temp = `${dir}.building-${process.pid}`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { recursive: true });
    image = await writeOciLayout(SPEC, join(temp, "layout"));
    await writeFile(join(temp, "fixture.json"), JSON.stringify(image));
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  }
  const buildMs = performance.now() - started;
  const ref = `${info.registries.open.host}/${SPEC.repository}:${SPEC.tag}`;
  await run("/usr/bin/skopeo", [
    "copy",
    "--preserve-digests",
    "--quiet",
    "--dest-tls-verify=false",
    `oci:${join(dir, "layout")}:${SPEC.tag}`,
    `docker://${ref}`,
  ]);
  return { ref, image, buildMs };
}
