/**
 * cluster-config at its edges (issue #19, item 5), as a user runs it against the real
 * token registry: nothing to write writes nothing (never a `null` document), a credential
 * already in registries.yaml survives a different credential being refused, and every
 * warning is made of whole sentences.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { getWorld } from "../world/client.js";
import { buildOnce, cleanHome, closedPort, runCli, runs } from "./run-cli.js";

const world = getWorld();
const registry = world.registries.token.host;
const home = cleanHome();
const { alice, bob } = world.users;

function env(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, DOCKER_CONFIG: join(home, ".docker"), NO_COLOR: "1" };
}

/** A Docker config holding `user:password` for the registry, as `docker login` writes it. */
function dockerLogin(user: string, password: string): void {
  mkdirSync(join(home, ".docker"), { recursive: true });
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  writeFileSync(join(home, ".docker", "config.json"), JSON.stringify({ auths: { [registry]: { auth } } }));
}

beforeAll(() => buildOnce(), 180_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("pullback cluster-config — edges", () => {
  it("a registry that needs nothing: no file and no 'null', but a sentence saying there is nothing to write", async () => {
    const output = join(home, "nothing.yaml");
    const host = `127.0.0.1:${await closedPort()}`;
    const run = await runCli(["cluster-config", "--registry", host, "--output", output], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/Nothing to write: no registry needs a mirror, TLS settings or credentials/);
    expect(run.stderr).not.toMatch(/Wrote/);
    expect(existsSync(output)).toBe(false);

    const dry = await runCli(["cluster-config", "--registry", host, "--output", output, "--dry-run"], { env: env() });
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toMatch(/null/);
    expect(dry.stdout.trim()).toBe("");
    expect(dry.stderr).toMatch(/Nothing to write/);
  });

  it("a hand-written credential survives a different (Docker config) credential being refused, and --explain says so", async () => {
    const output = join(home, "merge.yaml");
    writeFileSync(
      output,
      `# by hand\nconfigs:\n  "${registry}":\n    auth:\n      username: "${alice.username}"\n      password: "${alice.password}"\n`,
    );
    dockerLogin(alice.username, world.users.wrongPassword);
    const run = await runCli(
      ["cluster-config", "--registry", registry, "--verify-repo", "private/app:1", "--output", output, "--explain"],
      { env: env() },
    );
    expect(run.code).toBe(0);
    const written = parse(readFileSync(output, "utf8")) as { configs: Record<string, { auth?: { username?: string; password?: string } }> };
    expect(written.configs[registry]?.auth).toEqual({ username: alice.username, password: alice.password });
    expect(run.stderr).toMatch(/the credentials already in the file kept/);
    expect(run.stderr).toMatch(
      /warning: .* rejected the credentials in ~\/\.docker\/config\.json \(auths\[[^\]]+\]\): .*\. pullback kept the credentials already in .*merge\.yaml \(configs\."[^"]+"\.auth\), which the registry accepts\./,
    );
    expect(run.stderr).toMatch(/were kept\./);
  });

  it("a credential in the file that is refused itself is removed, and that is said out loud", async () => {
    const output = join(home, "refused.yaml");
    writeFileSync(
      output,
      `configs:\n  "${registry}":\n    auth:\n      username: "${alice.username}"\n      password: "${world.users.wrongPassword}"\n`,
    );
    rmSync(join(home, ".docker"), { recursive: true, force: true });
    const run = await runCli(
      ["cluster-config", "--registry", registry, "--verify-repo", "private/app:1", "--output", output, "--explain"],
      { env: env() },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/the credentials in the file removed \(refused\)/);
    expect(run.stderr).toMatch(
      /warning: .*rejected the credentials already in .*refused\.yaml .*pullback removed them from .*refused\.yaml, so nodes will pull from .* anonymously\./,
    );
    expect(readFileSync(output, "utf8")).not.toContain(world.users.wrongPassword);
  });

  it("a refusal is a whole sentence: who refused whom access to what", async () => {
    dockerLogin(bob.username, bob.password);
    const run = await runCli(
      ["cluster-config", "--registry", registry, "--verify-repo", "private/app:1", "--output", join(home, "bob.yaml"), "--dry-run"],
      { env: env() },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(
        `warning: ${registry.replace(/\./g, "\\.")} refused access to ${registry.replace(/\./g, "\\.")}/private/app:1 for the credentials in ~/\\.docker/config\\.json \\(auths\\["[^"]+"\\]\\): the credentials are valid but have no pull access .*\\. These credentials were left out, so nodes will pull from \\S+ anonymously\\.`,
      ),
    );
  });

  it("no secret appears in any output of these runs", () => {
    expect(runs.length).toBeGreaterThanOrEqual(5);
    for (const run of runs) {
      for (const secret of [alice.password, bob.password, world.users.wrongPassword])
        expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
    }
  });
});
