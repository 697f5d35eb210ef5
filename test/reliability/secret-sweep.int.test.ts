/**
 * The secret sweep: the world's random passwords are sentinels. The CLI and the library
 * run the main scenarios; stdout, stderr, JSON events, errors with their causes, files
 * written (other than the credential files themselves), and the argv and environment of
 * every credential helper pullback spawns must hold none of them — in clear, or inside
 * any base64 run (a Basic header, an X-Registry-Auth header, a docker config `auth`).
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PullEvent } from "../../src/events.js";
import { verifyCredentials } from "../../src/registry/verify-credentials.js";
import { writeRegistriesConfig } from "../../src/targets/cluster/write-registries-config.js";
import { connectDocker, type DockerConnection } from "../../src/targets/docker/connect-docker.js";
import { ensureImage } from "../../src/targets/docker/ensure-image.js";
import { pullRemoteImage } from "../../src/targets/docker/pull-remote-image.js";
import { parseDestination, pullImage } from "../../src/targets/oci/pull-image.js";
import { BIN, buildOnce, cleanHome, runCli, type CliRun } from "../support/run-cli.js";
import { removeAllImages, user, wrongPassword } from "../support/pull-helpers.js";
import { blobRequests, clearBlobRequests, clearFaults, getWorld, registryAuthHeader, setFaults } from "../world/client.js";
import { startTlsWorld, type TlsWorld } from "../world/tls-world.js";
import { sshFlags } from "../support/cli-env.js";

const world = getWorld();
const secrets = [world.users.alice.password, world.users.bob.password, world.users.wrongPassword];
const token = world.registries.token.host;
const basic = world.registries.basic.host;
const home = cleanHome();
const helperDump = join(home, "helper-dumps");
const helperSecretFile = join(home, "helper-secret");

/** Every base64/base64url run of 16+ characters, decoded both ways. */
function decodedRuns(text: string): string {
  const runs = text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? [];
  return runs
    .map((run) => `${Buffer.from(run, "base64").toString("latin1")}\n${Buffer.from(run, "base64url").toString("latin1")}`)
    .join("\n");
}

/** Fails naming where a secret appeared, in clear or base64-encoded. */
function expectClean(where: string, text: string): void {
  const decoded = decodedRuns(text);
  for (const secret of secrets) {
    expect(text.includes(secret), `a secret leaked into ${where}`).toBe(false);
    expect(decoded.includes(secret), `a base64-encoded secret leaked into ${where}`).toBe(false);
  }
}

/** Errors with their whole cause chain, as a logger would print them. */
function everything(...things: unknown[]): string {
  return things
    .map(
      (thing) =>
        `${inspect(thing, { depth: 10, showHidden: true })}\n${thing instanceof Error ? (thing.stack ?? "") : ""}\n${safeJson(thing)}`,
    )
    .join("\n");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}

/** Every file under `dir`, as text. */
function filesUnder(dir: string): string {
  if (!statSync(dir, { throwIfNoEntry: false })) return "";
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => `${path}\n${readFileSync(path, "latin1")}`)
    .join("\n");
}

/**
 * A DOCKER_CONFIG where `token` uses the `sweep` credential helper (which dumps its own
 * argv and environment) and `basic` has bob in `auths`.
 */
function dockerConfig(): string {
  const dir = join(home, "docker-config");
  mkdirSync(dir, { recursive: true });
  const auth = Buffer.from(`${world.users.bob.username}:${world.users.bob.password}`).toString("base64");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { [token]: "sweep" }, auths: { [basic]: { auth } } }));
  return dir;
}

function installHelper(): string {
  const bin = join(home, "bin");
  mkdirSync(bin, { recursive: true });
  mkdirSync(helperDump, { recursive: true });
  // The secret lives in a file the helper reads: the script and its argv stay clean.
  writeFileSync(helperSecretFile, world.users.alice.password);
  const script = [
    "#!/bin/sh",
    `dump="${helperDump}/$$"`,
    'printf "%s\\n" "$0" "$@" > "$dump.argv"',
    'cat /proc/self/environ | tr "\\0" "\\n" > "$dump.env"',
    "server=$(cat)",
    `secret=$(cat "${helperSecretFile}")`,
    'printf \'{"ServerURL":"%s","Username":"alice","Secret":"%s"}\' "$server" "$secret"',
    "",
  ].join("\n");
  writeFileSync(join(bin, "docker-credential-sweep"), script);
  chmodSync(join(bin, "docker-credential-sweep"), 0o755);
  return bin;
}

let env: NodeJS.ProcessEnv;
const cliRuns: { name: string; run: CliRun }[] = [];
async function cli(name: string, args: string[], extra: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> {
  const run = await runCli(args, { env: { ...env, ...extra.env }, ...(extra.stdin === undefined ? {} : { stdin: extra.stdin }) });
  cliRuns.push({ name, run });
  return run;
}

let docker: DockerConnection;
beforeAll(async () => {
  buildOnce();
  const bin = installHelper();
  env = {
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    HOME: home,
    DOCKER_CONFIG: dockerConfig(),
    DOCKER_HOST: world.dockerHost,
    NO_COLOR: "1",
  };
  docker = await connectDocker({ host: world.dockerHost });
}, 180_000);
afterAll(() => {
  docker.close();
  rmSync(home, { recursive: true, force: true });
});
beforeEach(async () => {
  await clearFaults(world);
});

const ssh = sshFlags(world);
const bobEnv = { PULLBACK_REGISTRY_USERNAME: world.users.bob.username, PULLBACK_REGISTRY_TOKEN: world.users.bob.password };
const wrongEnv = { PULLBACK_REGISTRY_USERNAME: "alice", PULLBACK_REGISTRY_TOKEN: world.users.wrongPassword };

describe("the scanner itself", () => {
  it("catches a secret inside an X-Registry-Auth header and a Basic header, as modem's debug line would print them", () => {
    const { username, password } = world.users.alice;
    const header = registryAuthHeader({ username, password, serveraddress: token });
    expect(() => expectClean("a control", `modem Sending: { headers: { 'X-Registry-Auth': '${header}' } }`)).toThrow(
      /base64-encoded secret/,
    );
    expect(() => expectClean("a control", `authorization: Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`)).toThrow(
      /base64-encoded secret/,
    );
  });
});

describe("the CLI", () => {
  it("runs the main scenarios; no output holds a secret", async () => {
    await removeAllImages(world);
    const out = join(home, "out");
    const expectations: [string, string[], { env?: NodeJS.ProcessEnv; stdin?: string }, number][] = [
      ["pull, helper credential (alice), private image", ["pull", `${token}/private/app:1`], {}, 0],
      ["pull --json, env bob, fallback", ["--json", "pull", `${token}/public/app:1`], { env: bobEnv }, 0],
      ["pull -v, wrong password on a private image", ["-v", "pull", `${token}/private/app:1`], { env: wrongEnv }, 3],
      [
        "pull over ssh, stdin bob",
        ["pull", `${token}/public/app:1`, ...ssh, "--username", "bob", "--password-stdin"],
        { stdin: `${world.users.bob.password}\n` },
        0,
      ],
      [
        "pull --json -v into an OCI layout, helper",
        ["--json", "-v", "pull", `${token}/private/app:1`, "--to", `oci:${out}/layout:app`],
        {},
        0,
      ],
      [
        "pull into a docker-archive, env wrong password",
        ["pull", `${token}/public/app:1`, "--to", `docker-archive:${out}/app.tar`],
        { env: wrongEnv },
        0,
      ],
      ["check -v, helper and docker-config auths", ["-v", "check", `${token}/private/app:1`, `${basic}/private/app:1`], {}, -1],
      ["check --json, env wrong password", ["--json", "check", `${token}/private/app:1`], { env: wrongEnv }, -1],
      [
        "cluster-config --dry-run --explain, stdin alice",
        [
          "cluster-config",
          "--registry",
          token,
          "--verify-repo",
          "private/app",
          "--username",
          "alice",
          "--password-stdin",
          "--dry-run",
          "--explain",
        ],
        { stdin: world.users.alice.password },
        0,
      ],
      [
        "cluster-config --json, helper, k8s-secret to a file",
        [
          "--json",
          "cluster-config",
          "--registry",
          token,
          "--verify-repo",
          "private/app",
          "--format",
          "k8s-secret",
          "--output",
          join(home, "secret.yaml"),
        ],
        {},
        0,
      ],
    ];
    for (const [name, args, extra, code] of expectations) {
      await removeAllImages(world);
      const run = await cli(name, args, extra);
      if (code >= 0) expect(run.code, `${name}: ${run.stderr}`).toBe(code);
    }
    // The credential helper really ran, and more than once.
    expect(readdirSync(helperDump).filter((n) => n.endsWith(".argv")).length).toBeGreaterThan(2);
    for (const { name, run } of cliRuns) {
      expectClean(`stdout of "${name}"`, run.stdout);
      expectClean(`stderr of "${name}"`, run.stderr);
    }
    // Files written other than credential files (secret.yaml is one, by design): the layout, the archive.
    expectClean("the OCI layout and the docker-archive", filesUnder(out));
  }, 300_000);

  it("never puts a secret in a credential helper's argv or environment", () => {
    const dumps = readdirSync(helperDump);
    expect(dumps.length).toBeGreaterThan(0);
    for (const name of dumps) {
      const text = readFileSync(join(helperDump, name), "utf8");
      if (name.endsWith(".argv")) expect(text.split("\n").slice(1).filter(Boolean)).toEqual(["get"]);
      expectClean(`the helper's ${name}`, text);
    }
  });

  it("with DEBUG=modem,* the X-Registry-Auth header stays out of stderr", async () => {
    await removeAllImages(world);
    const debugEnv = { ...bobEnv, DEBUG: "modem,*", DEBUG_DEPTH: "10" };
    const local = await cli("pull with DEBUG=modem,*", ["pull", `${token}/public/app:1`], { env: debugEnv });
    const remote = await cli("ssh pull with DEBUG=modem,*", ["pull", `${token}/public/app:1`, ...ssh, "--tag-as", "sweep:debug"], {
      env: debugEnv,
    });
    for (const run of [local, remote]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/x-registry-auth|authconfig/i);
      expectClean("stderr under DEBUG=modem,*", run.stderr);
    }
  }, 120_000);
});

describe("the library", () => {
  it("events, outcomes, errors and causes of the main scenarios hold no secret", async () => {
    await removeAllImages(world);
    const events: PullEvent[] = [];
    const onEvent = (e: PullEvent): void => void events.push(e);
    const results: unknown[] = [];
    const settle = async (work: Promise<unknown>): Promise<void> => {
      results.push(await work.catch((e: unknown) => e));
    };
    await settle(ensureImage(docker, `${token}/public/app:1`, { credential: user(world, "bob"), onEvent }));
    await settle(ensureImage(docker, `${token}/private/app:1`, { credential: wrongPassword(world), onEvent }));
    await settle(
      pullRemoteImage(world.ssh.url, `${basic}/public/app:1`, {
        identityFile: world.ssh.keyFile,
        knownHostsFile: world.ssh.knownHostsFile,
        sshConfigFile: world.sshRoutes.configFile,
        credential: wrongPassword(world),
        onEvent,
      }),
    );
    await settle(
      pullImage(`${token}/private/app:1`, {
        to: parseDestination(`oci:${join(home, "lib-layout")}:x`),
        credential: user(world, "bob"),
        onEvent,
      }),
    );
    await settle(verifyCredentials(`${token}/private/app:1`, wrongPassword(world)));
    await settle(verifyCredentials(basic, user(world, "bob")));
    await settle(
      writeRegistriesConfig({
        registries: [{ host: token, credential: user(world, "bob"), verifyRepositories: ["private/app"] }],
        path: join(home, "r.yaml"),
        dryRun: true,
      }),
    );
    expect(results.some((r) => r instanceof Error)).toBe(true);
    expect(events.some((e) => e.type === "warning")).toBe(true);
    expectClean("library results, errors and events", everything(...results, ...events));
    expectClean("the library's OCI layout", filesUnder(join(home, "lib-layout")));
  }, 180_000);
});

describe("a blob redirect to another host", () => {
  const redirect = { match: { method: "GET", path: "/blobs/" }, action: { type: "redirect", to: "other-host" } } as const;

  it.each(["oci layout", "local daemon"] as const)(
    "%s: the other host never sees Authorization",
    async (path) => {
      await removeAllImages(world);
      await clearBlobRequests(world);
      await setFaults(world, [redirect]);
      try {
        const ref = `${world.faultProxy.host}/private/app:1`;
        const outcome =
          path === "oci layout"
            ? await pullImage(ref, { to: parseDestination(`oci:${join(home, "redirect-layout")}:x`), credential: user(world, "alice") })
            : await ensureImage(docker, ref, { credential: user(world, "alice") });
        expect(outcome.fellBack).toBe(false);
        const served = (await blobRequests(world)).filter((r) => r.host.startsWith("127.0.0.3"));
        expect(served.length).toBeGreaterThan(0);
        expect(served.filter((r) => r.hasAuthorization)).toEqual([]);
      } finally {
        await clearFaults(world);
      }
    },
    120_000,
  );
});

describe("TLS and proxies (the TLS world, inside its network namespace)", () => {
  let tlsWorld: TlsWorld;
  beforeAll(async () => {
    tlsWorld = await startTlsWorld(world);
  }, 180_000);
  afterAll(async () => {
    await tlsWorld?.stop();
  });

  it("the proxy's log holds no registry credential; the proxy password appears in no output, event or error", async () => {
    const { proxy } = tlsWorld.info;
    const proxyUrl = `http://${proxy.user}:${proxy.password}@proxy.test:3129`;
    const base = { PATH: process.env.PATH, HOME: home, DOCKER_CONFIG: join(home, "none"), NO_COLOR: "1" };
    const inside = (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> =>
      runCli(args, { env, command: [...tlsWorld.info.exec, process.execPath, BIN] });
    const out = join(home, "tls-sweep");
    const scenarios: [string[], NodeJS.ProcessEnv][] = [
      // alice through the proxy: registry and token service over CONNECT
      [
        ["pull", "ghcr.io/private/app:1", "--to", `oci:${out}:a`, "-v"],
        { ...base, HTTPS_PROXY: proxyUrl, PULLBACK_REGISTRY_USERNAME: "alice", PULLBACK_REGISTRY_TOKEN: world.users.alice.password },
      ],
      [
        ["check", "registry-1.docker.io/private/app:1", "--json", "-v"],
        { ...base, HTTPS_PROXY: proxyUrl, PULLBACK_REGISTRY_USERNAME: "alice", PULLBACK_REGISTRY_TOKEN: world.users.alice.password },
      ],
      // a refused registry password through the proxy, then the fallback
      [
        ["pull", "alpine", "--to", `oci:${out}:b`, "--json"],
        { ...base, HTTPS_PROXY: proxyUrl, PULLBACK_REGISTRY_USERNAME: "alice", PULLBACK_REGISTRY_TOKEN: world.users.wrongPassword },
      ],
      // a wrong proxy password: 407/401 diagnosed, neither password shown
      [["check", "ghcr.io/public/app:1", "-v"], { ...base, HTTPS_PROXY: proxyUrl.replace(proxy.password, `${proxy.password}x`) }],
      [
        ["pull", "ghcr.io/public/app:1", "--to", `oci:${out}:c`, "--json", "-v"],
        { ...base, HTTPS_PROXY: proxyUrl.replace(proxy.password, `${proxy.password}x`) },
      ],
    ];
    const runs: CliRun[] = [];
    for (const [args, env] of scenarios) runs.push(await inside(args, env));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 5, 5]);
    for (const [index, run] of runs.entries()) {
      const text = `${run.stdout}\n${run.stderr}`;
      expectClean(`TLS scenario ${index + 1}`, text);
      expect(text.includes(proxy.password), `the proxy password leaked into scenario ${index + 1}`).toBe(false);
      expect(decodedRuns(text).includes(proxy.password), `a base64 proxy password leaked into scenario ${index + 1}`).toBe(false);
    }
    const logs = `${readFileSync(proxy.logFile, "utf8")}\n${readFileSync(proxy.authLogFile, "utf8")}`;
    expect(logs).toContain("CONNECT ghcr.io:443");
    expectClean("the proxy logs", logs);
    expect(logs).not.toMatch(/authorization: (bearer|basic)/i);
    expect(filesUnder(out).includes(proxy.password)).toBe(false);
  });
});
