/**
 * The library in a long-running process (a gateway that pulls for every sandbox it
 * starts): a few hundred pulls in this one process, eight at a time, across the
 * daemonless paths (OCI layout, docker-archive) and the daemon path (connect, ensure,
 * close). Afterwards the heap has settled, and file descriptors, sockets and active
 * handles and timers are back where they started.
 */
import { readdirSync, readlinkSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { connectDocker, ensureImage, pullImage } from "../../src/index.js";
import { getWorld, removeAllImages } from "../world/client.js";

const world = getWorld();
const app = `${world.registries.open.host}/public/app:1`;
const multi = `${world.registries.token.host}/public/multi:1`;
const scratch = mkdtempSync(join(tmpdir(), "pullback-long-running-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

interface Snapshot {
  readonly heapMb: number;
  readonly fds: number;
  readonly sockets: number;
  readonly resources: Readonly<Record<string, number>>;
}

async function snapshot(): Promise<Snapshot> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const links = readdirSync("/proc/self/fd").map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return "";
    }
  });
  const resources: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) resources[name] = (resources[name] ?? 0) + 1;
  return {
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    fds: links.length,
    sockets: links.filter((link) => link.startsWith("socket:")).length,
    resources,
  };
}

/** Wait until what was opened has closed (keep-alive sockets, a last timer); the snapshot when it has, or the last one. */
async function settled(baseline: Snapshot): Promise<Snapshot> {
  let current = await snapshot();
  for (let waited = 0; waited < 15_000 && !backToBaseline(baseline, current); waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    current = await snapshot();
  }
  return current;
}

function backToBaseline(baseline: Snapshot, current: Snapshot): boolean {
  return (
    current.fds <= baseline.fds &&
    current.sockets <= baseline.sockets &&
    Object.entries(current.resources).every(([name, count]) => count <= (baseline.resources[name] ?? 0))
  );
}

let counter = 0;
/** One pull of the mix: OCI layout, docker-archive, or the daemon (connect, ensure, close). */
async function onePull(i: number): Promise<void> {
  const n = counter++;
  switch (i % 3) {
    case 0:
      await pullImage(i % 2 === 0 ? app : multi, { to: `oci:${join(scratch, `layout-${n % 16}`)}:t${n}`, credential: null });
      break;
    case 1: {
      const file = join(scratch, `archive-${n}.tar`);
      await pullImage(app, { to: `docker-archive:${file}`, credential: null });
      rmSync(file);
      break;
    }
    default: {
      const docker = await connectDocker({ host: world.dockerHost });
      try {
        await ensureImage(docker, i % 2 === 0 ? app : multi, { credential: null });
      } finally {
        docker.close();
      }
    }
  }
}

async function batch(count: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await onePull(next++);
  };
  await Promise.all(Array.from({ length: 8 }, lane));
}

describe("a few hundred pulls in one process", () => {
  it("leave the heap settled and no descriptor, socket, handle or timer behind", async () => {
    await removeAllImages(world);
    await batch(24); // warm-up: lazily loaded modules, the first real daemon pulls
    const baseline = await snapshot();
    await batch(120);
    const middle = await settled(baseline);
    await batch(120);
    const end = await settled(baseline);
    const report = { baseline, middle, end };
    expect(end.fds, JSON.stringify(report)).toBeLessThanOrEqual(baseline.fds);
    expect(end.sockets, JSON.stringify(report)).toBeLessThanOrEqual(baseline.sockets);
    for (const [name, count] of Object.entries(end.resources))
      expect(count, `${name}: ${JSON.stringify(report)}`).toBeLessThanOrEqual(baseline.resources[name] ?? 0);
    // Settled: the second half did not grow the heap as the first did, and the whole run grew it little.
    expect(end.heapMb - middle.heapMb, JSON.stringify(report)).toBeLessThan(8);
    expect(end.heapMb - baseline.heapMb, JSON.stringify(report)).toBeLessThan(24);
  }, 600_000);
});
