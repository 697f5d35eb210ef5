import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { probeStatus } from "./http-probe.js";
import { startProcess, waitUntil } from "./process.js";

export interface Dockerd {
  /** "unix:///…/docker.sock" */
  readonly dockerHost: string;
  readonly socketPath: string;
  stop(): Promise<void>;
}

/**
 * Starts a private dockerd: vfs storage, no bridge, no iptables, listening
 * only on a unix socket inside `stateDir`, with its own (empty) config file so
 * the machine's /etc/docker/daemon.json does not leak in.
 *
 * @example
 * const dockerd = await startDockerd("/tmp/pullback-world-x");
 */
export async function startDockerd(stateDir: string): Promise<Dockerd> {
  const dir = join(stateDir, "docker");
  const { socketPath, args } = await prepareDockerd(dir);
  const managed = startProcess("dockerd", "/usr/sbin/dockerd", args, join(dir, "dockerd.log"));
  try {
    await waitUntil(managed, async () => (await probeStatus({ socketPath, path: "/_ping" })) === 200, 45_000);
  } catch (error) {
    await managed.stop();
    throw error;
  }
  return { dockerHost: `unix://${socketPath}`, socketPath, stop: () => managed.stop(20_000) };
}

/**
 * The directories, empty config file and flags of a world dockerd rooted at `dir`: vfs, no
 * iptables or bridge, listening only on `dir`/docker.sock.
 *
 * @example
 * const { socketPath, args } = await prepareDockerd("/tmp/w/docker");
 */
export async function prepareDockerd(dir: string): Promise<{ readonly socketPath: string; readonly args: string[] }> {
  await mkdir(join(dir, "data"), { recursive: true });
  await mkdir(join(dir, "exec"), { recursive: true });
  const socketPath = join(dir, "docker.sock");
  const configFile = join(dir, "daemon.json");
  await writeFile(configFile, "{}\n");
  const args = [
    "--storage-driver=vfs",
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
    "--userland-proxy=false",
    "--config-file",
    configFile,
    "--data-root",
    join(dir, "data"),
    "--exec-root",
    join(dir, "exec"),
    "--pidfile",
    join(dir, "dockerd.pid"),
    "-H",
    `unix://${socketPath}`,
  ];
  return { socketPath, args };
}
