/**
 * The yaml library, loaded the first time a registries.yaml or a pull secret is read or
 * written: importing pullback, or running a daemon pull, must not pay ~70 modules for it.
 * Under Node yaml is CommonJS, so a synchronous require keeps the readers synchronous.
 */
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

/** @example const { parseDocument } = yaml(); */
export function yaml(): typeof Yaml {
  loaded ??= require("yaml") as typeof Yaml;
  return loaded;
}
