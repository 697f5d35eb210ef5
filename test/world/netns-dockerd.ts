/**
 * A dockerd inside the test namespace: it resolves the world's real names
 * through the namespace's /etc/hosts and reads the namespace's /etc/docker,
 * with its own roots and socket (the socket file is reachable from outside).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { probeStatus } from "./http-probe.js";
import { startProcess, waitUntil } from "./process.js";
import { prepareDockerd, type Dockerd } from "./dockerd.js";

/**
 * @example
 * const dockerd = await startNetnsDockerd(ns.exec, dir, { SSL_CERT_FILE: bundle });
 */
export async function startNetnsDockerd(exec: readonly string[], stateDir: string, env: NodeJS.ProcessEnv = {}): Promise<Dockerd> {
  const dir = join(stateDir, "netns-docker");
  const prepared = await prepareDockerd(dir);
  const { socketPath } = prepared;
  const args = ["/usr/sbin/dockerd", ...prepared.args];
  const [command, ...prefix] = exec;
  // `ip netns exec` mounts a fresh /sys, which hides the cgroup mounts dockerd needs: mount
  // them again, as the machine has them, in the private mount namespace of this process only.
  const script = `${await cgroupMounts()}exec "$@"`;
  // Only PATH from outside: no proxy variable or DOCKER_* of the machine reaches this daemon.
  const managed = startProcess(
    "dockerd (netns)",
    command!,
    [...prefix, "/bin/sh", "-ec", script, "sh", ...args],
    join(dir, "dockerd.log"),
    { PATH: process.env.PATH, ...env },
  );
  try {
    await waitUntil(managed, async () => (await probeStatus({ socketPath, path: "/_ping" })) === 200, 60_000);
  } catch (error) {
    await managed.stop();
    throw error;
  }
  return { dockerHost: `unix://${socketPath}`, socketPath, stop: () => managed.stop(20_000) };
}

/** Shell lines that recreate the machine's cgroup mounts (v2, or v1 controllers on a tmpfs). */
async function cgroupMounts(): Promise<string> {
  const mounts = (await readFile("/proc/self/mounts", "utf8")).split("\n").map((line) => line.split(" "));
  const lines: string[] = [];
  for (const [source, target, type, options] of mounts) {
    if (target === undefined || !target.startsWith("/sys/fs/cgroup")) continue;
    if (type === "cgroup2") lines.push(`mkdir -p ${target} && mount -t cgroup2 ${source} ${target}`);
    else if (type === "tmpfs") lines.push(`mount -t tmpfs -o mode=755 ${source} ${target}`);
    else if (type === "cgroup") {
      const controllers = (options ?? "").split(",").filter((o) => !["rw", "ro", "relatime", "nosuid", "nodev", "noexec"].includes(o));
      lines.push(`mkdir -p ${target} && mount -t cgroup -o ${controllers.join(",")} ${source} ${target}`);
    }
  }
  return lines.map((line) => `${line}\n`).join("");
}
