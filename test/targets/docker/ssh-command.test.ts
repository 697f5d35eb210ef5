import { describe, expect, it } from "vitest";
import { PullbackError } from "../../../src/errors.js";
import { dialStdioArgs, parseSshUrl, pullbackSshFlags, shellQuote, sshShellCommand } from "../../../src/targets/docker/ssh-command.js";
import { diagnoseSshFailure } from "../../../src/targets/docker/ssh-diagnosis.js";

describe("ssh:// URLs", () => {
  it("leave user and port to the ssh configuration when the URL has none", () => {
    expect(parseSshUrl("ssh://buildbox")).toEqual({ host: "buildbox", user: undefined, port: undefined, url: "ssh://buildbox" });
    expect(parseSshUrl("ssh://deploy@10.0.0.7:2222")).toEqual({
      host: "10.0.0.7",
      user: "deploy",
      port: 2222,
      url: "ssh://deploy@10.0.0.7:2222",
    });
    expect(parseSshUrl("ssh://[::1]:22")).toMatchObject({ host: "::1", port: 22, url: "ssh://[::1]:22" });
  });

  it("refuse passwords, paths and other schemes", () => {
    for (const url of ["ssh://u:secret@h", "ssh://h/path", "tcp://h:2375", "ssh://"]) expect(() => parseSshUrl(url)).toThrow(PullbackError);
    try {
      parseSshUrl("ssh://u:hunter2@h");
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
    }
  });
});

describe("the ssh command line", () => {
  it("runs dial-stdio in batch mode with the options as files, never a secret, the host after --", () => {
    const args = dialStdioArgs(parseSshUrl("ssh://root@127.0.0.1:2222"), {
      sshConfigFile: "/c",
      identityFile: "/k",
      knownHostsFile: "/kh",
      acceptUnknownHostKey: true,
      connectTimeoutMs: 5_500,
    });
    expect(args).toEqual([
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=6",
      "-o",
      "StrictHostKeyChecking=accept-new",
      "-F",
      "/c",
      "-i",
      "/k",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "UserKnownHostsFile=/kh",
      "-l",
      "root",
      "-p",
      "2222",
      "-T",
      "-v",
      "--",
      "127.0.0.1",
      "docker",
      "system",
      "dial-stdio",
    ]);
    expect(dialStdioArgs(parseSshUrl("ssh://buildbox"), {})).toEqual([
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=30",
      "-T",
      "-v",
      "--",
      "buildbox",
      "docker",
      "system",
      "dial-stdio",
    ]);
  });

  it("renders commands a person can paste, quoted only where needed", () => {
    const target = parseSshUrl("ssh://buildbox");
    expect(sshShellCommand(target, { sshConfigFile: "/my dir/cfg" }, ["docker", "image", "rm", "app:1"])).toBe(
      "ssh -F '/my dir/cfg' buildbox docker image rm app:1",
    );
    expect(pullbackSshFlags(parseSshUrl("ssh://root@h:22"), { identityFile: "/k", knownHostsFile: "/kh" })).toBe(
      "--host ssh://root@h:22 -i /k --known-hosts /kh",
    );
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("ssh's words → a diagnosis", () => {
  const facts = { offered: [], authenticated: false, resolved: undefined };
  const diagnose = (exitCode: number, stderr: string[], more: Partial<Parameters<typeof diagnoseSshFailure>[2]> = {}) =>
    diagnoseSshFailure(parseSshUrl("ssh://buildbox"), {}, { ...facts, exitCode, stderr, ...more });

  it("names the real host behind an alias, from ssh -G", () => {
    const resolved = new Map([
      ["hostname", "10.0.0.7"],
      ["port", "2222"],
      ["user", "deploy"],
      ["userknownhostsfile", "/kh /kh2"],
    ]);
    const error = diagnose(255, ["Host key verification failed."], { resolved });
    expect(error.reason).toBe("ssh-host-key-unknown");
    expect(error.message).toBe("the host key of ssh://buildbox (deploy@10.0.0.7:2222) is not in /kh — refusing to trust it silently");
    expect(error.diagnosis?.steps[0]?.command).toBe("ssh-keyscan -p 2222 10.0.0.7 >> /kh");
  });

  it("tells a lost connection from a refusal, and a missing docker from a daemon that is down", () => {
    expect(diagnose(255, ["Connection to 127.0.0.1 closed by remote host."], { authenticated: true }).reason).toBe("ssh-connection-lost");
    expect(diagnose(255, ["Connection to 127.0.0.1 closed by remote host."]).reason).toBe("ssh-host-unreachable");
    expect(diagnose(127, ["bash: line 1: docker: command not found"]).reason).toBe("ssh-remote-docker-missing");
    expect(
      diagnose(1, ["failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: connection refused"]).reason,
    ).toBe("ssh-remote-daemon-down");
    expect(diagnose(1, ["something else"]).reason).toBe("ssh-remote-command-failed");
  });
});
