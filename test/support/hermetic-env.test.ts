import { describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { hermeticEnv, testEnv } from "./hermetic-env.js";

const AMBIENT_NAMES =
  /^(DOCKER_|PULLBACK_REGISTRY_|HTTPS?_PROXY$|https?_proxy$|ALL_PROXY$|all_proxy$|NO_PROXY$|no_proxy$|XDG_RUNTIME_DIR$|SSH_AUTH_SOCK$|DEBUG$)/;

describe("the test environment", () => {
  it("carries none of the machine's Docker, proxy or pullback variables, and a HOME of its own", () => {
    // Under scripts/hostile-env.sh all of these are set in the ambient environment.
    expect(Object.keys(process.env).filter((name) => AMBIENT_NAMES.test(name))).toEqual([]);
    expect(process.env.HOME?.startsWith(tmpdir())).toBe(true);
    expect(process.env.HOME).toContain("pullback-test-home-");
  });

  it("keeps PATH and the runner's knobs and drops everything else", () => {
    const env = hermeticEnv(
      {
        PATH: "/bin",
        HOME: "/home/me",
        DOCKER_HOST: "unix:///x",
        HTTPS_PROXY: "http://dead",
        PULLBACK_REGISTRY_TOKEN: "t",
        FUZZ_RUNS: "5",
        npm_config_proxy: "http://dead",
      },
      "/tmp/h",
    );
    expect(env).toEqual({
      PATH: "/bin",
      FUZZ_RUNS: "5",
      HOME: "/tmp/h",
      HERMETIC_TEST_HOME: "/tmp/h",
      XDG_CACHE_HOME: "/home/me/.cache",
      npm_config_cache: "/home/me/.npm",
    });
  });

  it("gives a child exactly the base plus what the test sets", () => {
    const env = testEnv({ DOCKER_CONFIG: "/tmp/c" });
    expect(env.DOCKER_CONFIG).toBe("/tmp/c");
    expect(env.HOME).toBe(process.env.HOME);
    expect(Object.keys(env).filter((name) => AMBIENT_NAMES.test(name))).toEqual(["DOCKER_CONFIG"]);
  });
});
