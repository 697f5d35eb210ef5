import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { exitCodeForVerification } from "../../src/cli/commands/check.js";
import { ExitCode, exitCodeFor, exitCodeForOutcome } from "../../src/cli/exit-codes.js";
import { main } from "../../src/cli/main.js";
import { PlainProgress } from "../../src/cli/output/plain-progress.js";
import { errorLine } from "../../src/cli/output/json-reporter.js";
import { PullbackError, type ErrorKind } from "../../src/errors.js";
import { readFileSync } from "node:fs";

function fakeIo(env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: "", stderr: "" };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (c: Buffer) => (out.stdout += c.toString()));
  stderr.on("data", (c: Buffer) => (out.stderr += c.toString()));
  return { io: { stdout, stderr, stdin: Readable.from([]), env }, out };
}

describe("exit codes", () => {
  it("maps each error kind to its documented code", () => {
    const table: [ErrorKind, number][] = [
      ["usage", 2],
      ["auth", 3],
      ["not-found", 4],
      ["network", 5],
      ["registry", 5],
      ["rate-limited", 5],
      ["daemon-unreachable", 5],
      ["platform", 7],
      ["io", 8],
      ["integrity", 9],
      ["limit", 9],
      ["config", 10],
      ["credentials", 3],
      ["reference", 2],
      ["local-only", 4],
      ["other", 1],
    ];
    for (const [kind, code] of table) expect(exitCodeFor(new PullbackError(kind, "x")), kind).toBe(code);
    expect(exitCodeFor(new Error("plain"))).toBe(ExitCode.other);
  });

  it("exits 0 after a fallback unless --fail-on-fallback", () => {
    expect(exitCodeForOutcome({ fellBack: true }, { failOnFallback: false })).toBe(0);
    expect(exitCodeForOutcome({ fellBack: true }, { failOnFallback: true })).toBe(6);
    expect(exitCodeForOutcome({ fellBack: false }, { failOnFallback: true })).toBe(0);
  });

  it("passes `check` only for accepted credentials or, with none, a working anonymous pull", () => {
    expect(exitCodeForVerification({ verdict: "accepted", credentialSource: "env", anonymousPull: false })).toBe(0);
    expect(exitCodeForVerification({ verdict: "rejected", credentialSource: "env", anonymousPull: true })).toBe(3);
    expect(exitCodeForVerification({ verdict: "no-access", credentialSource: undefined, anonymousPull: true })).toBe(0);
    expect(exitCodeForVerification({ verdict: "no-access", credentialSource: undefined, anonymousPull: false })).toBe(3);
    expect(exitCodeForVerification({ verdict: "unreachable", credentialSource: undefined, anonymousPull: undefined })).toBe(5);
  });
});

describe("main as a function", () => {
  it("prints package.json's version", async () => {
    const { io, out } = fakeIo();
    const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    expect(await main(["--version"], io)).toBe(0);
    expect(out.stdout.trim()).toBe(version);
  });

  it("exits 2 on an unknown flag: a message on stderr, or with --json only an error line on stdout", async () => {
    const human = fakeIo();
    expect(await main(["pull", "x", "--bogus"], human.io)).toBe(2);
    expect(human.out.stderr).toMatch(/^error: unknown option '--bogus'$/m);
    const { io, out } = fakeIo();
    expect(await main(["pull", "x", "--bogus", "--json"], io)).toBe(2);
    expect(JSON.parse(out.stdout.trim())).toMatchObject({ type: "error", kind: "usage", message: "unknown option '--bogus'" });
    expect(out.stderr).toBe("");
  });

  it("exits 2 for a flag combination the pull command refuses, with the reason on stderr", async () => {
    const { io, out } = fakeIo();
    expect(await main(["pull", "x:1", "--to", "oci:./out", "--tag-as", "y:1"], io)).toBe(2);
    expect(out.stderr).toMatch(/--tag-as/);
  });

  it("shows examples in every command's help", async () => {
    for (const command of ["pull", "check", "cluster-config"]) {
      const { io, out } = fakeIo();
      expect(await main([command, "--help"], io)).toBe(0);
      expect(out.stdout).toMatch(/Examples:\n {2}\$ .*pullback /);
    }
  });
});

describe("plain progress", () => {
  it("prints a line per layer state change, totals at most every 2 s, and never a carriage return", () => {
    const lines: string[] = [];
    let now = 0;
    const progress = new PlainProgress(
      (line) => lines.push(line),
      () => now,
    );
    progress.layer("aaa", "Downloading", 10, 100);
    for (let i = 0; i < 50; i++) {
      now += 100; // 5 s of progress lines, one every 100 ms
      progress.layer("aaa", "Downloading", 10 + i, 100);
    }
    progress.layer("aaa", "Download complete", undefined, undefined);
    expect(lines.filter((l) => l.startsWith("aaa:"))).toEqual(["aaa: Downloading", "aaa: Download complete"]);
    expect(lines.filter((l) => l.startsWith("progress:"))).toHaveLength(2);
    expect(lines.join("\n")).not.toContain("\r");
  });
});

describe("JSON error line", () => {
  it("carries kind, message and diagnosis", () => {
    const diagnosis = { summary: "s", explanation: "e", steps: [{ text: "t", command: "c" }], retryable: false };
    expect(errorLine(new PullbackError("auth", "refused", { diagnosis }))).toEqual({
      type: "error",
      kind: "auth",
      reason: null,
      message: "refused",
      diagnosis,
      attempts: [],
    });
  });
});
