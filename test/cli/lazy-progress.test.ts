/**
 * `-q` (and output that is not a terminal) never draws a bar, so it must not load the
 * progress-bar library: checked in a fresh process, where the module cache tells.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPORTER = fileURLToPath(new URL("../../src/cli/output/reporter.ts", import.meta.url));

/** Feeds layer events to a human reporter on a terminal-like stderr; prints whether cli-progress was loaded. */
function loadedWith(quiet: boolean): string {
  const script = `
    import { createRequire } from "node:module";
    import { createReporter } from ${JSON.stringify(REPORTER)};
    const stderr = { isTTY: true, columns: 80, write: () => true, on: () => stderr, off: () => stderr, once: () => stderr, removeListener: () => stderr, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true };
    const io = { stdout: { write: () => true }, stderr, stdin: process.stdin, env: {} };
    const reporter = createReporter(io, { quiet: ${quiet} });
    reporter.event({ type: "layer", image: "x", id: "abc", status: "Downloading", current: 1, total: 10 });
    reporter.close();
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(cache.some((path) => path.includes("cli-progress")) ? "loaded" : "not loaded");
  `;
  const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim().split("\n").pop() ?? "";
}

describe("the progress-bar library", () => {
  it("is not loaded with -q", () => {
    expect(loadedWith(true)).toBe("not loaded");
  });

  it("is loaded when a bar is drawn", () => {
    expect(loadedWith(false)).toBe("loaded");
  });
});
