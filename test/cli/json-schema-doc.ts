/**
 * Reads the `--json` schema out of docs/cli.md — the field table and the kind lists —
 * so tests can hold the documentation and the emitted JSON to each other.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./run-cli.js";

export interface DocumentedField {
  readonly path: string;
  readonly optional: boolean;
}

export interface JsonSchemaDoc {
  /** Line kind ("layer", "outcome (pull)") → its fields. */
  readonly fields: ReadonlyMap<string, readonly DocumentedField[]>;
  /** `error.kind` values → the exit code the list names. */
  readonly errorKinds: ReadonlyMap<string, number | undefined>;
  /** The text of the "Attempt-failed kinds" section. */
  readonly attemptKindsText: string;
  /** The exit codes of the "Exit codes" table. */
  readonly exitCodes: ReadonlySet<number>;
}

const ROW = /^\| `([a-z-]+)`(?: \(([a-z-]+)\))? \| `([^`]+)` \| .* \|$/;

export function readJsonSchemaDoc(text: string = readFileSync(join(ROOT, "docs", "cli.md"), "utf8")): JsonSchemaDoc {
  const fields = new Map<string, DocumentedField[]>();
  for (const line of section(text, "## `--json`").split("\n")) {
    const match = ROW.exec(line);
    if (!match) continue;
    const [, type = "", command, field = ""] = match;
    const key = command === undefined ? type : `${type} (${command})`;
    const optional = field.endsWith("?");
    fields.set(key, [...(fields.get(key) ?? []), { path: optional ? field.slice(0, -1) : field, optional }]);
  }
  const errorKinds = new Map<string, number | undefined>();
  for (const match of section(text, "### Error kinds").matchAll(/^- `([a-z-]+)` — .*?(?:\(exit (\d+)\))?$/gm)) {
    errorKinds.set(match[1] ?? "", match[2] === undefined ? undefined : Number(match[2]));
  }
  const attemptKindsText = section(text, "### Attempt-failed kinds");
  const exitCodes = new Set([...section(text, "## Exit codes").matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])));
  return { fields, errorKinds, attemptKindsText, exitCodes };
}

/** The text from a heading to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}`);
  if (start < 0) throw new Error(`docs/cli.md has no section ${heading}`);
  const level = heading.indexOf(" ");
  const rest = text.slice(start + heading.length + 1);
  const next = rest.search(new RegExp(`\\n#{1,${level}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

/**
 * Every field path of a JSON line, as the table writes them: `image.id`, `attempts[].failure.kind`.
 * null and scalars end a path; arrays add `[]` and describe their elements.
 */
export function fieldPaths(value: Readonly<Record<string, unknown>>, prefix = ""): string[] {
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (prefix === "" && key === "type") continue;
    const path = `${prefix}${key}`;
    paths.push(path);
    if (Array.isArray(child)) {
      for (const element of child) if (isObject(element)) paths.push(...fieldPaths(element, `${path}[].`));
    } else if (isObject(child)) {
      paths.push(...fieldPaths(child, `${path}.`));
    }
  }
  return [...new Set(paths)];
}

/** Documented fields a line lacks although their parent is there (`diagnosis.summary` of a null diagnosis is not lacking). */
export function missingRequired(line: Readonly<Record<string, unknown>>, documented: readonly DocumentedField[]): string[] {
  return documented
    .filter((field) => !field.optional && parentsOf(line, field.path).some((parent) => !(lastKey(field.path) in parent)))
    .map((f) => f.path);
}

function parentsOf(line: Readonly<Record<string, unknown>>, path: string): Record<string, unknown>[] {
  let level: unknown[] = [line];
  const steps = path.split(".").slice(0, -1);
  for (const step of steps) {
    const array = step.endsWith("[]");
    const key = array ? step.slice(0, -2) : step;
    level = level.flatMap((node): unknown[] => {
      const child = isObject(node) ? node[key] : undefined;
      return array ? (Array.isArray(child) ? (child as unknown[]) : []) : [child];
    });
  }
  const last = path.split(".").at(-1) ?? "";
  if (last.endsWith("[]")) return [];
  return level.filter(isObject);
}

function lastKey(path: string): string {
  return path.split(".").at(-1) ?? path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The members of a string-literal union type, read from its source file. */
export function unionMembers(file: string, typeName: string): Set<string> {
  // Comments go first: they may hold a ";" or quotes.
  const source = readFileSync(join(ROOT, file), "utf8")
    .replace(/\/\/.*$/gm, "")
    .replace(/\/\*[\s\S]*?\*\//g, "");
  const body = new RegExp(`export type ${typeName} =([\\s\\S]*?);`).exec(source)?.[1];
  if (body === undefined) throw new Error(`${file} declares no type ${typeName}`);
  return new Set([...body.matchAll(/(?:^|\|)\s*"([a-z-]+)"/gm)].map((m) => m[1] ?? ""));
}
