import type { TestProject } from "vitest/node";
import type { WorldInfo } from "./types.js";
import { startWorld } from "./world.js";

declare module "vitest" {
  export interface ProvidedContext {
    world: WorldInfo;
  }
}

/**
 * vitest globalSetup of the integration project: one world for the run,
 * handed to the test workers with `inject("world")` (see client.ts getWorld).
 *
 * @example
 * // vitest.config.ts: globalSetup: ["test/world/global-setup.ts"]
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const world = await startWorld({ big: process.env.PULLBACK_WORLD_BIG === "1" });
  process.stderr.write(`[world] started in ${(world.info.startupMs / 1000).toFixed(1)} s (${world.info.stateDir})\n`);
  project.provide("world", world.info);
  return async () => {
    const started = Date.now();
    await world.stop();
    process.stderr.write(`[world] stopped in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  };
}
