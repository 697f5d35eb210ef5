/**
 * A network namespace with nothing but loopback, whose own /etc/hosts (and
 * /etc/docker, /etc/containers) `ip netns exec` mounts over the machine's:
 * names like ghcr.io resolve to servers of the test world there, and nothing
 * inside can reach the real hosts. The machine's /etc is never written.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const NETNS_PREFIX = "pbw-";
const ETC_NETNS = "/etc/netns";

export interface Netns {
  readonly name: string;
  /** /etc/netns/NAME: what appears as /etc/hosts, /etc/docker, /etc/containers inside. */
  readonly etcDir: string;
  /** argv prefix that runs a command inside: ["ip", "netns", "exec", NAME]. */
  readonly exec: readonly string[];
  stop(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces of crashed runs: ours by prefix, whose creating process is gone. */
async function removeStale(): Promise<void> {
  const { stdout } = await run("ip", ["netns", "list"]);
  const names = stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(NETNS_PREFIX));
  const dirs = await readdir(ETC_NETNS).catch(() => [] as string[]);
  for (const name of new Set([...names, ...dirs.filter((d) => d.startsWith(NETNS_PREFIX))])) {
    const pid = Number(/^pbw-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pidAlive(pid)) continue;
    await run("ip", ["netns", "delete", name]).catch(() => undefined);
    await rm(join(ETC_NETNS, name), { recursive: true, force: true });
  }
}

/**
 * Creates `pbw-PID-RAND` with loopback up and `hosts` as its /etc/hosts.
 *
 * @example
 * const ns = await createNetns({ "127.0.10.1": ["ghcr.io"] });
 */
export async function createNetns(hosts: Readonly<Record<string, readonly string[]>>): Promise<Netns> {
  await removeStale();
  const name = `${NETNS_PREFIX}${process.pid}-${randomBytes(3).toString("hex")}`;
  const etcDir = join(ETC_NETNS, name);
  await mkdir(etcDir, { recursive: true });
  const lines = ["127.0.0.1 localhost", "::1 localhost", ...Object.entries(hosts).map(([ip, names]) => `${ip} ${names.join(" ")}`)];
  await writeFile(join(etcDir, "hosts"), `${lines.join("\n")}\n`);
  const stop = async (): Promise<void> => {
    await run("ip", ["netns", "delete", name]).catch(() => undefined);
    await rm(etcDir, { recursive: true, force: true });
  };
  try {
    await run("ip", ["netns", "add", name]);
    await run("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, etcDir, exec: ["ip", "netns", "exec", name], stop };
}
