/**
 * The environment every test runs in: built from scratch, never inherited.
 *
 * pullback reads DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, HOME (~/.docker), the
 * proxy variables and PULLBACK_REGISTRY_* by default — right for a user, wrong for a
 * test, which must give the same result on any contributor's machine. vitest.config.ts
 * calls `applyHermeticEnv()` before the world starts, so the world, every test worker
 * and every child they spawn see only what is listed here plus what a test sets itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

/** Passed through unchanged: how to find programs, the locale, and the test runner's own knobs. */
const KEPT = new Set(["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "CI", "USER", "LOGNAME", "TERM"]);
const KEPT_PREFIXES = ["VITEST", "NODE_", "npm_", "FUZZ_", "UPDATE_FIXTURES", "PULLBACK_WORLD_", "PULLBACK_DEBUG_TRANSCRIPT"];

/** Marks an environment this module already built, so test workers do not build another. */
const MARKER = "HERMETIC_TEST_HOME";

/**
 * The environment a test starts from: the kept variables, a fresh empty HOME, and the
 * caches (fixture images, npm) still pointing at the machine's — caches, not configuration.
 *
 * @example
 * const env = hermeticEnv(process.env, mkdtempSync(join(tmpdir(), "home-")));
 */
export function hermeticEnv(ambient: NodeJS.ProcessEnv, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(ambient)) {
    if (KEPT.has(name) || KEPT_PREFIXES.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  // npm passes its proxy settings on as npm_config_*; they would reach the package test's npm only, but drop them anyway.
  for (const name of Object.keys(env)) if (/^npm_config_(https?_)?proxy$/i.test(name)) delete env[name];
  const ambientHome = ambient.HOME || homedir();
  env.XDG_CACHE_HOME = ambient.XDG_CACHE_HOME || join(ambientHome, ".cache");
  env.npm_config_cache = ambient.npm_config_cache || join(ambientHome, ".npm");
  env.HOME = home;
  env[MARKER] = home;
  return env;
}

/**
 * Replace this process's environment with the hermetic one (once per test run).
 *
 * @example
 * // vitest.config.ts
 * applyHermeticEnv();
 */
export function applyHermeticEnv(): void {
  if (process.env[MARKER] !== undefined && process.env[MARKER] === process.env.HOME) return;
  const home = mkdtempSync(join(tmpdir(), "pullback-test-home-"));
  const env = hermeticEnv(process.env, home);
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
  process.once("exit", () => rmSync(home, { recursive: true, force: true }));
}

/**
 * The environment for one child process: the hermetic base and what the test needs.
 *
 * @example
 * spawn("skopeo", args, { env: testEnv({ DOCKER_CONFIG: dir }) });
 */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (KEPT.has(name) || KEPT_PREFIXES.some((prefix) => name.startsWith(prefix)) || name === "HOME" || name === "XDG_CACHE_HOME") {
      base[name] = value;
    }
  }
  return { ...base, ...extra };
}
