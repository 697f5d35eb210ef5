/**
 * pullRemoteImages over SSH onto two real remote daemons: the world's dockerd behind the
 * world's sshd ("daemon-a") and a second dockerd behind a second sshd started here
 * ("daemon-b"), both named by alias in an ssh config of this test. Connections are counted
 * in each sshd's VERBOSE log; an unreachable host is a listener that counts and hangs up.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PullEvent } from "../../../src/events.js";
import type { ImageSetItem } from "../../../src/sets/set-result.js";
import { connectDocker, type DockerConnection } from "../../../src/targets/docker/connect-docker.js";
import type { DaemonImage } from "../../../src/targets/docker/daemon-pull.js";
import { pullRemoteImages } from "../../../src/targets/docker/pull-remote-images.js";
import { startDockerd, type Dockerd } from "../../world/dockerd.js";
import { startSshd, type Sshd } from "../../world/sshd.js";
import { clearFaults, clearTokenRequests, getWorld, removeAllImages, setFaults, tokenRequests } from "../../world/client.js";
import { expectNoSecrets, recorder, user } from "./helpers.js";

const world = getWorld();
const scratch = mkdtempSync(join(tmpdir(), "pullback-remote-images-"));
let dockerdB: Dockerd;
let sshdB: Sshd;
let daemonB: DockerConnection;
let hangUp: Server;
let hangUps = 0;
let sshConfigFile: string;

const HOST_A = "ssh://daemon-a";
const HOST_B = "ssh://daemon-b";
const NOWHERE = "ssh://nowhere";

beforeAll(async () => {
  dockerdB = await startDockerd(join(scratch, "b"));
  sshdB = await startSshd(join(scratch, "b"), dockerdB.dockerHost);
  daemonB = await connectDocker({ host: dockerdB.dockerHost });
  hangUp = createServer((socket) => {
    hangUps += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => hangUp.listen(0, "127.0.0.1", resolve));
  const hangUpPort = (hangUp.address() as { port: number }).port;
  const alias = (name: string, port: number, key: string, knownHosts: string) =>
    [
      `Host ${name}`,
      "  HostName 127.0.0.1",
      `  Port ${port}`,
      "  User root",
      `  IdentityFile ${key}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${knownHosts}`,
      "",
    ].join("\n");
  sshConfigFile = join(scratch, "ssh_config");
  writeFileSync(
    sshConfigFile,
    [
      alias("daemon-a", world.ssh.port, world.ssh.keyFile, world.ssh.knownHostsFile),
      alias("daemon-b", sshdB.info.port, sshdB.info.keyFile, sshdB.info.knownHostsFile),
      alias("nowhere", hangUpPort, world.ssh.keyFile, world.ssh.knownHostsFile),
    ].join("\n"),
    { mode: 0o600 },
  );
}, 120_000);

afterAll(async () => {
  daemonB?.close();
  await new Promise<void>((resolve) => (hangUp ? hangUp.close(() => resolve()) : resolve()));
  await sshdB?.stop();
  await dockerdB?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

beforeEach(async () => {
  await clearFaults(world);
  await removeAllImages(world);
  await removeAllImages({ ...world, dockerHost: dockerdB.dockerHost });
  await clearTokenRequests(world);
});

const accepted = (logFile: string) =>
  readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes("Accepted publickey")).length;
const connections = () => ({ a: accepted(world.ssh.logFile), b: accepted(sshdB.info.logFile) });
const image = (registry: keyof typeof world.registries, repo: string) => `${world.registries[registry].host}/${repo}`;
const digestOf = (repo: string) => world.fixtures.set.find((f) => `${f.repository}:${f.tag}` === repo)!.manifestDigest;

async function presentOn(host: string, ref: string): Promise<boolean> {
  if (host === HOST_B) return (await daemonB.engine.inspectImage(ref)) !== undefined;
  const docker = await connectDocker({ host: world.dockerHost });
  try {
    return (await docker.engine.inspectImage(ref)) !== undefined;
  } finally {
    docker.close();
  }
}

/** ssh processes this test process started that are still running (dial-stdio children). */
function sshChildren(): string[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  } catch {
    // ps exits 1 when no process matches.
  }
  return out.split("\n").filter((line) => line.includes("dial-stdio"));
}

/** Closing a connection ends ssh's stdin; ssh exits soon after. Wait up to 5 s for that. */
async function noSshLeft(): Promise<string[]> {
  for (let i = 0; i < 50 && sshChildren().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return sshChildren();
}

const outcome = (item: ImageSetItem<DaemonImage>) => (item.ok ? (item.outcome.fellBack ? "fell-back" : "pulled") : item.error.kind);

describe("pullRemoteImages onto two remote daemons over SSH", () => {
  it("pulls six images onto each host over exactly one SSH connection per host, warning once per registry per host", async () => {
    const repos = [
      ["token", "private/set-1:1", "pulled"],
      ["token", "public/set-1:1", "pulled"],
      ["tokenOtherRealm", "public/set-2:1", "fell-back"],
      ["tokenOtherRealm", "public/set-3:1", "fell-back"],
      ["open", "public/set-4:1", "pulled"],
      ["open", "public/set-4:missing", "not-found"],
    ] as const;
    const refs = repos.map(([registry, repo]) => image(registry, repo));
    // alice is good on the token registry; bob has no access anywhere: the other realm refuses him.
    const auths = {
      [world.registries.token.host]: world.users.alice,
      [world.registries.tokenOtherRealm.host]: world.users.bob,
    };
    const configDir = join(scratch, "docker-config");
    execFileSync("mkdir", ["-p", configDir]);
    writeFileSync(
      join(configDir, "config.json"),
      JSON.stringify({
        auths: Object.fromEntries(
          Object.entries(auths).map(([host, u]) => [host, { auth: Buffer.from(`${u.username}:${u.password}`).toString("base64") }]),
        ),
      }),
    );
    const before = connections();
    const { events, onEvent } = recorder();
    const items = await pullRemoteImages([HOST_A, HOST_B], refs, {
      sshConfigFile,
      resolve: { dockerConfigDir: configDir, env: {} },
      keepGoing: true,
      onEvent,
    });

    expect(items.map((i) => [i.host, i.image])).toEqual([...refs.map((r) => [HOST_A, r]), ...refs.map((r) => [HOST_B, r])]);
    expect(items.map(outcome)).toEqual([...repos.map(([, , o]) => o), ...repos.map(([, , o]) => o)]);
    for (const item of items.filter((i) => i.ok)) {
      const repo = repos[refs.indexOf(item.image)]![1];
      expect(item.ok && item.outcome.image.digest).toBe(digestOf(repo));
      expect(await presentOn(item.host!, item.image)).toBe(true);
    }
    expect(await presentOn(HOST_B, refs[5]!)).toBe(false);
    // One connection per host for the whole run, never one per image.
    const after = connections();
    expect({ a: after.a - before.a, b: after.b - before.b }).toEqual({ a: 1, b: 1 });
    // Every event names image and host; the refusal is warned once per registry per host.
    expect(events.every((e) => refs.includes((e as { image?: string }).image ?? "") && [HOST_A, HOST_B].includes(e.host ?? ""))).toBe(true);
    const refusals = events.filter(
      (e): e is Extract<PullEvent, { type: "warning" }> => e.type === "warning" && e.code === "credentials-refused",
    );
    expect(refusals.map((e) => [e.host, e.registry])).toEqual(
      expect.arrayContaining([
        [HOST_A, world.registries.tokenOtherRealm.host],
        [HOST_B, world.registries.tokenOtherRealm.host],
      ]),
    );
    expect(refusals).toHaveLength(2);
    // The daemons ask the token service themselves (pullback holds no token on this path): record what they asked.
    const requests = await tokenRequests(world);
    // bob's two images on two hosts: four daemon attempts, one token request each; "denied" is no reason to ask more.
    expect(requests.filter((r) => r.user === world.users.bob.username).map((r) => r.outcome)).toEqual([
      "denied",
      "denied",
      "denied",
      "denied",
    ]);
    expectNoSecrets(world, items, events);
    expect(await noSshLeft()).toEqual([]);
  });

  it("fails every image of a host it cannot reach with that host's error, after one connection attempt, and completes the others", async () => {
    const refs = [image("open", "public/set-5:1"), image("open", "public/set-6:1"), image("open", "public/set-7:1")];
    const before = { hangUps, ...connections() };
    const items = await pullRemoteImages([NOWHERE, HOST_A], refs, { sshConfigFile, credential: null, keepGoing: true });
    const nowhere = items.filter((i) => i.host === NOWHERE);
    expect(nowhere).toHaveLength(3);
    expect(nowhere.map((i) => !i.ok && i.error.kind)).toEqual(["daemon-unreachable", "daemon-unreachable", "daemon-unreachable"]);
    // The same error for each: one attempt, not one per image.
    expect(new Set(nowhere.map((i) => !i.ok && i.error)).size).toBe(1);
    expect(hangUps - before.hangUps).toBe(1);
    expect(items.filter((i) => i.host === HOST_A).map((i) => i.ok)).toEqual([true, true, true]);
    expect(connections().a - before.a).toBe(1);
    expect(await noSshLeft()).toEqual([]);
  });

  it("without keepGoing, a failure on one host stops the rest of the run: the next host is never even connected", async () => {
    const refs = [image("open", "public/set-8:missing"), image("open", "public/set-8:1")];
    const before = connections();
    const items = await pullRemoteImages([HOST_A, HOST_B], refs, { sshConfigFile, credential: null, jobs: 1 });
    expect(items.map((i) => [i.host, i.ok ? "ok" : `${i.error.kind}/${i.error.reason ?? ""}`])).toEqual([
      [HOST_A, expect.stringMatching(/^not-found\//)],
      [HOST_A, "other/cancelled"],
      [HOST_B, "other/cancelled"],
      [HOST_B, "other/cancelled"],
    ]);
    expect(items[1]?.ok === false && items[1].error.message).toContain(`${refs[0]} on ${HOST_A} failed first`);
    const after = connections();
    expect({ a: after.a - before.a, b: after.b - before.b }).toEqual({ a: 1, b: 0 });
  });

  it("an abort mid-pull settles every item, leaves no image and no ssh process behind", async () => {
    await setFaults(world, [{ match: { method: "GET", path: "/blobs/" }, action: { type: "delay", ms: 4_000 } }]);
    const refs = ["public/set-1:1", "public/set-2:1", "public/set-3:1"].map((repo) => `${world.faultProxy.host}/${repo}`);
    const controller = new AbortController();
    let armed = false;
    const onEvent = (event: PullEvent): void => {
      if (event.type !== "attempt-started" || armed) return;
      armed = true;
      setTimeout(() => controller.abort(), 1_000);
    };
    const items = await pullRemoteImages([HOST_A, HOST_B], refs, {
      sshConfigFile,
      credential: null,
      keepGoing: true,
      signal: controller.signal,
      onEvent,
    });
    expect(items).toHaveLength(6);
    expect(items.map((i) => !i.ok && `${i.error.kind}/${i.error.reason ?? ""}`)).toEqual(items.map(() => "other/cancelled"));
    expect(await noSshLeft()).toEqual([]);
    await clearFaults(world);
    for (const host of [HOST_A, HOST_B]) for (const ref of refs) expect(await presentOn(host, ref)).toBe(false);
  });

  it("accepts a connection the caller holds, and leaves it open", async () => {
    const docker = await connectDocker({ host: HOST_B, sshConfigFile });
    try {
      const items = await pullRemoteImages([docker], [image("basic", "public/set-1:1")], { credential: user(world, "alice") });
      expect(items.map((i) => [i.host, i.ok])).toEqual([[docker.endpoint, true]]);
      expect((await docker.engine.inspectImage(image("basic", "public/set-1:1")))?.id).toBe(items[0]?.ok && items[0].outcome.image.id);
    } finally {
      docker.close();
    }
  });
});
