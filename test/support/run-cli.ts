/**
 * Runs the built CLI (bin/pullback.cjs) as a child process, the way a user does,
 * and remembers every output so a test can scan all of it for leaked secrets.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "bin", "pullback.cjs");

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every run of this process, for the leak scan. */
export const runs: CliRun[] = [];

/** Build dist/ once (the tests run the built binary, not the sources). */
export function buildOnce(): void {
  const result = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, encoding: "utf8" });
  // Other work in progress may have type errors; tsc still emits. What matters is that the CLI is there.
  if (!existsSync(join(ROOT, "dist", "cli", "pullback.cjs"))) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
}

/** A HOME without any Docker config, so only the credentials a test gives are used. */
export function cleanHome(): string {
  return mkdtempSync(join(tmpdir(), "pullback-cli-home-"));
}

/**
 * @example
 * const { code, stderr } = await runCli(["pull", image], { env, stdin: password + "\n" });
 */
export function runCli(args: readonly string[], options: { env: NodeJS.ProcessEnv; stdin?: string; command?: string[] }): Promise<CliRun> {
  const [file, ...prefix] = options.command ?? [process.execPath, BIN];
  return new Promise((resolve, reject) => {
    const child = spawn(file!, [...prefix, ...args], { cwd: ROOT, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      const run = { code, stdout, stderr };
      runs.push(run);
      resolve(run);
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** Remove an image from the world's daemon, so the next pull really pulls. */

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
