import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PullbackError } from "../../../src/errors.js";
import { PullError } from "../../../src/fallback/pull-outcome.js";
import { connectDocker } from "../../../src/targets/docker/connect-docker.js";
import { pullRemoteImage } from "../../../src/targets/docker/pull-remote-image.js";
import { engineRequest, getWorld } from "../../world/client.js";
import { expectNoSecrets, recorder, rejectionOf, removeAllImages, user } from "./helpers.js";

const world = getWorld();
// -F with the world's generated config: never the machine's own ~/.ssh/config.
const sshConfigFile = world.sshRoutes.configFile;
const ssh = { identityFile: world.ssh.keyFile, knownHostsFile: world.ssh.knownHostsFile, sshConfigFile };
const token = (repo: string) => `${world.registries.token.host}/${repo}`;
const scratch = mkdtempSync(join(tmpdir(), "pullback-ssh-test-"));

const acceptedConnections = () =>
  readFileSync(world.ssh.logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes("Accepted publickey")).length;

beforeEach(() => removeAllImages(world));

describe("pullRemoteImage over SSH", () => {
  it("falls back to anonymous for a public image when bob is refused, over exactly one SSH connection", async () => {
    const before = acceptedConnections();
    const { events, onEvent } = recorder();
    const outcome = await pullRemoteImage(world.ssh.url, token("public/app:1"), { ...ssh, credential: user(world, "bob"), onEvent });
    expect(outcome.fellBack).toBe(true);
    expect(outcome.image.digest).toBe(world.fixtures.publicApp.manifestDigest);
    expect(outcome.warnings[0]).toMatch(/bob's test credentials were refused/);
    expect(events.filter((e) => e.type === "attempt-started").every((e) => e.host === "127.0.0.1")).toBe(true);
    expect(acceptedConnections() - before).toBe(1);
    expectNoSecrets(world, outcome, events);
  });

  it("pulls a private image with alice on the first attempt and refuses bob with a diagnosis", async () => {
    const ok = await pullRemoteImage(world.ssh.url, token("private/app:1"), { ...ssh, credential: user(world, "alice") });
    expect(ok.attempts).toHaveLength(1);
    await removeAllImages(world);
    const error = await rejectionOf(pullRemoteImage(world.ssh.url, token("private/app:1"), { ...ssh, credential: user(world, "bob") }));
    expect(error).toBeInstanceOf(PullError);
    expect((error as PullError).kind).toBe("auth");
    expect((error as PullError).attempts).toHaveLength(2);
    expectNoSecrets(world, error);
  });

  it("pulls the remote's own variant of a multi-platform image and tags it", async () => {
    const docker = await connectDocker({ host: world.ssh.url, ...ssh });
    try {
      expect(docker.remoteHost).toBe("127.0.0.1");
      const outcome = await pullRemoteImage(docker, token("public/multi:1"), { credential: null, tagAs: "cluster:dev" });
      const daemon = await docker.daemon();
      const arch = daemon.arch === "x86_64" ? "amd64" : daemon.arch;
      expect(outcome.image.platform).toBe(`linux/${arch}`);
      expect(outcome.image.tags).toEqual(["cluster:dev"]);
      const tagged = await engineRequest(world, "GET", "/images/cluster:dev/json");
      expect(tagged.status).toBe(200);
      expect((JSON.parse(tagged.body) as { Id: string }).Id).toBe(outcome.image.id);
      const config = world.fixtures.publicMulti.platforms?.[`linux/${arch}`]?.configDigest;
      expect(outcome.image.id).toBe(config);
    } finally {
      docker.close();
    }
  });

  it("refuses a platform the host cannot run before pulling, with both named", async () => {
    const error = await rejectionOf(
      pullRemoteImage(world.ssh.url, token("public/multi:1"), { ...ssh, credential: null, platform: "linux/arm64" }),
    );
    expect(error).toBeInstanceOf(PullbackError);
    expect((error as PullbackError).kind).toBe("platform");
    expect((error as PullbackError).message).toMatch(
      /for linux\/arm64\S* would not run on 127\.0\.0\.1, which runs linux\/amd64; nothing was pulled/,
    );
    expect((error as PullbackError).diagnosis?.steps[0]?.command).toBe(
      `pullback pull ${token("public/multi:1")} --host ${world.ssh.url} -i ${world.ssh.keyFile} --known-hosts ${world.ssh.knownHostsFile} --ssh-config ${sshConfigFile}`,
    );
    expect((await engineRequest(world, "GET", `/images/${token("public/multi:1")}/json`)).status).toBe(404);
  });
});

describe("SSH refusals are typed errors, never trust by default", () => {
  it("refuses an unknown host key", async () => {
    const empty = join(scratch, "empty_known_hosts");
    writeFileSync(empty, "");
    const error = await rejectionOf(
      connectDocker({ host: world.ssh.url, identityFile: world.ssh.keyFile, knownHostsFile: empty, sshConfigFile }),
    );
    expect(error).toMatchObject({ kind: "daemon-unreachable" });
    expect((error as Error).message).toMatch(/is not in .*empty_known_hosts/);
    expect((error as PullbackError).diagnosis?.steps[0]?.command).toMatch(/ssh-keyscan -p \d+ 127\.0\.0\.1/);
  });

  it("accepts (and records, as ssh's accept-new does) an unknown host key only when told to", async () => {
    const empty = join(scratch, "empty_known_hosts_2");
    writeFileSync(empty, "");
    const notices: string[] = [];
    const docker = await connectDocker({
      host: world.ssh.url,
      identityFile: world.ssh.keyFile,
      knownHostsFile: empty,
      acceptUnknownHostKey: true,
      sshConfigFile,
      onNotice: (message) => notices.push(message),
    });
    docker.close();
    expect(readFileSync(empty, "utf8")).toContain(`[127.0.0.1]:${world.ssh.port} ssh-ed25519`);
    // Not silently: the recorded key's fingerprint is said, as ssh says it.
    const fingerprint = /SHA256:\S+/.exec(execFileSync("ssh-keygen", ["-lf", empty], { encoding: "utf8" }))?.[0];
    expect(fingerprint).toBeDefined();
    expect(notices).toEqual([
      `the host key of '[127.0.0.1]:${world.ssh.port}' (ED25519) was not known and has been recorded (ssh-ed25519 ${fingerprint})`,
    ]);
  });

  it("refuses a changed host key even when unknown keys are accepted", async () => {
    const keyDir = join(scratch, "other-host-key");
    mkdirSync(keyDir, { recursive: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(keyDir, "key")]);
    const otherKey = readFileSync(join(keyDir, "key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    const changed = join(scratch, "changed_known_hosts");
    writeFileSync(changed, `[127.0.0.1]:${world.ssh.port} ${otherKey}\n`);
    const error = await rejectionOf(
      connectDocker({
        host: world.ssh.url,
        identityFile: world.ssh.keyFile,
        knownHostsFile: changed,
        acceptUnknownHostKey: true,
        sshConfigFile,
      }),
    );
    expect((error as Error).message).toMatch(/does not match/);
  });

  it("reports a refused SSH key", async () => {
    const keyDir = join(scratch, "stranger");
    mkdirSync(keyDir, { recursive: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(keyDir, "key")]);
    const error = await rejectionOf(
      connectDocker({ host: world.ssh.url, identityFile: join(keyDir, "key"), knownHostsFile: world.ssh.knownHostsFile, sshConfigFile }),
    );
    expect(error).toMatchObject({ kind: "daemon-unreachable" });
    expect((error as Error).message).toMatch(/SSH refused the key/);
  });
});

describe("an unreachable local daemon", () => {
  let planted: Server;
  const home = join(scratch, "home");
  const socket = join(home, ".colima", "docker.sock");

  beforeAll(async () => {
    mkdirSync(join(home, ".colima"), { recursive: true });
    planted = createServer();
    await new Promise<void>((resolve) => planted.listen(socket, resolve));
  });
  afterAll(() => planted.close());

  it("names the endpoint tried and suggests the sockets that exist", async () => {
    const missing = join(scratch, "nothing-here.sock");
    // systemSockets: [] — the machine's own /var/run/docker.sock must not be what is suggested.
    const error = await rejectionOf(connectDocker({ env: { HOME: home, DOCKER_HOST: `unix://${missing}` }, systemSockets: [] }));
    expect(error).toMatchObject({ kind: "daemon-unreachable" });
    expect((error as Error).message).toContain(`unix://${missing} (from DOCKER_HOST): no socket at that path`);
    expect((error as PullbackError).diagnosis?.steps[0]?.command).toBe(`export DOCKER_HOST=unix://${socket}`);
  });

  it("suggests the system sockets it is given first, and skips the ones that are not sockets", async () => {
    const missing = join(scratch, "nothing-here.sock");
    const notSocket = join(scratch, "plain-file.sock");
    writeFileSync(notSocket, "");
    const error = await rejectionOf(
      connectDocker({ env: { HOME: home, DOCKER_HOST: `unix://${missing}` }, systemSockets: [notSocket, socket] }),
    );
    const commands = (error as PullbackError).diagnosis?.steps.map((step) => step.command);
    expect(commands?.slice(0, 2)).toEqual([`export DOCKER_HOST=unix://${socket}`, "sudo systemctl start docker"]);
  });
});
