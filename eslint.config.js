// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Each outside system has one door: only the named folder (or file) may import it.
 * Registries are spoken to only from src/registry, the Docker Engine API only from
 * engine-http.ts: elsewhere node:http may lend its Agent (the docker API over SSH)
 * but not send requests, and node:https not at all.
 * Child processes are the door to OpenSSH (one module alone spawns `ssh`) and to
 * Docker credential helpers.
 * @type {{ name: string, door: string, importNames?: string[] }[]}
 */
const doors = [
  { name: "node:child_process", door: "src/targets/docker/ssh-transport.ts" },
  { name: "node:child_process", door: "src/credentials/credential-helper.ts" },
  { name: "node:http", door: "src/registry/", importNames: ["request", "get"] },
  { name: "node:http", door: "src/targets/docker/engine-http.ts", importNames: ["request", "get"] },
  { name: "node:https", door: "src/registry/" },
  { name: "node:https", door: "src/targets/docker/engine-http.ts" },
  { name: "yaml", door: "src/targets/cluster/" },
  { name: "commander", door: "src/cli/" },
];
const doorFolders = [...new Set(doors.map(({ door }) => door))];

/** One rule holding every door `folder` is not: flat config replaces a rule's options, it does not merge them. */
/** @param {string | undefined} folder */
function doorRule(folder) {
  const names = [...new Set(doors.map(({ name }) => name))];
  const paths = names
    .map((name) => ({ name, entries: doors.filter((d) => d.name === name) }))
    .filter(({ entries }) => !entries.some(({ door }) => door === folder || (folder !== undefined && folder.startsWith(door))))
    .map(({ name, entries }) => ({
      name,
      ...(entries[0]?.importNames ? { importNames: entries[0].importNames } : {}),
      message: `only ${entries.map(({ door }) => door).join(" and ")} talk${entries.length === 1 ? "s" : ""} to ${name}`,
    }));
  return { "no-restricted-imports": ["error", { paths }] };
}

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".world/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The CommonJS bin: a few lines of plain JavaScript handing the process to dist/cli/launch.cjs.
    files: ["bin/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: false, program: null },
      sourceType: "commonjs",
      globals: { require: "readonly", __dirname: "readonly" },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, "@typescript-eslint/no-require-imports": "off" },
  },
  { files: ["src/**/*.ts"], rules: doorRule(undefined) },
  ...doorFolders.map((folder) => ({ files: [folder.endsWith(".ts") ? folder : `${folder}**/*.ts`], rules: doorRule(folder) })),
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
);
