/**
 * One SSH connection per host: one dial-stdio stream carrying the host's pulls one after
 * another (what pullRemoteImages does), or several dial-stdio channels multiplexed over one
 * OpenSSH ControlMaster connection, pulling at once? Measured, alternating, on the world:
 *
 * - "stream": pullRemoteImages onto one host (one ssh process, one stream, images in turn).
 * - "channels": one ControlMaster connection, 4 dial-stdio channels over it (an http.Agent with
 *   maxSockets 4 whose sockets are `ssh -o ControlPath=… HOST docker system dial-stdio`), 4 pulls at once.
 *
 * Twice: eight small set images straight from the open registry (fast pulls), and the same
 * through the fault proxy with every blob delayed (long pulls). Also the cost of opening one
 * more channel on a live master (its first /_ping). Writes bench/results/ssh-channels.md.
 *
 * @example
 * npx tsx bench/ssh-channels.ts   # BENCH_RUNS=5 by default; BENCH_WORLD=FILE reuses a world
 */
import { spawn, execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { promisify } from "node:util";
import { DockerEngine } from "../src/targets/docker/engine.js";
import { pullRemoteImages } from "../src/targets/docker/pull-remote-images.js";
import { clearFaults, removeAllImages, setFaults } from "../test/world/client.js";
import type { WorldInfo } from "../test/world/types.js";
import { startWorld } from "../test/world/world.js";
import { alternate, stats } from "./lib/stats.js";

const run = promisify(execFile);
const CHANNELS = 4;
const BLOB_DELAY_MS = 1_500;

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_RUNS ?? 5);
  const reuse = process.env.BENCH_WORLD;
  const world = reuse
    ? { info: JSON.parse(await readFile(reuse, "utf8")) as WorldInfo, stop: () => Promise.resolve() }
    : await startWorld({ big: false });
  const scratch = await mkdtemp(join(tmpdir(), "pullback-ssh-channels-"));
  try {
    const config = join(scratch, "ssh_config");
    const { ssh } = world.info;
    await writeFile(
      config,
      `Host daemon-a\n  HostName 127.0.0.1\n  Port ${ssh.port}\n  User root\n  IdentityFile ${ssh.keyFile}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${ssh.knownHostsFile}\n`,
      { mode: 0o600 },
    );
    const fast = world.info.fixtures.set.slice(0, 8).map((f) => `${world.info.registries.open.host}/${f.repository}:${f.tag}`);
    const slow = world.info.fixtures.set.slice(0, 8).map((f) => `${world.info.faultProxy.host}/${f.repository}:${f.tag}`);
    const lines = [
      "# One SSH stream per host vs several dial-stdio channels over one ControlMaster connection",
      "",
      `${rounds} alternating rounds, 8 images onto one host over SSH; ${CHANNELS} channels at once for "channels". Seconds, median (min–max).`,
      "",
      "| pulls | stream (pullRemoteImages) | channels (ControlMaster) | channels / stream |",
      "|---|---|---|---|",
    ];
    const contenders = (refs: readonly string[]) => ({
      stream: () => timed(world.info, () => streamPulls(config, refs)),
      channels: () => timed(world.info, () => channelPulls(config, scratch, refs)),
    });
    await clearFaults(world.info);
    const fastResult = await alternate(rounds, contenders(fast));
    lines.push(row("small images, loopback registry", fastResult.stream, fastResult.channels));
    await setFaults(world.info, [{ match: { method: "GET", path: "/blobs/" }, action: { type: "delay", ms: BLOB_DELAY_MS } }]);
    const slowResult = await alternate(rounds, contenders(slow));
    await clearFaults(world.info);
    lines.push(row(`every blob delayed ${BLOB_DELAY_MS} ms (long pulls)`, slowResult.stream, slowResult.channels));
    const opening = await channelOpening(config, scratch, rounds);
    lines.push(
      "",
      `Opening one more dial-stdio channel on a live master (spawn ssh, remote \`docker system dial-stdio\`, first /_ping): median ${opening.median.toFixed(2)} s (${opening.min.toFixed(2)}–${opening.max.toFixed(2)} s), ${rounds} samples.`,
      "",
    );
    await writeFile(join(import.meta.dirname, "results", "ssh-channels.md"), lines.join("\n"));
    process.stdout.write(lines.join("\n"));
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await world.stop();
  }
}

function row(name: string, stream: readonly number[], channels: readonly number[]): string {
  const s = stats(stream);
  const c = stats(channels);
  const cell = (x: ReturnType<typeof stats>) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
  return `| ${name} | ${cell(s)} | ${cell(c)} | ${(c.median / s.median).toFixed(2)} |`;
}

async function timed(world: WorldInfo, work: () => Promise<void>): Promise<number> {
  await removeAllImages(world);
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** The production path: one connection, one stream, the images in turn. */
async function streamPulls(config: string, refs: readonly string[]): Promise<void> {
  const items = await pullRemoteImages(["ssh://daemon-a"], refs, { sshConfigFile: config, credential: null, keepGoing: true });
  const failed = items.filter((i) => !i.ok);
  if (failed.length > 0) throw new Error(`stream: ${failed.length} failed: ${failed.map((i) => (i.ok ? "" : i.error.message)).join("; ")}`);
}

/** A ControlMaster connection and CHANNELS dial-stdio channels over it, pulling CHANNELS images at once. */
async function channelPulls(config: string, scratch: string, refs: readonly string[]): Promise<void> {
  const control = join(scratch, `ctl-${process.hrtime.bigint()}`);
  await run("ssh", ["-F", config, "-o", "BatchMode=yes", "-o", "ControlMaster=yes", "-o", `ControlPath=${control}`, "-fN", "daemon-a"]);
  const agent = channelAgent(config, control, CHANNELS);
  const engine = new DockerEngine({ kind: "agent", agent }, 60_000);
  try {
    const queue = [...refs];
    const worker = async (): Promise<void> => {
      for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
        const at = ref.lastIndexOf(":");
        await engine.pull(ref.slice(0, at), ref.slice(at + 1), { credential: undefined, registry: ref.split("/")[0]! });
      }
    };
    await Promise.all(Array.from({ length: CHANNELS }, worker));
  } finally {
    agent.destroy();
    await run("ssh", ["-F", config, "-o", `ControlPath=${control}`, "-O", "exit", "daemon-a"]).catch(() => undefined);
  }
}

/** The time to a first answer on a new channel of a live master, `samples` times. */
async function channelOpening(config: string, scratch: string, samples: number): Promise<ReturnType<typeof stats>> {
  const control = join(scratch, "ctl-opening");
  await run("ssh", ["-F", config, "-o", "BatchMode=yes", "-o", "ControlMaster=yes", "-o", `ControlPath=${control}`, "-fN", "daemon-a"]);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const agent = channelAgent(config, control, 1);
      const started = performance.now();
      await new DockerEngine({ kind: "agent", agent }, 60_000).ping();
      times.push((performance.now() - started) / 1000);
      agent.destroy();
    }
  } finally {
    await run("ssh", ["-F", config, "-o", `ControlPath=${control}`, "-O", "exit", "daemon-a"]).catch(() => undefined);
  }
  return stats(times);
}

/** An Agent whose sockets are dial-stdio channels over the master at `control`. */
function channelAgent(config: string, control: string, sockets: number): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = () => {
    const child = spawn("ssh", ["-F", config, "-o", `ControlPath=${control}`, "-T", "daemon-a", "docker", "system", "dial-stdio"], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    const socket = Duplex.from({ readable: child.stdout, writable: child.stdin });
    socket.on("close", () => child.kill());
    // node:http calls net.Socket's knobs on its sockets; a pipe pair has none.
    return Object.assign(socket, {
      setTimeout: () => socket,
      setKeepAlive: () => socket,
      setNoDelay: () => socket,
      ref: () => socket,
      unref: () => socket,
    });
  };
  return agent;
}

await main();
