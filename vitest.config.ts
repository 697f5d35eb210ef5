import { defineConfig } from "vitest/config";

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
