/**
 * SSH as users configure it: an ssh_config (for `ssh -F`, never the machine's
 * ~/.ssh) with aliases, a bastion, and a target only the bastion can reach.
 *
 * How "only through the bastion" is made true: the target sshd runs in its own
 * network namespace (`unshare --net`) with nothing but loopback, so nothing on the
 * host's 127.0.0.1 listens at its port. The bastion listens on the host's loopback;
 * each of its connections is served by `sshd -i` entered into the target's namespace
 * (`nsenter --net`), so the bastion's ProxyJump forward reaches the target's 127.0.0.1
 * and a direct connection is refused. Both namespaces share the filesystem, so the
 * target's `docker system dial-stdio` reaches the world's dockerd socket.
 *
 * Aliases in the config:
 * - buildbox: the world's sshd by alias only (HostName, non-default Port, User, IdentityFile, UserKnownHostsFile)
 * - certbox: the same sshd with a user certificate (key not in authorized_keys) and its host certificate (@cert-authority)
 * - bastion: the bastion itself; its DOCKER_HOST points at nothing, so its daemon is "down"
 * - nodocker: the bastion as a key whose sessions have no docker on PATH (exit 127)
 * - behind: the target, through `ProxyJump bastion`
 * - behind-direct: the target without the bastion (refused: nothing listens there)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { startProcess, waitUntil } from "./process.js";
import { keygen, sshdConfig } from "./sshd.js";
import type { WorldInfo } from "./types.js";

export interface SshRoutes {
  readonly info: WorldInfo["sshRoutes"];
  stop(): Promise<void>;
}

const publicKey = async (file: string): Promise<string> => (await readFile(`${file}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");

/**
 * @example
 * const routes = await startSshRoutes(stateDir, world.dockerHost, sshInfo);
 */
export async function startSshRoutes(stateDir: string, dockerHost: string, ssh: WorldInfo["ssh"]): Promise<SshRoutes> {
  const dir = join(stateDir, "ssh-routes");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const noDockerKey = join(dir, "id_ed25519_nodocker");
  await Promise.all([
    keygen(["-t", "ed25519", "-N", "", "-C", "pullback-world-bastion-host", "-f", join(dir, "bastion-ssh_host_ed25519_key")]),
    keygen(["-t", "ed25519", "-N", "", "-C", "pullback-world-target-host", "-f", join(dir, "target-ssh_host_ed25519_key")]),
    keygen(["-t", "ed25519", "-N", "", "-C", "pullback-world-nodocker", "-f", noDockerKey]),
  ]);
  const clientKey = await readFile(`${ssh.keyFile}.pub`, "utf8");
  await writeFile(join(dir, "target-authorized_keys"), clientKey, { mode: 0o600 });
  await writeFile(
    join(dir, "bastion-authorized_keys"),
    `${clientKey.trim()}\nenvironment="PATH=/nonexistent" ${await publicKey(noDockerKey)}\n`,
    { mode: 0o600 },
  );

  const [bastionPort, targetPort] = [await freePort(), await freePort()];
  const targetLog = join(dir, "target-sshd.log");
  const bastionLog = join(dir, "bastion-sshd.log");
  await writeFile(bastionLog, "");
  await writeFile(join(dir, "target-sshd_config"), sshdConfig(dir, targetPort, dockerHost, [], "target-"));
  await writeFile(
    join(dir, "bastion-sshd_config"),
    sshdConfig(
      dir,
      bastionPort,
      `unix://${join(dir, "no-docker.sock")}`,
      ["PermitUserEnvironment yes", "AllowTcpForwarding yes"],
      "bastion-",
    ),
  );
  const target = startProcess(
    "sshd-target",
    "/usr/bin/unshare",
    ["--net", "--", "/bin/sh", "-c", `ip link set lo up && exec /usr/sbin/sshd -D -f ${join(dir, "target-sshd_config")} -E ${targetLog}`],
    join(dir, "target-sshd.stdout.log"),
  );
  const sessions = new Set<ChildProcess>();
  let bastion: Server | undefined;
  const stop = async (): Promise<void> => {
    for (const session of sessions) session.kill("SIGKILL");
    await new Promise<void>((resolve) => (bastion ? bastion.close(() => resolve()) : resolve()));
    await target.stop();
  };
  try {
    await waitUntil(
      target,
      async () => (await readFile(targetLog, "utf8").catch(() => "")).includes(`Server listening on 127.0.0.1 port ${targetPort}`),
      15_000,
    );
    bastion = await listenBastion(bastionPort, target.child.pid!, dir, bastionLog, sessions);
  } catch (error) {
    await stop();
    throw error;
  }
  const knownHosts = join(dir, "known_hosts");
  await writeFile(
    knownHosts,
    [
      `[127.0.0.1]:${bastionPort} ${await publicKey(join(dir, "bastion-ssh_host_ed25519_key"))}`,
      `[127.0.0.1]:${targetPort} ${await publicKey(join(dir, "target-ssh_host_ed25519_key"))}`,
      "",
    ].join("\n"),
  );
  const configFile = join(dir, "ssh_config");
  await writeFile(configFile, sshConfig({ ssh, bastionPort, targetPort, knownHosts, noDockerKey }), { mode: 0o600 });
  return { info: { configFile, bastionLogFile: bastionLog, targetLogFile: targetLog, targetAddress: `127.0.0.1:${targetPort}` }, stop };
}

/** The bastion: a loopback listener handing each connection to `sshd -i` inside the target's network namespace. */
async function listenBastion(port: number, targetPid: number, dir: string, logFile: string, sessions: Set<ChildProcess>): Promise<Server> {
  const server = createServer((socket) => {
    const session = spawn(
      "/usr/bin/nsenter",
      [`--net=/proc/${targetPid}/ns/net`, "/usr/sbin/sshd", "-i", "-f", join(dir, "bastion-sshd_config"), "-E", logFile],
      { stdio: ["pipe", "pipe", "ignore"] },
    );
    sessions.add(session);
    socket.pipe(session.stdin);
    session.stdout.pipe(socket);
    const end = (): void => {
      socket.destroy();
      if (session.exitCode === null) session.kill("SIGTERM");
    };
    socket.on("error", end);
    socket.on("close", end);
    session.stdin.on("error", end);
    session.on("exit", () => {
      sessions.delete(session);
      socket.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return server;
}

function sshConfig(p: { ssh: WorldInfo["ssh"]; bastionPort: number; targetPort: number; knownHosts: string; noDockerKey: string }): string {
  const host = (alias: string, lines: string[]): string[] => [`Host ${alias}`, ...lines.map((l) => `  ${l}`), ""];
  const at = (port: number, key: string, knownHosts: string): string[] => [
    "HostName 127.0.0.1",
    `Port ${port}`,
    "User root",
    `IdentityFile ${key}`,
    "IdentitiesOnly yes",
    `UserKnownHostsFile ${knownHosts}`,
  ];
  const { ssh } = p;
  return [
    "# pullback test world: use with ssh -F / pullback --ssh-config, never as ~/.ssh/config",
    ...host("buildbox", at(ssh.port, ssh.keyFile, ssh.knownHostsFile)),
    ...host("certbox", [
      ...at(ssh.port, ssh.certificates.keyFile, ssh.certificates.caKnownHostsFile),
      `CertificateFile ${ssh.certificates.certificateFile}`,
      "StrictHostKeyChecking yes",
    ]),
    ...host("bastion", at(p.bastionPort, ssh.keyFile, p.knownHosts)),
    ...host("nodocker", at(p.bastionPort, p.noDockerKey, p.knownHosts)),
    ...host("behind", [...at(p.targetPort, ssh.keyFile, p.knownHosts), "ProxyJump bastion"]),
    ...host("behind-direct", at(p.targetPort, ssh.keyFile, p.knownHosts)),
  ].join("\n");
}
