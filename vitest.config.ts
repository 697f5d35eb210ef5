import { defineConfig } from "vitest/config";
import { applyHermeticEnv } from "./test/support/hermetic-env.js";

// Before anything else: the world, the workers and their children see a clean
// environment, never the machine's DOCKER_*, proxies, ~/.docker or PULLBACK_*.
applyHermeticEnv();

// Two projects: fast unit tests that need nothing, and integration tests that
// run against the real world (dockerd, registries, token service, sshd) started
// once by the global setup and shared, so they run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.int.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts"],
          globalSetup: ["test/world/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
