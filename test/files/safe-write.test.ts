import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PullbackError } from "../../src/errors.js";
import { syncDirectory, writeFileAtomic } from "../../src/files/atomic-write.js";
import { formatBytes, ioError, ioReasonOf, spaceAt } from "../../src/files/io-error.js";
import { shorten, TEXT_LIMIT, userText } from "../../src/text/user-text.js";

const dir = mkdtempSync(join(tmpdir(), "pullback-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFileAtomic", () => {
  it("writes the exact mode, creates missing directories and leaves no temp file", async () => {
    const file = join(dir, "a", "b", "index.json");
    await writeFileAtomic(file, "{}\n", { mode: 0o640 });
    expect(readFileSync(file, "utf8")).toBe("{}\n");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, "a", "b"))).toEqual(["index.json"]);
    await syncDirectory(join(dir, "a", "b"));
  });

  it("refuses a directory in the way as an io error that names the path and says what it is", async () => {
    const file = join(dir, "taken");
    mkdirSync(file);
    const error = await writeFileAtomic(file, "x").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullbackError);
    expect(error).toMatchObject({ kind: "io", reason: "is-a-directory", diagnosis: { summary: `${file} is a directory, not a file` } });
    expect(readdirSync(dir).filter((name) => name.includes(".tmp"))).toEqual([]);
  });
});

describe("io errors", () => {
  it("maps errno codes to stable reasons", () => {
    const reasons = ["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EISDIR", "ENOTDIR", "ENOENT", "EIO"].map((code) =>
      ioReasonOf({ code }),
    );
    expect(reasons).toEqual([
      "disk-full",
      "disk-full",
      "permission-denied",
      "permission-denied",
      "read-only",
      "is-a-directory",
      "not-a-directory",
      "missing",
      "io-failed",
    ]);
  });

  it("a full disk names the filesystem it is on, from statfs", async () => {
    const space = await spaceAt(join(dir, "not", "yet", "there"));
    expect(space).toBeDefined();
    expect(dir.startsWith(space!.mountPoint)).toBe(true);
    const error = await ioError(`write ${dir}/x`, dir, Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
    expect(error.diagnosis?.summary).toBe(`No space left on the filesystem holding ${dir}`);
    expect(error.diagnosis?.explanation).toContain(`The filesystem mounted at ${space!.mountPoint} (`);
    expect(formatBytes(8 * 1024 * 1024)).toBe("8.0 MiB");
  });
});

describe("user text", () => {
  it("has one limit, redacts URLs and bearer tokens, and keeps one line", () => {
    expect(shorten("x".repeat(TEXT_LIMIT + 50))).toHaveLength(TEXT_LIMIT + 1);
    const text = userText('Head "https://bob:hunter2@r.example/v2/?token=abc": Bearer abcdefghijkl\nnext line ');
    expect(text).not.toMatch(/hunter2|abcdefghijkl|token=abc|\n/);
    expect(text).toBe('Head "https://***@r.example/v2/?token=***": Bearer *** next line');
  });
});
