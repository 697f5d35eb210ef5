/**
 * docs/api.md shows the examples verbatim: it fails here when an example file
 * changed and `npx tsx scripts/gen-api-docs.ts` was not run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_DOC, EXAMPLES_DIR, embedExamples, embeddedNames, readExample } from "../../scripts/gen-api-docs.js";

const doc = readFileSync(API_DOC, "utf8");
const exampleFiles = readdirSync(EXAMPLES_DIR)
  .filter((name) => name.endsWith(".ts"))
  .sort();

describe("docs/api.md", () => {
  it("is up to date with docs/examples/ (run: npx tsx scripts/gen-api-docs.ts)", () => {
    expect(doc).toBe(embedExamples(doc, readExample));
  });

  it("embeds every example file exactly once, and nothing that is not one", () => {
    expect([...embeddedNames(doc)].sort()).toEqual(exampleFiles);
  });

  it("covers the four main flows", () => {
    expect(exampleFiles.length).toBeGreaterThanOrEqual(4);
    const all = exampleFiles.map(readExample).join("\n");
    for (const call of [
      "ensureImage(",
      "pullRemoteImage(",
      "tagAs:",
      "verifyCredentials(",
      "writeRegistriesConfig(",
      "pullImage(",
      'event.type === "warning"',
      'case "layer"',
    ]) {
      expect(all).toContain(call);
    }
  });

  it("examples import only the package by name, never its sources or dist", () => {
    for (const name of exampleFiles) {
      const specifiers = [...readExample(name).matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      expect(
        specifiers.filter((s) => s !== "pullback" && !s.startsWith("node:")),
        name,
      ).toEqual([]);
    }
  });
});

describe("embedExamples", () => {
  it("replaces what is between the markers, keeps the rest, and is idempotent", () => {
    const markdown = "intro\n<!-- example: a.ts -->\nstale\n<!-- /example -->\nmiddle\n<!-- example: b.ts -->\n<!-- /example -->\nend\n";
    const read = (name: string): string => (name === "a.ts" ? "const a = 1;\n" : "const b = 2;");
    const once = embedExamples(markdown, read);
    expect(once).toBe(
      "intro\n<!-- example: a.ts -->\n```ts\nconst a = 1;\n```\n<!-- /example -->\nmiddle\n<!-- example: b.ts -->\n```ts\nconst b = 2;\n```\n<!-- /example -->\nend\n",
    );
    expect(embedExamples(once, read)).toBe(once);
  });

  it("detects a changed example", () => {
    const markdown = embedExamples("<!-- example: a.ts -->\n<!-- /example -->", () => "old();\n");
    expect(embedExamples(markdown, () => "new();\n")).not.toBe(markdown);
  });
});
