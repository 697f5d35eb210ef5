/**
 * The version is package.json's, read when asked: the same file ships beside
 * dist/, so it can never disagree with what is installed.
 */
import { readFileSync } from "node:fs";

/**
 * @example
 * packageVersion() // → "0.1.0"
 */
export function packageVersion(): string {
  // dist/cli/version.js and src/cli/version.ts both sit two levels below the package root.
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === "string" ? version : "unknown";
}
