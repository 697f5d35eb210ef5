/**
 * A private podman API service (Debian's podman 4.3, `podman system service`)
 * speaking the Docker Engine API on a unix socket, for testing pullback's daemon
 * path against a Docker-compatible daemon that reports errors its own way.
 *
 * Not part of the global world (that must start fast): a test file starts one
 * against the world's registries and stops it itself.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { probeStatus } from "./http-probe.js";
import { ensurePackages, type Requirement } from "./packages.js";
import { startProcess, waitUntil } from "./process.js";
import type { RegistryEndpoint } from "./types.js";

export interface Podman {
  /** "unix:///…/podman.sock" */
  readonly dockerHost: string;
  readonly socketPath: string;
  /** The service's log (stdout and stderr). */
  readonly logFile: string;
  /** Stops the service and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const PODMAN: Requirement = { binary: "/usr/bin/podman", pkg: "podman" };

/** TOML basic string: the hosts are ours, but quote them properly anyway. */
const toml = (value: string): string => JSON.stringify(value);

/**
 * Unlike dockerd, podman talks HTTPS to 127.0.0.0/8 unless a registry is marked
 * insecure, so every world registry gets an entry. No search registries: every
 * reference pullback sends is fully qualified.
 */
function registriesConf(registries: readonly RegistryEndpoint[]): string {
  const entries = registries.map((r) => `\n[[registry]]\nlocation = ${toml(r.host)}\ninsecure = true\n`);
  return `unqualified-search-registries = []\n${entries.join("")}`;
}

/** Own storage and engine config, so the machine's /etc/containers files and default storage stay out of it. */
function storageConf(root: string, runRoot: string): string {
  return `[storage]\ndriver = "vfs"\ngraphroot = ${toml(root)}\nrunroot = ${toml(runRoot)}\n`;
}

function containersConf(dir: string): string {
  return [
    "[engine]",
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `tmp_dir = ${toml(join(dir, "tmp"))}`,
    `volume_path = ${toml(join(dir, "volumes"))}`,
    "[network]",
    `network_config_dir = ${toml(join(dir, "networks"))}`,
    "",
  ].join("\n");
}

/**
 * Starts `podman system service` on `<stateDir>/podman/podman.sock`, installing
 * Debian's podman first when it is missing (as root, like the rest of the world).
 *
 * @example
 * const podman = await startPodman(stateDir, Object.values(world.registries));
 * try { await connectDocker({ host: podman.dockerHost }); } finally { await podman.stop(); }
 */
export async function startPodman(stateDir: string, registries: readonly RegistryEndpoint[]): Promise<Podman> {
  await ensurePackages([PODMAN]);
  const dir = join(stateDir, "podman");
  const root = join(dir, "root");
  const runRoot = join(dir, "runroot");
  for (const sub of [root, runRoot, "tmp", "volumes", "networks"]) await mkdir(join(dir, sub), { recursive: true });
  const files = { registries: join(dir, "registries.conf"), storage: join(dir, "storage.conf"), containers: join(dir, "containers.conf") };
  await writeFile(files.registries, registriesConf(registries));
  await writeFile(files.storage, storageConf(root, runRoot));
  await writeFile(files.containers, containersConf(dir));

  const socketPath = join(dir, "podman.sock");
  const logFile = join(dir, "podman.log");
  const args = [
    "--root",
    root,
    "--runroot",
    runRoot,
    "--storage-driver",
    "vfs",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
    "--tmpdir",
    join(dir, "tmp"),
    "--volumepath",
    join(dir, "volumes"),
    "--network-config-dir",
    join(dir, "networks"),
    "system",
    "service",
    "--time=0",
    `unix://${socketPath}`,
  ];
  const env = {
    ...process.env,
    CONTAINERS_REGISTRIES_CONF: files.registries,
    CONTAINERS_STORAGE_CONF: files.storage,
    CONTAINERS_CONF: files.containers,
  };
  const managed = startProcess("podman", PODMAN.binary, args, logFile, env);
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  try {
    await waitUntil(managed, async () => (await probeStatus({ socketPath, path: "/_ping" })) === 200, 45_000);
  } catch (error) {
    await managed.stop();
    await remove();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await managed.stop(20_000);
    await remove();
  };
  return { dockerHost: `unix://${socketPath}`, socketPath, logFile, stop: () => (stopped ??= stop()) };
}
