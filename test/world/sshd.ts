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

function sshdConfig(dir: string, port: number, dockerHost: string): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "ssh_host_ed25519_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
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
    "",
  ].join("\n");
}

/** True once the port answers with an SSH banner. */
async function answersSsh(port: number): Promise<boolean> {
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
  const hostPublic = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  const logFile = join(dir, "sshd.log");
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = join(dir, "sshd_config");
    await writeFile(configFile, sshdConfig(dir, port, dockerHost));
    const knownHostsFile = join(dir, "known_hosts");
    await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${hostPublic}\n`);
    const managed = startProcess("sshd", "/usr/sbin/sshd", ["-D", "-f", configFile, "-E", logFile], join(dir, "sshd.stdout.log"));
    try {
      await waitUntil(managed, () => answersSsh(port), 15_000);
      const info = { host: "127.0.0.1", port, user: "root", keyFile, knownHostsFile, url: `ssh://root@127.0.0.1:${port}`, logFile } as const;
      return { info, stop: () => managed.stop() };
    } catch (error) {
      lastError = error;
      await managed.stop();
      if (!/Address already in use/i.test(await logTail(logFile))) break;
    }
  }
  throw lastError;
}
