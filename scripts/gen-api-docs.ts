/**
 * Embeds the runnable examples of docs/examples/ into docs/api.md, verbatim, so
 * the documentation shows exactly the code the package test compiles and runs.
 *
 * In docs/api.md an example is a marker pair; everything between them is replaced:
 *
 *   <!-- example: ensure-image.ts -->
 *   <!-- /example -->
 *
 *   npx tsx scripts/gen-api-docs.ts          rewrite docs/api.md
 *   npx tsx scripts/gen-api-docs.ts --check  exit 1 when docs/api.md is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const API_DOC = join(ROOT, "docs", "api.md");
export const EXAMPLES_DIR = join(ROOT, "docs", "examples");

const BLOCK = /(<!-- example: ([\w.-]+\.ts) -->\n)[\s\S]*?(<!-- \/example -->)/g;

/**
 * The markdown with every example block holding its file's current text.
 *
 * @example
 * embedExamples("<!-- example: a.ts -->\n<!-- /example -->", () => "x;\n")
 * // → "<!-- example: a.ts -->\n```ts\nx;\n```\n<!-- /example -->"
 */
export function embedExamples(markdown: string, read: (name: string) => string): string {
  return markdown.replace(BLOCK, (_all, open: string, name: string, close: string) => {
    const code = read(name);
    return `${open}\`\`\`ts\n${code.endsWith("\n") ? code : `${code}\n`}\`\`\`\n${close}`;
  });
}

/**
 * The example files docs/api.md embeds, in order of appearance.
 *
 * @example
 * embeddedNames("<!-- example: a.ts -->\n<!-- /example -->") // → ["a.ts"]
 */
export function embeddedNames(markdown: string): string[] {
  return [...markdown.matchAll(BLOCK)].map((match) => match[2]!);
}

/** Reads an example by its file name (no directories: markers cannot point elsewhere). */
export function readExample(name: string): string {
  return readFileSync(join(EXAMPLES_DIR, basename(name)), "utf8");
}

function run(check: boolean): number {
  const current = readFileSync(API_DOC, "utf8");
  const wanted = embedExamples(current, readExample);
  if (wanted === current) return 0;
  if (check) {
    process.stderr.write("docs/api.md is out of date with docs/examples/; run: npx tsx scripts/gen-api-docs.ts\n");
    return 1;
  }
  writeFileSync(API_DOC, wanted);
  process.stdout.write(`docs/api.md: embedded ${embeddedNames(wanted).join(", ")}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = run(process.argv.includes("--check"));
}
