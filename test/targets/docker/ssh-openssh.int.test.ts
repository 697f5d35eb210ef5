/**
 * The OpenSSH transport against real sshds: aliases, a ProxyJump bastion, user and host
 * certificates, a Docker context, StrictHostKeyChecking policies, and every refusal
 * ssh reports — each compared with what `DOCKER_HOST=ssh://… docker` does with the same
 * configuration. Only ssh configurations generated here or by the world are used (-F),
 * never the machine's ~/.ssh.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PullbackError } from "../../../src/errors.js";
import { connectDocker } from "../../../src/targets/docker/connect-docker.js";
import { pullRemoteImage } from "../../../src/targets/docker/pull-remote-image.js";
import { buildOnce, cleanHome, closedPort, runCli } from "../../cli/run-cli.js";
import { engineRequest, getWorld } from "../../world/client.js";
import { descendants } from "../../world/process.js";
import { expectNoSecrets, rejectionOf, removeAllImages, user } from "./helpers.js";

const run = promisify(execFile);
const world = getWorld();
const config = world.sshRoutes.configFile;
const scratch = mkdtempSync(join(tmpdir(), "pullback-openssh-test-"));
const image = (repo: string) => `${world.registries.token.host}/${repo}`;

/** "Accepted publickey" lines in an sshd log: one per SSH connection. */
const accepted = (logFile: string): string[] =>
  readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes("Accepted publickey"));

/** A PATH whose `ssh` reads `configFile` (as if it were ~/.ssh/config), for the docker CLI; it dumps its argv and environment too. */
function sshShim(configFile: string): string {
  const dir = mkdtempSync(join(scratch, "shim-"));
  writeFileSync(
    join(dir, "ssh"),
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv.$$"\nenv > "${dir}/env.$$"\nexec /usr/bin/ssh -F '${configFile}' "$@"\n`,
  );
  chmodSync(join(dir, "ssh"), 0o755);
  return dir;
}

/** `docker` (the docker.io CLI) with a test-local config dir and the shim's ssh. */
async function dockerCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("/usr/bin/docker", args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** A config that includes the world's and adds `hosts` (alias → lines). */
function configWith(name: string, hosts: Record<string, string[]>): string {
  const file = join(scratch, name);
  const blocks = Object.entries(hosts).map(([alias, lines]) => [`Host ${alias}`, ...lines.map((l) => `  ${l}`)].join("\n"));
  writeFileSync(file, [...blocks, `Host *`, `  Include ${config}`, ""].join("\n"), { mode: 0o600 });
  return file;
}

const buildboxAt = (knownHosts: string, extra: string[] = []): string[] => [
  "HostName 127.0.0.1",
  `Port ${world.ssh.port}`,
  "User root",
  `IdentityFile ${world.ssh.keyFile}`,
  "IdentitiesOnly yes",
  `UserKnownHostsFile ${knownHosts}`,
  ...extra,
];

/** The ssh processes this test process started that still run. */
const liveSshChildren = (): number[] =>
  descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "ssh";
    } catch {
      return false;
    }
  });

const reasonOf = (error: unknown): string | undefined => (error as PullbackError).reason;

beforeAll(() => buildOnce(), 180_000);
beforeEach(() => removeAllImages(world));

describe("pullback reaches every host DOCKER_HOST=ssh://ALIAS docker reaches, over one SSH connection", () => {
  const routes = [
    { alias: "buildbox", what: "an alias with a non-default port, user, key and known_hosts", log: world.ssh.logFile },
    { alias: "behind", what: "a host only reachable through a ProxyJump bastion", log: world.sshRoutes.targetLogFile },
    { alias: "certbox", what: "a user certificate and a host certificate (@cert-authority)", log: world.ssh.logFile },
  ];
  for (const route of routes) {
    it(`${route.alias}: ${route.what}`, async () => {
      const shim = sshShim(config);
      const docker = await dockerCli(["info", "--format", "{{.Architecture}}"], {
        PATH: `${shim}:/usr/bin:/bin`,
        HOME: cleanHome(),
        DOCKER_HOST: `ssh://${route.alias}`,
      });
      expect(docker.code, docker.stderr).toBe(0);

      const before = accepted(route.log).length;
      const bastionBefore = accepted(world.sshRoutes.bastionLogFile).length;
      const outcome = await pullRemoteImage(`ssh://${route.alias}`, image("public/multi:1"), {
        sshConfigFile: config,
        credential: null,
        tagAs: `via-${route.alias}:1`,
      });
      expect(outcome.image.platform).toBe(`linux/${docker.stdout.trim() === "x86_64" ? "amd64" : docker.stdout.trim()}`);
      expect(outcome.image.tags).toEqual([`via-${route.alias}:1`]);
      expect((await engineRequest(world, "GET", `/images/via-${route.alias}:1/json`)).status).toBe(200);
      const lines = accepted(route.log).slice(before);
      expect(lines).toHaveLength(1);
      if (route.alias === "certbox") expect(lines[0]).toMatch(/ED25519-CERT .* ID pullback-world-user .* CA ED25519/);
      expect(accepted(world.sshRoutes.bastionLogFile).length - bastionBefore).toBe(route.alias === "behind" ? 1 : 0);
      // The ssh child ends with the pull.
      await expect.poll(liveSshChildren, { timeout: 5_000 }).toEqual([]);
    });
  }

  it("DOCKER_HOST=ssh://buildbox docker pull also opens one SSH connection per pull (README's comparison)", async () => {
    const before = accepted(world.ssh.logFile).length;
    const pulled = await dockerCli(["pull", "-q", image("public/app:1")], {
      PATH: `${sshShim(config)}:/usr/bin:/bin`,
      HOME: cleanHome(),
      DOCKER_HOST: "ssh://buildbox",
    });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(accepted(world.ssh.logFile).length - before).toBe(1);
  });

  it("the target behind the bastion really is unreachable without it", async () => {
    const error = await rejectionOf(connectDocker({ host: "ssh://behind-direct", sshConfigFile: config }));
    expect(error).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-host-unreachable" });
    expect((error as Error).message).toContain(
      `cannot reach ssh://behind-direct (root@${world.sshRoutes.targetAddress}): Connection refused`,
    );
  });

  it("a Docker context whose endpoint is ssh://ALIAS, for the docker CLI and for pullback", async () => {
    const dockerConfig = mkdtempSync(join(scratch, "docker-config-"));
    const env = { PATH: `${sshShim(config)}:/usr/bin:/bin`, HOME: cleanHome(), DOCKER_CONFIG: dockerConfig };
    expect((await dockerCli(["context", "create", "buildbox-ctx", "--docker", "host=ssh://buildbox"], env)).code).toBe(0);
    expect((await dockerCli(["context", "use", "buildbox-ctx"], env)).code).toBe(0);
    expect((await dockerCli(["info", "--format", "{{.ServerVersion}}"], env)).code).toBe(0);

    const docker = await connectDocker({ env: { DOCKER_CONFIG: dockerConfig }, sshConfigFile: config });
    try {
      expect(docker.endpoint).toBe("ssh://buildbox");
      expect(docker.remoteHost).toBe("buildbox");
    } finally {
      docker.close();
    }
    const before = accepted(world.ssh.logFile).length;
    const cli = await runCli(["pull", image("public/app:1"), "--ssh-config", config, "--no-credentials", "--json"], {
      env: { PATH: process.env.PATH, HOME: cleanHome(), DOCKER_CONFIG: dockerConfig, NO_COLOR: "1" },
    });
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.stringify(cli.stdout)).toContain("buildbox");
    expect(accepted(world.ssh.logFile).length - before).toBe(1);
  });
});

describe("StrictHostKeyChecking as the user set it", () => {
  const empty = (): string => {
    const file = join(mkdtempSync(join(scratch, "kh-")), "known_hosts");
    writeFileSync(file, "");
    return file;
  };

  it("yes / ask (BatchMode): an unknown host is refused with the ssh-keyscan step for the real host and port", async () => {
    for (const policy of ["yes", "ask"]) {
      const knownHosts = empty();
      const file = configWith(`strict-${policy}`, { strict: buildboxAt(knownHosts, [`StrictHostKeyChecking ${policy}`]) });
      const error = await rejectionOf(connectDocker({ host: "ssh://strict", sshConfigFile: file }));
      expect(error).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-host-key-unknown" });
      expect((error as Error).message).toContain(`is not in ${knownHosts}`);
      expect((error as PullbackError).diagnosis?.steps[0]?.command).toBe(`ssh-keyscan -p ${world.ssh.port} 127.0.0.1 >> ${knownHosts}`);
      expect(readFileSync(knownHosts, "utf8")).toBe("");
    }
  });

  it("accept-new (the user's, or --accept-unknown-host-key): connects and records the key, as ssh does", async () => {
    const knownHosts = empty();
    const file = configWith("accept-new", { acceptnew: buildboxAt(knownHosts, ["StrictHostKeyChecking accept-new"]) });
    (await connectDocker({ host: "ssh://acceptnew", sshConfigFile: file })).close();
    expect(readFileSync(knownHosts, "utf8")).toContain(`[127.0.0.1]:${world.ssh.port} ssh-ed25519 `);

    const flagged = empty();
    (
      await connectDocker({
        host: world.ssh.url,
        identityFile: world.ssh.keyFile,
        knownHostsFile: flagged,
        acceptUnknownHostKey: true,
        sshConfigFile: "/dev/null",
      })
    ).close();
    expect(readFileSync(flagged, "utf8")).toContain(`[127.0.0.1]:${world.ssh.port} ssh-ed25519 `);
  });

  it("a changed key is refused even with --accept-unknown-host-key, naming ssh's own removal command", async () => {
    const dir = mkdtempSync(join(scratch, "changed-"));
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(
      knownHosts,
      `[127.0.0.1]:${world.ssh.port} ${readFileSync(join(dir, "key.pub"), "utf8").split(" ").slice(0, 2).join(" ")}\n`,
    );
    const error = await rejectionOf(
      connectDocker({ host: "ssh://buildbox", sshConfigFile: config, knownHostsFile: knownHosts, acceptUnknownHostKey: true }),
    );
    expect(error).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-host-key-changed" });
    expect((error as Error).message).toContain(`does not match ${knownHosts} (line 1)`);
    expect((error as PullbackError).diagnosis?.steps[0]?.command).toBe(`ssh-keygen -f ${knownHosts} -R '[127.0.0.1]:${world.ssh.port}'`);
  });

  it("a @revoked host key is refused", async () => {
    const knownHosts = join(mkdtempSync(join(scratch, "revoked-")), "known_hosts");
    const hostKey = readFileSync(join(world.stateDir, "ssh", "ssh_host_ed25519_key.pub"), "utf8")
      .split(" ")
      .slice(0, 2)
      .join(" ");
    writeFileSync(knownHosts, `@revoked [127.0.0.1]:${world.ssh.port} ${hostKey}\n${readFileSync(world.ssh.knownHostsFile, "utf8")}`);
    const error = await rejectionOf(connectDocker({ host: "ssh://buildbox", sshConfigFile: config, knownHostsFile: knownHosts }));
    expect(error).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-host-key-revoked" });
  });

  it("a host certificate from a CA nobody trusts is an unknown host", async () => {
    const file = configWith("untrusted-ca", { untrusted: buildboxAt(empty(), ["StrictHostKeyChecking yes"]) });
    const error = await rejectionOf(connectDocker({ host: "ssh://untrusted", sshConfigFile: file }));
    expect(reasonOf(error)).toBe("ssh-host-key-unknown");
  });
});

describe("every SSH failure has its diagnosis, from ssh's own words", () => {
  it("authentication refused: names the keys offered (fingerprints), never their contents", async () => {
    const dir = mkdtempSync(join(scratch, "stranger-"));
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
    const error = await rejectionOf(
      connectDocker({
        host: world.ssh.url,
        identityFile: join(dir, "key"),
        knownHostsFile: world.ssh.knownHostsFile,
        sshConfigFile: "/dev/null",
      }),
    );
    expect(error).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-auth-refused" });
    const fingerprint = (await run("ssh-keygen", ["-l", "-f", join(dir, "key.pub")])).stdout.split(" ")[1]!;
    expect((error as Error).message).toMatch(/SSH refused the key/);
    expect((error as Error).message).toContain(`${join(dir, "key")} ED25519 ${fingerprint}`);
    const text = JSON.stringify({ error, diagnosis: (error as PullbackError).diagnosis, message: (error as Error).message });
    for (const line of readFileSync(join(dir, "key"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("-----")))
      expect(text).not.toContain(line);
  });

  it("host unreachable, bastion unreachable, target unreachable behind the bastion", async () => {
    const dead = await closedPort();
    const file = configWith("unreachable", {
      deadjump: [...buildboxAt(world.ssh.knownHostsFile), `ProxyJump root@127.0.0.1:${dead}`],
      nowhere: ["HostName 127.0.0.1", `Port ${dead}`, "User root", "ProxyJump bastion", `IdentityFile ${world.ssh.keyFile}`],
    });
    const direct = await rejectionOf(connectDocker({ host: `ssh://root@127.0.0.1:${dead}`, sshConfigFile: "/dev/null" }));
    expect(direct).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-host-unreachable" });
    expect((direct as Error).message).toContain("Connection refused");

    const bastion = await rejectionOf(connectDocker({ host: "ssh://deadjump", sshConfigFile: file }));
    expect(bastion).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-bastion-unreachable" });
    expect((bastion as Error).message).toContain(`cannot reach the bastion (ProxyJump root@[127.0.0.1]:${dead})`);
    expect((bastion as PullbackError).diagnosis?.steps[0]?.command).toBe(`ssh -F ${file} 'ssh://root@[127.0.0.1]:${dead}' true`);

    const behind = await rejectionOf(connectDocker({ host: "ssh://nowhere", sshConfigFile: file }));
    expect(behind).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-target-unreachable" });
    expect((behind as Error).message).toContain(`the bastion was reached (ProxyJump bastion), but it cannot connect to 127.0.0.1:${dead}`);
  });

  it("docker missing on the host (exit 127) and its daemon down", async () => {
    const missing = await rejectionOf(connectDocker({ host: "ssh://nodocker", sshConfigFile: config }));
    expect(missing).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-remote-docker-missing" });
    expect((missing as Error).message).toMatch(/docker CLI is not installed on ssh:\/\/nodocker .*docker: command not found/);

    const down = await rejectionOf(connectDocker({ host: "ssh://bastion", sshConfigFile: config }));
    expect(down).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-remote-daemon-down" });
    expect((down as Error).message).toContain("no-docker.sock");
    expect((down as PullbackError).diagnosis?.steps[0]?.command).toBe(`ssh -F ${config} bastion sudo systemctl start docker`);
  });

  it("no ssh client at all", async () => {
    const error = await rejectionOf(
      connectDocker({ host: "ssh://buildbox", sshConfigFile: config, sshCommand: join(scratch, "no-such-ssh") }),
    );
    expect(error).toMatchObject({ kind: "daemon-unreachable", reason: "ssh-client-missing" });
  });

  it("the CLI exits 5 with the diagnosis, and nothing prompts", async () => {
    const cli = await runCli(["pull", image("public/app:1"), "--host", "ssh://nodocker", "--ssh-config", config, "--no-credentials"], {
      env: { PATH: process.env.PATH, HOME: cleanHome(), NO_COLOR: "1" },
    });
    expect(cli.code).toBe(5);
    expect(cli.stderr).toMatch(/docker CLI is not installed on ssh:\/\/nodocker/);
    expect(cli.stderr).toContain(`ssh -F ${config} nodocker command -v docker`);
  });
});

describe("a platform the host cannot run (#19 item 3)", () => {
  for (const platform of ["linux/arm64", "linux/s390x"]) {
    it(`--platform ${platform} is refused before pulling, with runnable suggestions`, async () => {
      const cli = await runCli(
        [
          "pull",
          image("public/multi:1"),
          "--host",
          "ssh://buildbox",
          "--ssh-config",
          config,
          "--platform",
          platform,
          "--tag-as",
          "multi:arm",
          "--no-credentials",
        ],
        { env: { PATH: process.env.PATH, HOME: cleanHome(), NO_COLOR: "1" } },
      );
      expect(cli.code).toBe(7);
      expect(cli.stderr).not.toMatch(/Pulled/);
      expect(cli.stderr).toMatch(/would not run on buildbox, which runs linux\/amd64; nothing was pulled/);
      expect(cli.stderr).toContain(`$ pullback pull ${image("public/multi:1")} --host ssh://buildbox --ssh-config ${config}\n`);
      expect((await engineRequest(world, "GET", `/images/${image("public/multi:1")}/json`)).status).toBe(404);
      expect((await engineRequest(world, "GET", "/images/multi:arm/json")).status).toBe(404);
    });
  }

  it("the suggestions keep -i, --known-hosts and --ssh-config", async () => {
    const error = await rejectionOf(
      pullRemoteImage(world.ssh.url, image("public/multi:1"), {
        identityFile: world.ssh.keyFile,
        knownHostsFile: world.ssh.knownHostsFile,
        sshConfigFile: "/dev/null",
        platform: "linux/arm64",
        credential: user(world, "alice"),
      }),
    );
    expect(error).toMatchObject({ kind: "platform", reason: "platform-not-runnable" });
    const command = (error as PullbackError).diagnosis?.steps[0]?.command;
    expect(command).toBe(
      `pullback pull ${image("public/multi:1")} --host ${world.ssh.url} -i ${world.ssh.keyFile} --known-hosts ${world.ssh.knownHostsFile} --ssh-config /dev/null`,
    );
    expectNoSecrets(world, error);
  });

  it("an image that turns out to be of another architecture is removed again, and no ✓ Pulled is said", async () => {
    // A single-platform arm64 image: dockerd 20.10 hands it over even when asked for linux/amd64.
    const armOnly = `${world.registries.open.host}/public/armonly:1`;
    await run("skopeo", [
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--override-arch",
      "arm64",
      `docker://${world.registries.open.host}/public/multi:1`,
      `docker://${armOnly}`,
    ]);
    const cli = await runCli(
      ["pull", armOnly, "--host", "ssh://buildbox", "--ssh-config", config, "--tag-as", "armonly:dev", "--no-credentials"],
      { env: { PATH: process.env.PATH, HOME: cleanHome(), NO_COLOR: "1" } },
    );
    expect(cli.code).toBe(7);
    expect(cli.stderr).not.toMatch(/Pulled/);
    expect(cli.stderr).toMatch(/on buildbox is arm64, but the host runs amd64/);
    expect(cli.stderr).toMatch(/pullback removed the .*armonly:1 it pulled from buildbox again/);
    expect((await engineRequest(world, "GET", `/images/${armOnly}/json`)).status).toBe(404);
    expect((await engineRequest(world, "GET", "/images/armonly:dev/json")).status).toBe(404);
  });
});

describe("secrets never reach ssh", () => {
  it("the ssh child's argv and environment hold no registry secret", async () => {
    const shim = sshShim(config);
    // pullback runs the `ssh` on PATH (here the shim, which adds -F); the credential comes from the environment.
    const cli = await runCli(["pull", image("private/app:1"), "--host", "ssh://buildbox"], {
      env: {
        PATH: `${shim}:${process.env.PATH ?? ""}`,
        HOME: cleanHome(),
        NO_COLOR: "1",
        PULLBACK_REGISTRY_TOKEN: world.users.alice.password,
        PULLBACK_REGISTRY_USERNAME: "alice",
      },
    });
    expect(cli.code, cli.stderr).toBe(0);
    const dumps = readdirSync(shim).filter((n) => n.startsWith("argv.") || n.startsWith("env."));
    expect(dumps.length).toBeGreaterThanOrEqual(2);
    const text = dumps.map((n) => readFileSync(join(shim, n), "utf8")).join("\n");
    expect(text).toContain("dial-stdio");
    for (const secret of [world.users.alice.password, world.users.bob.password]) expect(text.includes(secret)).toBe(false);
    expect(text).not.toMatch(/PULLBACK_REGISTRY/);
  });
});
