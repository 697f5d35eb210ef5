/**
 * A destination the filesystem can never hold is an error at once: Node 20's recursive
 * mkdir spins forever under /proc, so pullback must not be the one that calls it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { buildOnce, cleanHome, runCli } from "../cli/run-cli.js";
import { testEnv } from "../support/hermetic-env.js";
import { getWorld } from "../world/client.js";

const world = getWorld();
const home = cleanHome();
const env = testEnv({ HOME: home, NO_COLOR: "1" });
beforeAll(() => buildOnce(), 180_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe.runIf(process.platform === "linux")("a destination under /proc", () => {
  for (const to of ["oci:/proc/pullback-x:1", "docker-archive:/proc/pullback-x/app.tar"]) {
    it(`--to ${to} fails within seconds with an io error that names it`, async () => {
      const started = Date.now();
      const run = await Promise.race([
        runCli(["pull", `${world.registries.open.host}/public/app:1`, "--to", to, "--no-credentials"], { env }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`pullback --to ${to} still running after 20 s`)), 20_000)),
      ]);
      // The CLI's own start and the manifest request take most of this; the directory fails at once.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("/proc/pullback-x");
      expect(run.code).toBe(8);
      expect(run.stderr).toMatch(/Could not create \/proc\/pullback-x: ENOENT/);
    }, 30_000);
  }
});
