/**
 * SshDockerTransport's early dial, with stand-in `ssh` programs (shell and Python
 * scripts) so that the order of events is certain: ssh is started before the Engine
 * client asks for a socket, and whatever ssh did meanwhile reaches the first request.
 * The real OpenSSH paths are in ssh-openssh.int.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { PullbackError } from "../../../src/errors.js";
import { DockerEngine } from "../../../src/targets/docker/engine.js";
import { SshDockerTransport } from "../../../src/targets/docker/ssh-transport.js";

const scratch = mkdtempSync(join(tmpdir(), "pullback-ssh-transport-test-"));
let transport: SshDockerTransport | undefined;

afterEach(() => transport?.close());

/** An executable `ssh` stand-in; each start appends a line to `starts`. */
function fakeSsh(name: string, body: string): { program: string; starts: string } {
  const program = join(scratch, name);
  const starts = join(scratch, `${name}.starts`);
  writeFileSync(program, body.replace("STARTS", starts));
  chmodSync(program, 0o755);
  return { program, starts };
}

/** Lines in the starts file: how many times the stand-in ran. */
function startsOf(file: string): number {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Answers one GET /version as dockerd would, then waits for stdin to close, as dial-stdio does. */
const ANSWERING_SSH = `#!/usr/bin/python3
import sys
open("STARTS", "a").write("dial-stdio\\n" if "dial-stdio" in sys.argv else "other\\n")
while sys.stdin.buffer.readline() not in (b"\\r\\n", b""):
    pass
body = b'{"Version":"20.10.24","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}'
sys.stdout.buffer.write(b"HTTP/1.1 200 OK\\r\\nApi-Version: 1.41\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
sys.stdout.buffer.flush()
sys.stdin.buffer.read()
`;

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(50);
}

describe("SshDockerTransport.dial", () => {
  it("hands the ssh it started early to the first request, and starts no second one", async () => {
    const ssh = fakeSsh("answering-ssh", ANSWERING_SSH);
    transport = new SshDockerTransport("ssh://buildbox", { sshCommand: ssh.program });
    transport.dial();
    await until(() => startsOf(ssh.starts) > 0);
    expect(startsOf(ssh.starts)).toBe(1);
    const engine = new DockerEngine({ kind: "agent", agent: transport.agent }, 5_000);
    expect(await engine.version()).toEqual({ version: "20.10.24", apiVersion: "1.41", os: "linux", arch: "amd64" });
    expect(startsOf(ssh.starts)).toBe(1);
  });

  it("an ssh that failed before the first request fails that request with ssh's diagnosis, not an unheard error", async () => {
    const ssh = fakeSsh(
      "refused-ssh",
      `#!/bin/sh\necho x >> STARTS\necho "ssh: connect to host buildbox port 22: Connection refused" >&2\nexit 255\n`,
    );
    transport = new SshDockerTransport("ssh://buildbox", { sshCommand: ssh.program });
    transport.dial();
    // ssh has exited, and its failure been read, before node:http asks for the socket.
    await until(() => startsOf(ssh.starts) > 0);
    await sleep(300);
    const engine = new DockerEngine({ kind: "agent", agent: transport.agent }, 5_000);
    const error = await engine.version().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullbackError);
    expect(error).toMatchObject({ kind: "daemon-unreachable" });
    expect((error as PullbackError).message).toMatch(/refused/i);
  });

  it("close() ends an ssh that no request took", async () => {
    const ssh = fakeSsh("idle-ssh", `#!/bin/sh\necho x >> STARTS\ncat > /dev/null\n`);
    transport = new SshDockerTransport("ssh://buildbox", { sshCommand: ssh.program });
    transport.dial();
    await until(() => startsOf(ssh.starts) > 0);
    transport.close();
    transport = undefined;
    // The stand-in reads until stdin closes; `cat`'s pid is gone once close() ended stdin.
    const running = async (): Promise<boolean> => {
      const { execFileSync } = await import("node:child_process");
      try {
        return execFileSync("pgrep", ["-f", ssh.program], { encoding: "utf8" }).trim() !== "";
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 30 && (await running()); i++) await sleep(100);
    expect(await running()).toBe(false);
  });
});
