import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A program the world needs, and the Debian package that ships it. */
export interface Requirement {
  readonly binary: string;
  readonly pkg: string;
}

/** Everything the world runs. Absolute paths: sshd insists on being started by one. */
export const REQUIREMENTS: readonly Requirement[] = [
  { binary: "/usr/sbin/dockerd", pkg: "docker.io" },
  { binary: "/usr/bin/docker-registry", pkg: "docker-registry" },
  { binary: "/usr/bin/skopeo", pkg: "skopeo" },
  { binary: "/usr/sbin/sshd", pkg: "openssh-server" },
  { binary: "/usr/bin/ssh-keygen", pkg: "openssh-client" },
  // pullback reaches remote daemons through the system ssh, as the docker CLI does (whose /usr/bin/docker the context tests run).
  { binary: "/usr/bin/ssh", pkg: "openssh-client" },
  { binary: "/usr/bin/docker", pkg: "docker.io" },
  // The target behind the bastion lives in its own network namespace.
  { binary: "/usr/bin/unshare", pkg: "util-linux" },
  { binary: "/usr/bin/nsenter", pkg: "util-linux" },
  { binary: "/bin/ip", pkg: "iproute2" },
  { binary: "/usr/bin/openssl", pkg: "openssl" },
  // The TLS world: a loopback-only network namespace and a real HTTP proxy inside it.
  { binary: "/bin/ip", pkg: "iproute2" },
  { binary: "/usr/bin/tinyproxy", pkg: "tinyproxy" },
  // Durability is asserted on the syscalls a real pull makes (flush before rename).
  { binary: "/usr/bin/strace", pkg: "strace" },
];

async function present(binary: string): Promise<boolean> {
  try {
    await access(binary, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the missing Debian packages (as root, like CI), or fails naming them.
 * `apt-get update` runs once, and only when something is missing.
 *
 * @example
 * await ensurePackages(REQUIREMENTS);
 */
export async function ensurePackages(requirements: readonly Requirement[] = REQUIREMENTS): Promise<void> {
  const missing: string[] = [];
  for (const { binary, pkg } of requirements) {
    if (!(await present(binary)) && !missing.includes(pkg)) missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the test world needs the Debian packages ${missing.join(", ")}; install them (apt-get install ${missing.join(" ")})`);
  }
  // Concurrent worlds may install at once: wait for dpkg's lock instead of failing.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", [...lock, "update"], { env, maxBuffer: 64 * 1024 * 1024 });
  await run("apt-get", [...lock, "install", "-y", "--no-install-recommends", ...missing], { env, maxBuffer: 64 * 1024 * 1024 });
  for (const { binary, pkg } of requirements) {
    if (!(await present(binary))) throw new Error(`installing ${pkg} did not provide ${binary}`);
  }
}
