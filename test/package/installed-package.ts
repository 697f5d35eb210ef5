/**
 * Packs pullback the way `npm publish` would and installs the tarball into an
 * empty project, the way a user gets it. The build runs in a staging copy of the
 * package (sources, bin, docs, configs), so it starts from no dist/ at all and
 * never disturbs the checkout's dist/, which other tests use at the same time.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const TSC = join(ROOT, "node_modules", ".bin", "tsc");
export const PUBLINT = join(ROOT, "node_modules", ".bin", "publint");

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real npm cache, so installs with a throwaway HOME need not download everything again. */
const NPM_CACHE = process.env.npm_config_cache ?? join(process.env.HOME ?? tmpdir(), ".npm");

/**
 * Run a command (argv, no shell) and collect its output; never throws on a non-zero exit.
 *
 * @example
 * const { code, stdout } = await run("npm", ["pack", "--json"], { cwd });
 */
export function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const env = { ...(options.env ?? process.env), npm_config_cache: NPM_CACHE, npm_config_update_notifier: "false" };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, [...args], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Throw with the whole output when a setup step fails: the test cannot go on without it. */
export function mustSucceed(what: string, result: Run): Run {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** What `npm pack --json` reports about the tarball. */
export interface PackReport {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly { readonly path: string; readonly size: number; readonly mode: number }[];
}

/**
 * Copy what the package is built from into a fresh directory, then `npm pack` there
 * (its prepack script cleans dist/ and runs `npm run build`).
 *
 * @example
 * const { tarball, report } = await packFromStaging(mkdtempSync(join(tmpdir(), "pack-")));
 */
export async function packFromStaging(workDir: string): Promise<{ tarball: string; report: PackReport; stagingDir: string }> {
  const stagingDir = join(workDir, "staging");
  const entries = [
    "package.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "bin",
    "src",
    "tsconfig.json",
    "tsconfig.build.json",
    "scripts/bundle.ts",
  ];
  for (const entry of entries) {
    cpSync(join(ROOT, entry), join(stagingDir, entry), { recursive: true });
  }
  // The build needs typescript and @types/node; the tarball must not contain node_modules (npm never packs it).
  symlinkSync(join(ROOT, "node_modules"), join(stagingDir, "node_modules"), "dir");
  const packDir = join(workDir, "pack");
  mkdirSync(packDir);
  const packed = mustSucceed("npm pack", await run("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: stagingDir }));
  // prepack's output (npm run clean/build) precedes the JSON on stdout.
  const report = (JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[\n"))) as PackReport[])[0]!;
  return { tarball: join(packDir, report.filename), report, stagingDir };
}

/**
 * `npm init -y` in an empty directory, ESM, then install the tarball (and @types/node@20 for the consumer).
 *
 * @example
 * const project = await installIntoEmptyProject(tarball, mkdtempSync(join(tmpdir(), "consumer-")));
 */
export async function installIntoEmptyProject(tarball: string, dir: string): Promise<string> {
  mustSucceed("npm init", await run("npm", ["init", "-y"], { cwd: dir }));
  mustSucceed("npm pkg set", await run("npm", ["pkg", "set", "type=module"], { cwd: dir }));
  mustSucceed("npm install", await run("npm", ["install", "--no-audit", "--no-fund", tarball, "@types/node@20"], { cwd: dir }));
  return join(dir, "node_modules", "pullback");
}

/** Every file below `dir`, relative to it, with forward slashes. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}

/** Statements as tsc emits them (at the start of a line), dynamic imports and requires anywhere. */
const SPECIFIERS = [
  /^\s*(?:import|export)\s[^;]*?\bfrom\s*"([^"\n]+)";/gm,
  /^\s*import\s*"([^"\n]+)";/gm,
  /\bimport\(\s*"([^"\n]+)"\s*\)/g,
  // A bundle renames a module's own createRequire() function: `require2("yaml")`.
  /\brequire\d*\(\s*"([^"\n]+)"\s*\)/g,
  // Or the require is called where it is made: `createRequire(import.meta.url)("commander")`.
  /\bcreateRequire\([^()]*\)\(\s*"([^"\n]+)"\s*\)/g,
];

/** A minified bundle names a module's createRequire() function anyhow: `bp=(0,Ol.createRequire)(__bundleUrl)`, then `bp("yaml")`. */
function madeRequireCalls(text: string): string[] {
  const names = [...text.matchAll(/([\w$]+)\s*=\s*(?:\(0,\s*)?[\w$.]*\bcreateRequire\)?\(/g)].map((match) => match[1]!);
  return names.flatMap((name) =>
    [...text.matchAll(new RegExp(`(?<![\\w$.])${name.replace(/\$/g, "\\$")}\\(\\s*"([^"\\n]+)"\\s*\\)`, "g"))].map((match) => match[1]!),
  );
}

/**
 * The module specifiers a JS or .d.ts file imports (static, dynamic, side-effect, require).
 *
 * @example
 * importSpecifiers('import { a } from "./a.js"; await import("node:fs");') // → ["./a.js", "node:fs"]
 */
export function importSpecifiers(text: string): string[] {
  return [
    ...new Set([...SPECIFIERS.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!)), ...madeRequireCalls(text)]),
  ];
}

/**
 * The npm package a bare specifier names: "@scope/x/y" → "@scope/x", "x/y" → "x"; undefined for relative ones and builtins.
 *
 * @example
 * packageOf("yaml/util") // → "yaml"
 */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || isBuiltin(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * Every .d.ts reachable from `entry` through relative imports, with the bare specifiers each one imports.
 *
 * @example
 * reachableDeclarations(join(pkg, "dist/index.d.ts")).get(".../dist/errors.d.ts") // → []
 */
export function reachableDeclarations(entry: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (found.has(file)) continue;
    const specifiers = importSpecifiers(readFileSync(file, "utf8"));
    found.set(
      file,
      specifiers.filter((s) => !s.startsWith(".")),
    );
    for (const s of specifiers.filter((s) => s.startsWith("."))) queue.push(resolve(dirname(file), s.replace(/\.js$/, ".d.ts")));
  }
  return found;
}

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pullback-${prefix}-`));
}
