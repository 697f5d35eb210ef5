import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { logTail, startProcess, waitUntil } from "./process.js";
import type { WorldInfo } from "./types.js";

const run = promisify(execFile);

export interface Sshd {
  readonly info: WorldInfo["ssh"];
  stop(): Promise<void>;
}

/** An sshd_config: key-only root login, VERBOSE log, DOCKER_HOST for remote `docker` commands, plus `extra`. */
export function sshdConfig(dir: string, port: number, dockerHost: string, extra: readonly string[] = [], prefix = ""): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, `${prefix}ssh_host_ed25519_key`)}`,
    `PidFile ${join(dir, `${prefix}sshd.pid`)}`,
    `AuthorizedKeysFile ${join(dir, `${prefix}authorized_keys`)}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PermitRootLogin prohibit-password",
    // The state dir lives under world-writable /tmp, which StrictModes rejects.
    "StrictModes no",
    "LogLevel VERBOSE",
    "MaxStartups 100:30:200",
    "MaxSessions 100",
    `SetEnv DOCKER_HOST=${dockerHost}`,
    "Subsystem sftp internal-sftp",
    ...extra,
    "",
  ].join("\n");
}

/** Runs ssh-keygen; every key of the world is ed25519 without a passphrase. */
export async function keygen(args: readonly string[]): Promise<void> {
  await run("/usr/bin/ssh-keygen", ["-q", ...args]);
}

/**
 * A user CA and a host CA: a client key that only its certificate lets in
 * (TrustedUserCAKeys), and a host certificate clients trust through `@cert-authority`.
 */
async function makeCertificates(dir: string, hostKey: string): Promise<WorldInfo["ssh"]["certificates"]> {
  const userCa = join(dir, "user_ca");
  const hostCa = join(dir, "host_ca");
  const certKey = join(dir, "id_ed25519_cert_only");
  await Promise.all([userCa, hostCa, certKey].map((file) => keygen(["-t", "ed25519", "-N", "", "-C", "pullback-world", "-f", file])));
  await keygen(["-s", userCa, "-I", "pullback-world-user", "-n", "root", "-V", "-5m:+1d", `${certKey}.pub`]);
  await keygen(["-s", hostCa, "-h", "-I", "pullback-world-host", "-n", "127.0.0.1,localhost", "-V", "-5m:+1d", `${hostKey}.pub`]);
  const caKnownHosts = join(dir, "known_hosts_cert_authority");
  const hostCaPublic = (await readFile(`${hostCa}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  await writeFile(caKnownHosts, `@cert-authority 127.0.0.1,[127.0.0.1]:* ${hostCaPublic}\n`);
  return { keyFile: certKey, certificateFile: `${certKey}-cert.pub`, userCaFile: `${userCa}.pub`, caKnownHostsFile: caKnownHosts };
}

/** True once the port answers with an SSH banner. */
export async function answersSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("data", (data) => done(data.toString("latin1").startsWith("SSH-2.0")));
    socket.once("error", () => done(false));
  });
}

/**
 * Starts Debian's sshd on a free loopback port: its own host key, key-only
 * root login, VERBOSE log, and DOCKER_HOST pointing at the world's dockerd so
 * a remote `docker system dial-stdio` lands there.
 *
 * @example
 * const sshd = await startSshd(stateDir, "unix:///tmp/w/docker/docker.sock");
 */
export async function startSshd(stateDir: string, dockerHost: string): Promise<Sshd> {
  const dir = join(stateDir, "ssh");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const keyFile = join(dir, "id_ed25519");
  await Promise.all([
    run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pullback-world-host", "-f", hostKey]),
    run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pullback-world-client", "-f", keyFile]),
  ]);
  await writeFile(join(dir, "authorized_keys"), await readFile(`${keyFile}.pub`), { mode: 0o600 });
  const certificates = await makeCertificates(dir, hostKey);
  const certLines = [`TrustedUserCAKeys ${certificates.userCaFile}`, `HostCertificate ${hostKey}-cert.pub`];
  const hostPublic = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  const logFile = join(dir, "sshd.log");
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = join(dir, "sshd_config");
    await writeFile(configFile, sshdConfig(dir, port, dockerHost, certLines));
    const knownHostsFile = join(dir, "known_hosts");
    await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${hostPublic}\n`);
    const managed = startProcess("sshd", "/usr/sbin/sshd", ["-D", "-f", configFile, "-E", logFile], join(dir, "sshd.stdout.log"));
    try {
      await waitUntil(managed, () => answersSsh(port), 15_000);
      const info = {
        host: "127.0.0.1",
        port,
        user: "root",
        keyFile,
        knownHostsFile,
        url: `ssh://root@127.0.0.1:${port}`,
        logFile,
        certificates,
      } as const;
      return { info, stop: () => managed.stop() };
    } catch (error) {
      lastError = error;
      await managed.stop();
      if (!/Address already in use/i.test(await logTail(logFile))) break;
    }
  }
  throw lastError;
}
