/**
 * The JavaScript of dist/: two entry points (the library's index and the CLI's main)
 * bundled by esbuild, with every dynamic import split into its own chunk so that a
 * command loads only what it runs. tsc writes the declarations (tsconfig.build.json).
 * Why: Node's ESM loader pays per module (resolve, stat, read, link); ~80 small files
 * cost `import("pullback")` more than the code in them. Dependencies stay external.
 *
 * @example
 * npm run build   # tsc (declarations) && tsx scripts/bundle.ts
 */
import { build } from "esbuild";

const common = {
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: true,
  logLevel: "warning",
} as const;

// Two builds, so that neither splits its chunks along the other's lazy imports: fewer,
// larger chunks per command. The CLI never imports the library entry, so the copies
// of a module in each never meet (no instanceof across them).
// The index is lazy-index.ts: index.ts's exports, the async ones loading their modules on first call.
await build({ ...common, entryPoints: { index: "src/lazy-index.ts" } });
await build({ ...common, entryPoints: { "cli/main": "src/cli/main.ts" } });
