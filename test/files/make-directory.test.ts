import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeDirectory } from "../../src/files/make-directory.js";

const dir = mkdtempSync(join(tmpdir(), "pullback-mkdir-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("makeDirectory", () => {
  it("creates missing parents and accepts existing directories", async () => {
    await makeDirectory(join(dir, "a", "b", "c"));
    await makeDirectory(join(dir, "a", "b", "c"));
    expect(statSync(join(dir, "a", "b", "c")).isDirectory()).toBe(true);
  });

  it("refuses a path through a file", async () => {
    writeFileSync(join(dir, "file"), "");
    await expect(makeDirectory(join(dir, "file", "x"))).rejects.toMatchObject({
      kind: "io",
      message: expect.stringContaining("is not a directory"),
    });
  });

  it.runIf(existsSync("/proc/self"))("fails at once under /proc, where Node's recursive mkdir never returns", async () => {
    const started = Date.now();
    await expect(makeDirectory("/proc/pullback-zz/b")).rejects.toMatchObject({ kind: "io" });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
