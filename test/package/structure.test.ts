/**
 * The structure picture of src/: every import, read from the sources, must point to the same
 * floor or a lower one, and no module may reach itself again through its imports. Type-only
 * imports count too: a cycle of types is still a cycle in the reader's head.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "..", "..", "src");

/** Lowest first. A module may import from its own floor and the floors below. */
const FLOORS: readonly (readonly string[])[] = [
  ["errors.ts", "text/", "validation/checks.ts", "validation/describe-value.ts", "events.ts", "platform.ts", "pull-policy.ts"],
  ["files/", "reference/", "credentials/", "validation/"],
  ["registry/"],
  ["fallback/", "sets/"],
  ["targets/"],
  ["cli/", "index.ts", "lazy-index.ts"],
];

function floorOf(file: string): number {
  const floor = FLOORS.findIndex((members) => members.some((m) => (m.endsWith("/") ? file.startsWith(m) : file === m)));
  if (floor < 0) throw new Error(`${file} has no floor: add it to FLOORS`);
  return floor;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [relative(SRC, join(dir, entry.name))] : [],
  );
}

/** Relative imports and re-exports of a module (static and dynamic), as src-relative .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"'`;]*?\bfrom\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g),
  ].map((m) => m[1] ?? m[2] ?? "");
  return specifiers.map((s) => relative(SRC, resolve(SRC, dirname(file), s)).replace(/\.js$/, ".ts"));
}

const files = sources(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

describe("src/ structure", () => {
  it("every import resolves to a source file", () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${file} → ${t}`));
    expect(missing).toEqual([]);
  });

  it("no arrow from a lower floor to a higher one", () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => floorOf(t) > floorOf(file)).map((t) => `${file} (floor ${floorOf(file)}) → ${t} (floor ${floorOf(t)})`),
    );
    expect(upward).toEqual([]);
  });

  it("no import cycle", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, "open");
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" → "));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
