/**
 * The JavaScript of dist/, bundled by esbuild (tsc writes the declarations, tsconfig.build.json):
 * - the library, dist/index.js: ESM, every dynamic import split into its own chunk so that a
 *   library user loads only what they call (Node's ESM loader pays per module: resolve, stat,
 *   read, link); its dependencies stay external;
 * - the CLI, dist/cli/pullback.cjs: one CommonJS file with the CLI's always-loaded dependency
 *   (commander) inside, so that dist/cli/launch.cjs can compile all of it through V8's code
 *   cache (src/cli/launch/); dist/cli/check.cjs and pull-daemon.cjs, the same without what
 *   their route never runs. The licences of what they bundle are appended to them.
 *
 * @example
 * npm run build   # tsc (declarations) && tsx scripts/bundle.ts
 */
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { appendFileSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const node = { platform: "node", target: "node20", bundle: true, sourcemap: true, logLevel: "warning" } as const;

await build({
  ...node,
  outdir: "dist",
  splitting: true,
  format: "esm",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  entryPoints: { index: "src/lazy-index.ts" },
});

// import.meta.url (package.json's place, createRequire) means the bundle file itself in CommonJS.
const commonJs: BuildOptions = {
  ...node,
  format: "cjs",
  outdir: "dist/cli",
  outExtension: { ".js": ".cjs" },
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Smaller source is less to read, convert and deserialize at every start-up: short names took
  // the bundle from 405 to 283 KB and `check` 3 ms faster (interleaved medians of 25). Stacks map
  // back through dist/cli/pullback.cjs.map (node --enable-source-maps); errors name themselves.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  metafile: true,
  plugins: [
    lazyBuiltins([
      "node:child_process",
      "node:fs/promises",
      "node:timers/promises",
      "node:stream/promises",
      "node:os",
      "node:http",
      "node:https",
    ]),
  ],
};
const cli = await build({ ...commonJs, entryPoints: { pullback: "src/cli/main.ts" } });
// The commonest routes run from bundles of their own: the same program without the modules the
// route never runs, less code to read and to deserialize from the cache (src/cli/launch/launch.ts
// picks one by command and route). `check` is half the CLI (~5 ms sooner), a pull onto a daemon
// three quarters of it (~4 ms).
const ROUTE_BUNDLES: Record<string, readonly string[]> = {
  check: ["./commands/pull.js", "./commands/cluster-config.js"],
  "pull-daemon": [
    "./commands/check.js",
    "./commands/cluster-config.js",
    "../../targets/oci/pull-image.js",
    "../../targets/oci/pull-images.js",
  ],
};
const routes = await Promise.all(
  Object.entries(ROUTE_BUNDLES).map(async ([name, left]) => {
    const result = await build({
      ...commonJs,
      entryPoints: { [name]: "src/cli/main.ts" },
      plugins: [leaveOut(name, left), ...commonJs.plugins!],
    });
    return [name, result.metafile!] as const;
  }),
);
await build({ ...commonJs, entryPoints: { launch: "src/cli/launch/launch.ts" }, metafile: false });
finishBundle(join("dist", "cli", "pullback.cjs"), cli.metafile!);
for (const [name, metafile] of routes) finishBundle(join("dist", "cli", `${name}.cjs`), metafile);

/** Licences appended, then the build id as the last line: the compile cache is filed under it (src/cli/launch/compile-cache.ts). */
function finishBundle(bundleFile: string, metafile: Metafile): void {
  // node:vm compiles the bundle as a script, which has no import(): every import must have become a require.
  if (/\bimport\(/.test(readFileSync(bundleFile, "utf8"))) throw new Error(`${bundleFile} still has a dynamic import()`);
  appendFileSync(bundleFile, licenceNotices(metafile));
  const bundleId = createHash("sha256").update(readFileSync(bundleFile)).digest("hex").slice(0, 32);
  appendFileSync(bundleFile, `//# pullbackBundleId=${bundleId}\n`);
}

/** The modules a route bundle leaves out, each replaced by one that says the launcher chose the wrong bundle, should it ever load. */
function leaveOut(bundle: string, specifiers: readonly string[]): Plugin {
  const filter = new RegExp(`^(${specifiers.map((specifier) => specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$`);
  return {
    name: "leave-out",
    setup(on) {
      on.onResolve({ filter }, ({ path }) => ({ path, namespace: "left-out" }));
      on.onLoad({ filter: /.*/, namespace: "left-out" }, ({ path }) => ({
        contents: `throw new Error(${JSON.stringify(`internal error: ${path} is not in the ${bundle} bundle (src/cli/launch/launch.ts chose it)`)});`,
        loader: "js",
      }));
    },
  };
}

/**
 * Builtins most commands never call, loaded on first use instead of at start-up. commander
 * requires node:child_process (for subcommands in other files, which pullback has none of),
 * and only a credential helper or ssh spawns anything; fs/promises, os and the promise timers
 * and streams serve paths a short command does not take; node:http and node:https only
 * proxied registry requests, request bodies and the Docker daemon's API. Each becomes an object of getters.
 */
function lazyBuiltins(names: readonly string[]): Plugin {
  const filter = new RegExp(`^(${names.join("|")})$`);
  return {
    name: "lazy-builtins",
    setup(on) {
      on.onResolve({ filter }, ({ path, namespace }) =>
        namespace === "lazy-builtin" ? { path, external: true } : { path, namespace: "lazy-builtin" },
      );
      on.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, ({ path }) => {
        const keys = Object.keys(createRequire(import.meta.url)(path) as object);
        const getters = keys.map((key) => `${JSON.stringify(key)}: { enumerable: true, get: () => load()[${JSON.stringify(key)}] }`);
        const contents = `let real; const load = () => (real ??= require(${JSON.stringify(path)}));
Object.defineProperties(module.exports, { ${getters.join(", ")} });`;
        return { contents, loader: "js" };
      });
    },
  };
}

/** The licence texts of the packages bundled into the CLI, as one closing comment. */
function licenceNotices(metafile: Metafile): string {
  const packages = new Set(
    Object.keys(metafile.inputs)
      .map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1])
      .filter((name) => name !== undefined),
  );
  const notices = [...packages].sort().map((name) => {
    const folder = join("node_modules", name);
    const licence = readdirSync(folder).find((file) => /^licen[cs]e/i.test(file));
    if (licence === undefined) throw new Error(`${name} is bundled into the CLI but has no licence file`);
    return `${name}:\n\n${readFileSync(join(folder, licence), "utf8").replaceAll("*/", "* /")}`;
  });
  return notices.length === 0 ? "" : `/*! Bundled third-party code and its licences.\n\n${notices.join("\n\n")}\n*/\n`;
}
