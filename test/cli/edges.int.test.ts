/**
 * The edges of issue #19 a user meets first, reproduced with the user's own commands
 * against the real world: pipes that close early (item 1), references with bad ports or
 * a scheme (item 6), and --json, flags, progress and config errors (item 8).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, exitCodeFor } from "../../src/cli/exit-codes.js";
import { PullbackError } from "../../src/errors.js";
import { clearFaults, engineRequest, getWorld, removeAllImages, setFaults } from "../world/client.js";
import { cliEnv } from "../support/cli-env.js";
import { BIN, ROOT, buildOnce, cleanHome, runCli, runs, type CliRun } from "./run-cli.js";

const world = getWorld();
const registry = world.registries.token.host;
const image = (repo: string): string => `${registry}/${repo}`;

function env(home: string = cleanHome(), extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cliEnv(world, home, extra);
}

/** `bash -c "pullback ARGS | READER"`: pullback's own exit status and stderr, as the shell sees them. */
function piped(args: string, reader: string, environment: NodeJS.ProcessEnv): CliRun {
  const script = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args} 2>"$ERR" | ${reader} >/dev/null; echo "\${PIPESTATUS[0]}"`;
  const errFile = join(environment["HOME"] ?? "/tmp", "stderr.txt");
  const result = spawnSync("bash", ["-c", script], { cwd: ROOT, env: { ...environment, ERR: errFile }, encoding: "utf8" });
  const run = { code: Number(result.stdout.trim()), stdout: "", stderr: existsSync(errFile) ? readFileSync(errFile, "utf8") : "" };
  runs.push(run);
  return run;
}

async function inDaemon(name: string): Promise<boolean> {
  return (await engineRequest(world, "GET", `/images/${encodeURIComponent(name)}/json`)).status === 200;
}

beforeAll(() => buildOnce(), 180_000);
afterEach(() => clearFaults(world));

describe("pipes that close early (item 1)", () => {
  it.each(["head -1", "true"])("pullback --help | %s: exit 0, no stack", (reader) => {
    const run = piped("--help", reader, env());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("pullback check A B | head -1 (and | true): exit 0, no stack", () => {
    for (const reader of ["head -1", "true"]) {
      const run = piped(`check ${image("public/app:1")} ${image("public/multi:1")} --no-credentials`, reader, env());
      expect(run.stderr, reader).not.toMatch(/EPIPE|\n\s+at /);
      expect(run.code, reader).toBe(0);
    }
  });

  it("pullback pull … --json | head -3 (and | true): the pull finishes, exit 0, no stack", async () => {
    for (const reader of ["head -3", "true"]) {
      await removeAllImages(world);
      const run = piped(`pull ${image("public/app:1")} --json --no-credentials`, reader, env());
      expect(run.stderr, reader).toBe("");
      expect(run.code, reader).toBe(0);
      expect(await inDaemon(image("public/app:1")), `${reader}: the image is in the daemon afterwards`).toBe(true);
    }
  });
});

describe("references (item 6)", () => {
  it.each([
    ["127.0.0.1:99999/public/app:1", /port 99999 .*out of range \(valid ports are 1–65535\)/],
    ["127.0.0.1:0/public/app:1", /port 0 .*out of range \(valid ports are 1–65535\)/],
    [`http://${registry}/public/app:1`, /references have no scheme; drop http:\/\//],
  ])("pullback pull %s: usage error, exit 2, saying what is wrong", async (reference, message) => {
    const run = await runCli(["pull", reference], { env: env() });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/Invalid URL|empty port/);
    expect(run.code).toBe(2);
  });

  it("pullback check 127.0.0.1:99999: the same for a bare registry host", async () => {
    const run = await runCli(["check", "127.0.0.1:99999"], { env: env() });
    expect(run.stderr).toMatch(/port 99999 .*out of range/);
    expect(run.code).toBe(2);
  });
});

describe("--json and flags (item 8)", () => {
  it("an unknown option under --json: one JSON error line, no 'error: error:', nothing on stderr", async () => {
    const run = await runCli(["pull", image("public/app:1"), "--no-such-flag", "--json"], { env: env() });
    expect(run.stderr).toBe("");
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ type: "error", kind: "usage", message: "unknown option '--no-such-flag'" });
    expect(run.code).toBe(2);
  });

  it("-q with -v is a usage error", async () => {
    const run = await runCli(["pull", image("public/app:1"), "-q", "-v"], { env: env() });
    expect(run.stderr).toMatch(/'-q, --quiet' cannot be used with option '-v, --verbose'/);
    expect(run.code).toBe(2);
  });

  it("attempt-failed.message is the daemon's words, without the client's '(HTTP code 500) server error - ' and trailing space", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("public/app:1"), "--json"], {
      env: env(undefined, { PULLBACK_REGISTRY_USERNAME: world.users.alice.username, PULLBACK_REGISTRY_TOKEN: world.users.wrongPassword }),
    });
    const failed = run.stdout
      .split("\n")
      .filter((l) => l.includes('"attempt-failed"'))
      .map((l) => JSON.parse(l) as { message: string });
    expect(failed).toHaveLength(1);
    const message = failed[0]?.message ?? "";
    expect(message).toMatch(/unauthorized/);
    expect(message).not.toMatch(/HTTP code|server error - /);
    expect(message).toBe(message.trim());
    expect(run.code).toBe(0);
  });

  it("a malformed Docker config exits with the code docs/cli.md gives it", async () => {
    const home = cleanHome();
    mkdirSync(join(home, ".docker"));
    writeFileSync(join(home, ".docker", "config.json"), '{"auths": {');
    const run = await runCli(["pull", image("public/app:1")], { env: env(home) });
    const expected = exitCodeFor(new PullbackError("config", "x"));
    expect(run.code).toBe(expected);
    expect(run.stderr).toMatch(/Docker config/);
    const row = readFileSync(join(ROOT, "docs", "cli.md"), "utf8")
      .split("\n")
      .find((line) => line.startsWith(`| ${expected} |`));
    expect(row, `the exit code table's row ${expected} names the malformed Docker config`).toMatch(/malformed .*Docker config/);
    expect(expected).not.toBe(ExitCode.success);
  });

  it("on a terminal the bars show speed, as docs/cli.md says", async () => {
    if (!existsSync("/usr/bin/script")) throw new Error("script(1) is needed for the terminal test (bsdutils)");
    await removeAllImages(world);
    // Slow blobs down so a speed can be measured (it is shown after 0.2 s).
    await setFaults(world, [{ match: { path: "/blobs/" }, action: { type: "delay", ms: 600 } }]);
    const command = `${process.execPath} ${BIN} pull ${world.faultProxy.host}/public/app:1 --no-credentials`;
    const result = spawnSync("script", ["-qfec", command, "/dev/null"], { env: env(), encoding: "utf8" });
    runs.push({ code: result.status, stdout: result.stdout, stderr: result.stderr });
    expect(result.stdout).toMatch(/\d+(\.\d)? [kM]?B\/s/);
    expect(result.status).toBe(0);
    expect(readFileSync(join(ROOT, "docs", "cli.md"), "utf8")).toMatch(/on a terminal one live bar per layer \(bytes, speed\)/);
  });
});
