import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { withLock } from "../../src/files/lock.js";

const dir = mkdtempSync(join(tmpdir(), "pullback-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LOCK_MODULE = fileURLToPath(new URL("../../src/files/lock.ts", import.meta.url));

/** A child process that increments the number in `file` `times` times, each read-modify-write under the lock. */
function incrementer(file: string, times: number): Promise<number | null> {
  const script = `
    import { readFileSync, writeFileSync } from "node:fs";
    import { withLock } from ${JSON.stringify(LOCK_MODULE)};
    for (let i = 0; i < ${times}; i++) {
      await withLock(${JSON.stringify(file)}, async () => {
        const n = Number(readFileSync(${JSON.stringify(file)}, "utf8"));
        await new Promise((r) => setImmediate(r));
        writeFileSync(${JSON.stringify(file)}, String(n + 1));
      });
    }`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: "inherit" });
  return new Promise((resolve) => child.on("close", resolve));
}

async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((resolve) => child.on("close", resolve));
  return child.pid!;
}

describe("withLock", () => {
  it("lets one process at a time through: 6 processes × 25 read-modify-writes lose none", async () => {
    const file = join(dir, "counter");
    writeFileSync(file, "0");
    const codes = await Promise.all(Array.from({ length: 6 }, () => incrementer(file, 25)));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readFileSync(file, "utf8")).toBe("150");
  }, 60_000);

  it("takes over a lock whose process is gone", async () => {
    const file = join(dir, "dead");
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: await deadPid(), start: "1", host: hostname() }));
    await expect(withLock(file, () => Promise.resolve("ran"), { timeoutMs: 2_000 })).resolves.toBe("ran");
  });

  it("takes over a lock whose pid now belongs to a process started at another time", async () => {
    const file = join(dir, "reused");
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, start: "12345", host: hostname() }));
    await expect(withLock(file, () => Promise.resolve("ran"), { timeoutMs: 2_000 })).resolves.toBe("ran");
  });

  it("waits for a live holder, and says so when it gives up", async () => {
    const file = join(dir, "live");
    let release!: () => void;
    const held = withLock(file, () => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const error = await withLock(file, () => Promise.resolve(), { timeoutMs: 300, what: "the test file" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "io", message: expect.stringContaining("waiting for the test file") });
    release();
    await held;
    await expect(withLock(file, () => Promise.resolve("after"))).resolves.toBe("after");
  });

  it("breaks an ownerless lock (crash between create and write) only once it is old", async () => {
    const file = join(dir, "empty");
    writeFileSync(`${file}.lock`, "");
    await expect(withLock(file, () => Promise.resolve(), { timeoutMs: 200 })).rejects.toMatchObject({ kind: "io" });
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    await expect(withLock(file, () => Promise.resolve("ran"), { timeoutMs: 2_000 })).resolves.toBe("ran");
  });

  it("releases the lock when the work fails", async () => {
    const file = join(dir, "fails");
    await expect(withLock(file, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(withLock(file, () => Promise.resolve("next"), { timeoutMs: 500 })).resolves.toBe("next");
  });
});
