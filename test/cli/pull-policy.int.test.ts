/**
 * `pullback pull` means what `docker pull` means (issue #19, item 2): the registry is
 * asked every time, a moved tag or another platform is pulled, refused credentials are
 * noticed on every run — and `--pull missing|never` give the ensure-only behaviour, the
 * same on the local daemon, over SSH and without a daemon. Real dockerd, registries, sshd.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearProxyRequests, engineRequest, getWorld, proxyRequests, removeAllImages } from "../world/client.js";
import { cliEnv, registryCredentials } from "../support/cli-env.js";
import { buildOnce, cleanHome, runCli, type CliRun } from "./run-cli.js";

const world = getWorld();
/** The token registry behind the recording proxy: every request the daemon or pullback sends is seen. */
const proxied = (repo: string): string => `${world.faultProxy.host}/${repo}`;
const home = cleanHome();
const scratch = mkdtempSync(join(tmpdir(), "pullback-policy-"));
const ssh = ["--host", world.ssh.url, "-i", world.ssh.keyFile, "--known-hosts", world.ssh.knownHostsFile];

function env(credentials?: { username: string; password: string }): NodeJS.ProcessEnv {
  return cliEnv(world, home, credentials === undefined ? {} : registryCredentials(credentials));
}
const wrongPassword = { username: world.users.alice.username, password: world.users.wrongPassword };

async function inspect(name: string): Promise<{ Id: string; Architecture: string; RepoDigests: string[] } | undefined> {
  const answer = await engineRequest(world, "GET", `/images/${encodeURIComponent(name)}/json`);
  return answer.status === 200 ? (JSON.parse(answer.body) as { Id: string; Architecture: string; RepoDigests: string[] }) : undefined;
}

async function requestsSeen(): Promise<{ manifests: number; blobs: number }> {
  const seen = await proxyRequests(world);
  return {
    manifests: seen.filter((r) => r.path.includes("/manifests/")).length,
    blobs: seen.filter((r) => r.path.includes("/blobs/")).length,
  };
}

const expectCode = (run: CliRun, code: number): void => expect(run.code, `stderr:\n${run.stderr}`).toBe(code);

beforeAll(() => buildOnce(), 180_000);
beforeEach(async () => {
  await removeAllImages(world);
  await clearProxyRequests(world);
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe("pullback pull (default --pull always) on the local daemon", () => {
  it("asks the registry again when the image is there: one manifest request, no blob, 'up to date'", async () => {
    expectCode(await runCli(["pull", proxied("public/app:1"), "--no-credentials"], { env: env() }), 0);
    await clearProxyRequests(world);
    const again = await runCli(["pull", proxied("public/app:1"), "--no-credentials"], { env: env() });
    expectCode(again, 0);
    expect(again.stderr).toMatch(/✓ .*public\/app:1 is up to date \(sha256:/);
    const seen = await requestsSeen();
    expect(seen.manifests).toBeGreaterThanOrEqual(1);
    expect(seen.manifests).toBeLessThanOrEqual(2);
    expect(seen.blobs).toBe(0);
  });

  it("pulls the right digest when the tag in the daemon names another image (a stale tag)", async () => {
    expectCode(await runCli(["pull", proxied("public/multi:1"), "--no-credentials"], { env: env() }), 0);
    const [repo, tag] = [`${world.faultProxy.host}/public/app`, "1"];
    const tagged = await engineRequest(
      world,
      "POST",
      `/images/${encodeURIComponent(proxied("public/multi:1"))}/tag?repo=${encodeURIComponent(repo)}&tag=${tag}`,
    );
    expect(tagged.status).toBe(201);
    const stale = await inspect(proxied("public/app:1"));

    const run = await runCli(["pull", proxied("public/app:1"), "--no-credentials"], { env: env() });
    expectCode(run, 0);
    expect(run.stderr).toMatch(/Pulled .*public\/app:1/);
    const fresh = await inspect(proxied("public/app:1"));
    expect(fresh?.Id).not.toBe(stale?.Id);
    expect(fresh?.RepoDigests).toContain(`${repo}@${world.fixtures.publicApp.manifestDigest}`);
  });

  it("pulls amd64 when an arm64 copy is there and --platform linux/amd64 is asked for", async () => {
    expectCode(await runCli(["pull", proxied("public/multi:1"), "--platform", "linux/arm64", "--no-credentials"], { env: env() }), 0);
    expect((await inspect(proxied("public/multi:1")))?.Architecture).toBe("arm64");
    const run = await runCli(["pull", proxied("public/multi:1"), "--platform", "linux/amd64", "--no-credentials"], { env: env() });
    expectCode(run, 0);
    expect((await inspect(proxied("public/multi:1")))?.Architecture).toBe("amd64");
  });

  it("a locally built name is used as it is, never looked up on Docker Hub", async () => {
    expectCode(await runCli(["pull", proxied("public/app:1"), "--no-credentials"], { env: env() }), 0);
    const tagged = await engineRequest(
      world,
      "POST",
      `/images/${encodeURIComponent(proxied("public/app:1"))}/tag?repo=policy-local&tag=dev`,
    );
    expect(tagged.status).toBe(201);
    const run = await runCli(["pull", "policy-local:dev"], { env: env() });
    expectCode(run, 0);
    expect(run.stderr).toMatch(
      /policy-local:dev is already in the Docker daemon; a name without a registry or namespace is only looked up locally/,
    );
  });

  it("a wrong password with --fail-on-fallback exits 6 on the second run too", async () => {
    const first = await runCli(["pull", proxied("public/app:1"), "--fail-on-fallback"], { env: env(wrongPassword) });
    expectCode(first, 6);
    const second = await runCli(["pull", proxied("public/app:1"), "--fail-on-fallback"], { env: env(wrongPassword) });
    expectCode(second, 6);
    expect(second.stderr).toMatch(/refused/);
  });

  it("a wrong password with --no-fallback fails although the image is there", async () => {
    expectCode(await runCli(["pull", proxied("public/app:1"), "--no-credentials"], { env: env() }), 0);
    const run = await runCli(["pull", proxied("public/app:1"), "--no-fallback"], { env: env(wrongPassword) });
    expectCode(run, 3);
    expect(run.stderr).toMatch(/refused|unauthorized/);
  });
});

describe("pullback pull --pull missing|never", () => {
  it("missing: an image that is there is used without any registry request", async () => {
    expectCode(await runCli(["pull", proxied("public/app:1"), "--no-credentials"], { env: env() }), 0);
    await clearProxyRequests(world);
    const run = await runCli(["pull", proxied("public/app:1"), "--pull", "missing"], { env: env(wrongPassword) });
    expectCode(run, 0);
    expect(run.stderr).toMatch(/already in the Docker daemon; --pull missing does not ask the registry/);
    expect(await proxyRequests(world)).toHaveLength(0);
  });

  it("missing: an image of another platform is not enough", async () => {
    expectCode(await runCli(["pull", proxied("public/multi:1"), "--platform", "linux/arm64", "--no-credentials"], { env: env() }), 0);
    expectCode(
      await runCli(["pull", proxied("public/multi:1"), "--platform", "linux/amd64", "--pull", "missing", "--no-credentials"], {
        env: env(),
      }),
      0,
    );
    expect((await inspect(proxied("public/multi:1")))?.Architecture).toBe("amd64");
  });

  it("never: a missing image fails with exit 4 and no registry request", async () => {
    const run = await runCli(["pull", proxied("public/app:1"), "--pull", "never", "--no-credentials"], { env: env() });
    expectCode(run, 4);
    expect(run.stderr).toMatch(/does not hold .*public\/app:1, and --pull never forbids fetching it/);
    expect(await proxyRequests(world)).toHaveLength(0);
  });

  it("an unknown policy is a usage error", async () => {
    const run = await runCli(["pull", proxied("public/app:1"), "--pull", "newer"], { env: env() });
    expectCode(run, 2);
    expect(run.stderr).toMatch(/Allowed choices are always, missing, never/);
  });

  it("over SSH: always says 'up to date' the second time; missing sends nothing", async () => {
    expectCode(await runCli(["pull", proxied("public/app:1"), ...ssh, "--no-credentials"], { env: env() }), 0);
    const again = await runCli(["pull", proxied("public/app:1"), ...ssh, "--no-credentials"], { env: env() });
    expectCode(again, 0);
    expect(again.stderr).toMatch(/is up to date/);
    await clearProxyRequests(world);
    const missing = await runCli(["pull", proxied("public/app:1"), ...ssh, "--pull", "missing", "--no-credentials"], { env: env() });
    expectCode(missing, 0);
    expect(missing.stderr).toMatch(/already in the Docker daemon on .*--pull missing/);
    expect(await proxyRequests(world)).toHaveLength(0);
  });

  it.each(["oci", "docker-archive"] as const)(
    "without a daemon (%s): missing reuses the destination, never fails when it is empty",
    async (kind) => {
      const to = kind === "oci" ? `oci:${join(scratch, "layout")}:app` : `docker-archive:${join(scratch, "app.tar")}`;
      const never = await runCli(["pull", proxied("public/app:1"), "--to", to, "--pull", "never", "--no-credentials"], { env: env() });
      expectCode(never, 4);
      expect(never.stderr).toMatch(/--pull never/);
      expectCode(await runCli(["pull", proxied("public/app:1"), "--to", to, "--no-credentials"], { env: env() }), 0);
      await clearProxyRequests(world);
      const missing = await runCli(["pull", proxied("public/app:1"), "--to", to, "--pull", "missing", "--json", "--no-credentials"], {
        env: env(),
      });
      expectCode(missing, 0);
      expect(await proxyRequests(world)).toHaveLength(0);
      const outcome = JSON.parse(missing.stdout.trim().split("\n").at(-1) ?? "{}") as { image?: { digest?: string; platform?: string } };
      expect(outcome.image?.digest).toBe(world.fixtures.publicApp.manifestDigest);
      expect(outcome.image?.platform).toBe("linux/amd64");
      const other = await runCli(
        ["pull", proxied("public/app:1"), "--to", to, "--pull", "never", "--platform", "linux/s390x", "--no-credentials"],
        { env: env() },
      );
      expectCode(other, 4);
      expect(other.stderr).toMatch(/only for linux\/amd64/);
    },
  );
});
