/**
 * A private containerd (Debian's, from docker.io) and `ctr` as the consumer of
 * what the cluster path writes. The secret never goes on argv: `ctr --user NAME`
 * prompts for the password on a terminal, so ctr runs under `script` (a pty) and
 * the password is typed at the prompt with the terminal's echo turned off first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Containerd {
  readonly socket: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface CtrResult {
  readonly code: number | null;
  readonly output: string;
  /** argv of every process started, to prove no secret was on it. */
  readonly argv: readonly string[];
}

/** containerd with root, state and sockets under a temp dir; CRI off (no kubelet here). */
export async function startContainerd(): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), "pullback-containerd-"));
  const socket = join(dir, "containerd.sock");
  const config = [
    "version = 2",
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = "${socket}"`,
    "[ttrpc]",
    `  address = "${socket}.ttrpc"`,
  ].join("\n");
  await writeFile(join(dir, "config.toml"), config);
  const child = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: "ignore" });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(socket)) {
    child.kill("SIGKILL");
    throw new Error("containerd did not start");
  }
  return {
    socket,
    dir,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `ctr images pull --plain-http [--user NAME] IMAGE`, the password typed at ctr's prompt.
 *
 * @example
 * await ctrPull(containerd, "127.0.0.1:5000/private/app:1", { username: "alice", password });
 */
export async function ctrPull(containerd: Containerd, image: string, login?: { username: string; password: string }): Promise<CtrResult> {
  const ctr = ["ctr", "--address", containerd.socket, "images", "pull", "--plain-http", "--snapshotter", "native"];
  if (login) ctr.push("--user", login.username);
  ctr.push(image);
  // Echo off before ctr starts: ctr prints "Password:" before it turns echo off itself, so typing
  // at the prompt would race the terminal echoing the password into the output.
  const argv = ["script", "-qec", `stty -echo; ${ctr.join(" ")}`, "/dev/null"];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let typed = false;
  const onData = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    if (login && !typed && output.includes("Password:")) {
      typed = true;
      child.stdin?.write(`${login.password}\n`);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, output, argv };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
