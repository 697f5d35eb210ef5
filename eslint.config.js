// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Each outside system has one door: only the named folder may import it. */
const doors = [
  { name: "dockerode", door: "src/targets/docker/" },
  { name: "ssh2", door: "src/targets/docker/" },
  { name: "undici", door: "src/registry/" },
  { name: "yaml", door: "src/targets/cluster/" },
  { name: "commander", door: "src/cli/" },
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".world/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "bin/*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...doors.map(({ name, door }) => ({
    files: ["src/**/*.ts"],
    ignores: [`${door}**`],
    rules: {
      "no-restricted-imports": ["error", { paths: [{ name, message: `only ${door} talks to ${name}` }] }],
    },
  })),
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
);
