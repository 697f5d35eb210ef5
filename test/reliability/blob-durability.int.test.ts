/**
 * Durability, seen by the kernel: a real pull traced with strace must flush every blob
 * before it gets its final name, and the index must name no blob before that blob's rename.
 * (Transfers no longer wait for their own flush, so this order is no longer the code's shape.)
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv } from "../support/cli-env.js";
import { BIN, cleanHome, runCli } from "../support/run-cli.js";
import { getWorld } from "../world/client.js";

const world = getWorld();
const image = world.fixtures.publicMulti;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "pullback-durability-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** One traced syscall: what it was and the paths it names (strace -y shows an fd's path). */
interface Call {
  readonly name: string;
  readonly paths: readonly string[];
}

/** strace -f -y lines, in completion order; a call split across threads is taken from its "resumed" half. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const pendingPaths = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const resumed = /<\.\.\. (\w+) resumed>/.exec(line);
    const started = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (resumed?.[1]) calls.push({ name: resumed[1], paths: pendingPaths.get(line.split(" ")[0] ?? "") ?? [] });
    else if (started?.[1] && !line.includes("<unfinished ...>")) calls.push({ name: started[1], paths: pathsOf(started[2] ?? "") });
    else if (started?.[1]) pendingPaths.set(line.split(" ")[0] ?? "", pathsOf(started[2] ?? ""));
  }
  return calls;
}
const pathsOf = (args: string): string[] => [...args.matchAll(/[<"]([^>"]+)[>"]/g)].map((m) => m[1] ?? "");

describe("blobs on disk", () => {
  it("flushes each blob before renaming it into place, and writes the index after every rename", async () => {
    const dir = join(scratch, "layout");
    const trace = join(scratch, "trace");
    const ref = `${world.registries.token.host}/${image.repository}:${image.tag}`;
    const strace = ["strace", "-f", "-qq", "-y", "-e", "trace=fsync,fdatasync,rename", "-o", trace, process.execPath, BIN];
    const result = await runCli(["pull", ref, "--to", `oci:${dir}:multi`, "--no-credentials", "-q"], {
      env: { ...cliEnv(world, cleanHome()), PULLBACK_COMPILE_CACHE: "off" },
      command: strace,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const calls = parseTrace(await readFile(trace, "utf8"));
    const blobsDir = join(dir, "blobs", "sha256");
    const renames = calls.flatMap((call, at) =>
      call.name === "rename" && call.paths[1]?.startsWith(`${blobsDir}/`) ? [{ at, call }] : [],
    );
    // Every layer, config and manifest of every platform lands through a rename.
    expect(renames.length).toBeGreaterThanOrEqual(image.layers.length + 2);
    for (const { at, call } of renames) {
      const [partial, final] = call.paths;
      expect(partial).toBe(`${final}.partial`);
      const flushedAt = calls.findIndex((c) => (c.name === "fdatasync" || c.name === "fsync") && c.paths[0] === partial);
      expect(flushedAt, `${final} was renamed before a flush of ${partial}`).toBeGreaterThanOrEqual(0);
      expect(flushedAt).toBeLessThan(at);
    }
    const index = calls.findIndex((c) => c.name === "rename" && c.paths[1] === join(dir, "index.json"));
    expect(index).toBeGreaterThan(Math.max(...renames.map((r) => r.at)));
  });
});

describe("writes into a blob", () => {
  // Linux backs a write with page-cache folios as large as the write; in a VM that returns freed memory
  // to its host those fault on fresh pages (src/targets/oci/write-body.ts, MAX_WRITE_BYTES).
  it("never hands the kernel more than 256 KiB in one write, and writes every byte", async () => {
    const app = world.fixtures.publicApp;
    const dir = join(scratch, "writes");
    const trace = join(scratch, "writes-trace");
    const ref = `${world.registries.token.host}/${app.repository}:${app.tag}`;
    const traced = "trace=write,pwrite64,writev,pwritev,pwritev2";
    const strace = ["strace", "-f", "-qq", "-y", "-s", "0", "-e", traced, "-o", trace, process.execPath, BIN];
    const result = await runCli(["pull", ref, "--to", `oci:${dir}:app`, "--no-credentials", "-q"], {
      env: { ...cliEnv(world, cleanHome()), PULLBACK_COMPILE_CACHE: "off" },
      command: strace,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const written = new Map<string, number[]>();
    const pending = new Map<string, string>();
    for (const line of (await readFile(trace, "utf8")).split("\n")) {
      const pid = line.split(" ")[0] ?? "";
      const started = /^\d+\s+\w+\(\d+<([^>]+)>/.exec(line);
      const path = started?.[1] ?? (line.includes(" resumed>") ? pending.get(pid) : undefined);
      if (line.includes("<unfinished ...>") && started?.[1]) pending.set(pid, started[1]);
      const bytes = /\)\s+= (\d+)$/.exec(line)?.[1];
      if (path?.endsWith(".partial") && bytes !== undefined) written.set(path, [...(written.get(path) ?? []), Number(bytes)]);
    }
    for (const layer of app.layers) {
      const sizes = written.get(join(dir, "blobs", "sha256", `${layer.digest.slice(7)}.partial`)) ?? [];
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(layer.size);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024);
    }
  });
});
