/**
 * The built CLI against the real world: each exit code by a real scenario, the
 * JSON stream, terminal and non-terminal output — and no secret in any output.
 */
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getWorld, removeAllImages } from "../world/client.js";
import { cliEnv, registryCredentials, sshFlags } from "../support/cli-env.js";
import { BIN, buildOnce, cleanHome, closedPort, runCli, runs, type CliRun } from "../support/run-cli.js";

const world = getWorld();
const registry = world.registries.token.host;
const image = (repo: string): string => `${registry}/${repo}`;
const home = cleanHome();
const secrets = [world.users.alice.password, world.users.bob.password, world.users.wrongPassword];

/** The environment of every run: the world's daemon, no Docker config, optional env credentials. */
function env(user?: "alice" | "bob"): NodeJS.ProcessEnv {
  return cliEnv(world, home, user === undefined ? {} : registryCredentials(world.users[user]));
}

const ssh = sshFlags(world);

const jsonLines = (run: CliRun): Record<string, unknown>[] =>
  run.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(() => buildOnce(), 180_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("pullback pull — exit codes by real scenarios", () => {
  it("0: a public image with a valid account that has no access falls back, warns, succeeds", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("public/app:1")], { env: env("bob") });
    expect(run.stderr).toMatch(
      /warning: the credentials from PULLBACK_REGISTRY_USERNAME and PULLBACK_REGISTRY_TOKEN were refused by .*pulling anonymously instead/,
    );
    expect(run.stderr).toMatch(/Retrying .* anonymously/);
    expect(run.code).toBe(0);
  });

  it("6: the same with --fail-on-fallback", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("public/app:1"), "--fail-on-fallback"], { env: env("bob") });
    expect(run.stderr).toMatch(/refused/);
    expect(run.code).toBe(6);
  });

  it("3: a private image with a valid account that has no access, diagnosis without stack", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("private/app:1")], { env: env("bob") });
    // The registry answers a valid account without access as it answers a missing repository: said so (#19).
    expect(run.stderr).toMatch(/error: .*private\/app:1 was not found, or these credentials may not read it/);
    expect(run.stderr).toMatch(/What to do:\n {2}1\. /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(3);
  });

  it("0: a private image with good credentials from --password-stdin", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("private/app:1"), "--username", world.users.alice.username, "--password-stdin"], {
      env: env(),
      stdin: `${world.users.alice.password}\n`,
    });
    expect(run.stderr).toMatch(/Pulled .*private\/app:1 \(sha256:/);
    expect(run.stderr).not.toMatch(/warning/);
    expect(run.code).toBe(0);
  });

  it("4: a repository that does not exist, with credentials that can read everything", async () => {
    const run = await runCli(["pull", image("public/missing:1")], { env: env("alice") });
    expect(run.stderr).toMatch(/not found/);
    expect(run.code).toBe(4);
  });

  it("5: a registry on a closed port", async () => {
    const run = await runCli(["pull", `127.0.0.1:${await closedPort()}/team/app:1`, "-q"], { env: env() });
    expect(run.stderr).toMatch(/could not be reached/);
    expect(run.code).toBe(5);
  });

  it("7: --platform that the image does not offer, on the remote path over SSH", async () => {
    const run = await runCli(["pull", image("public/app:1"), ...ssh, "--platform", "linux/arm64", "--no-credentials"], { env: env() });
    expect(run.stderr).toMatch(/platform|arm64/);
    expect(run.code).toBe(7);
  });

  it("2: an unknown flag", async () => {
    const run = await runCli(["pull", image("public/app:1"), "--no-such-flag"], { env: env() });
    expect(run.stderr).toMatch(/unknown option '--no-such-flag'/);
    expect(run.code).toBe(2);
  });

  it("0: the remote path over SSH with --tag-as", async () => {
    const run = await runCli(["pull", image("public/app:1"), ...ssh, "--tag-as", "cli-test/app:dev", "--no-credentials", "--json"], {
      env: env(),
    });
    const outcome = jsonLines(run).at(-1);
    expect(outcome).toMatchObject({ type: "outcome", fellBack: false, image: { tags: ["cli-test/app:dev"] } });
    expect(run.code).toBe(0);
  });
});

describe("pullback pull — output", () => {
  it("--json: only JSON lines on stdout, library events as they are, the outcome last", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("public/app:1"), "--json"], { env: env("bob") });
    const lines = jsonLines(run);
    const types = lines.map((l) => l["type"]);
    expect(types.slice(0, 1)).toEqual(["attempt-started"]);
    expect(types).toContain("layer");
    expect(types).toContain("warning");
    expect(types.filter((t) => t === "outcome")).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ type: "outcome", fellBack: true, warnings: [expect.stringMatching(/refused/)] });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("--json: a failure ends with an error line carrying the diagnosis and the attempts", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("private/app:1"), "--json"], { env: env("bob") });
    const last = jsonLines(run).at(-1);
    expect(last).toMatchObject({ type: "error", kind: "auth", diagnosis: { summary: expect.any(String) } });
    expect((last?.["attempts"] as unknown[]).length).toBe(2);
    expect(run.code).toBe(3);
  });

  it("without a terminal: plain lines, one per layer state change, no carriage return", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", image("public/app:1"), "--no-credentials"], { env: env() });
    expect(run.stderr).not.toContain("\r");
    expect(run.stderr).toMatch(/^[0-9a-f]{12}: Downloading$/m);
    expect(run.code).toBe(0);
  });

  it("on a terminal (script(1)): live bars with bytes, an overall bar", async () => {
    if (!existsSync("/usr/bin/script")) throw new Error("script(1) is needed for the terminal test (bsdutils)");
    await removeAllImages(world);
    const command = `${process.execPath} ${BIN} pull ${image("public/app:1")} --no-credentials`;
    const result = spawnSync("script", ["-qfec", command, "/dev/null"], { env: { ...env(), COLUMNS: "120" }, encoding: "utf8" });
    runs.push({ code: result.status, stdout: result.stdout, stderr: result.stderr });
    expect(result.stdout).toMatch(/overall/);
    expect(result.stdout).toMatch(/█/);
    expect(result.stdout).toMatch(/\d+(\.\d)? [kM]?B\/\d+(\.\d)? [kM]?B/);
    expect(result.status).toBe(0);
  });
});

describe("pullback check", () => {
  it("0 for accepted credentials, saying where they came from and whether anonymous pulls work", async () => {
    const run = await runCli(["check", image("private/app:1"), "--username", world.users.alice.username, "--password-stdin"], {
      env: env(),
      stdin: world.users.alice.password,
    });
    expect(run.stdout).toMatch(/^ACCEPTED .*private\/app — the credentials given with --password-stdin: .*anonymous pull: refused$/m);
    expect(run.code).toBe(0);
  });

  it("-v shows each HTTP exchange with the registry, without the Authorization", async () => {
    const run = await runCli(["check", image("private/app:1"), "-v"], { env: env("alice") });
    expect(run.stderr).toMatch(/^.*GET http:\/\/127\.0\.0\.1:\d+\/token\?.*→ 200$/m);
    expect(run.stderr).toMatch(/HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/private\/app\/manifests\/1 → 200/);
    expect(run.stderr).not.toMatch(/authorization|bearer|basic [a-z0-9+/=]{8,}/i);
    expect(run.code).toBe(0);
  });

  it("3 for refused credentials, even where anonymous pulls work", async () => {
    const run = await runCli(["check", image("public/app:1")], { env: env("bob") });
    expect(run.stdout).toMatch(/^NO-ACCESS .*PULLBACK_REGISTRY_TOKEN.*anonymous pull: allowed$/m);
    expect(run.code).toBe(3);
  });

  it("0 without credentials when anonymous pulls work; one line per target", async () => {
    const run = await runCli(["check", image("public/app:1"), image("private/app:1")], { env: env() });
    expect(run.stdout.trim().split("\n")).toHaveLength(2);
    expect(run.code).toBe(3);
    const ok = await runCli(["check", image("public/app:1")], { env: env() });
    expect(ok.code).toBe(0);
  });
});

describe("pullback cluster-config", () => {
  it("--dry-run keeps accepted credentials, masked, and writes nothing", async () => {
    const output = join(home, "registries.yaml");
    const run = await runCli(
      [
        "cluster-config",
        "--registry",
        registry,
        "--verify-repo",
        "private/app",
        "--output",
        output,
        "--dry-run",
        "--password-stdin",
        "--username",
        world.users.alice.username,
      ],
      {
        env: env(),
        stdin: world.users.alice.password,
      },
    );
    expect(run.stdout).toMatch(/password: "\*\*\*"/);
    expect(run.stderr).toMatch(/accepted — credentials kept/);
    expect(existsSync(output)).toBe(false);
    expect(run.code).toBe(0);
  });

  it("drops refused credentials with a warning", async () => {
    const run = await runCli(
      ["cluster-config", "--registry", registry, "--verify-repo", "private/app", "--output", join(home, "r.yaml"), "--dry-run"],
      { env: env("bob") },
    );
    expect(run.stdout).not.toMatch(/auth:/);
    expect(run.stderr).toMatch(/warning: .*left out/);
    expect(run.code).toBe(0);
  });
});

describe("secrets", () => {
  it("no fixture password appears in any output of any run", () => {
    expect(runs.length).toBeGreaterThan(10);
    for (const run of runs) {
      for (const secret of secrets) {
        expect(run.stdout.includes(secret) || run.stderr.includes(secret)).toBe(false);
      }
    }
  });
});
