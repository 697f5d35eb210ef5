/** What every row of the suite gets: the world, the report, and how to run the contenders. */
import type { WorldInfo } from "../../test/world/types.js";
import type { Report } from "./report.js";
import { repoRoot } from "./measure.js";
import { join } from "node:path";

export interface BenchContext {
  readonly info: WorldInfo;
  readonly report: Report;
  /** Alternating runs per contender (≥ 5). */
  readonly runs: number;
  /** A private directory for layouts, keys and configs; removed at the end. */
  readonly scratch: string;
  /** An environment with no registry credentials and no DOCKER_HOST: each row adds what it means to. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (message: string) => void;
}

/** The built CLI, as users run it: `node bin/pullback.cjs …`. */
export const PULLBACK = [process.execPath, join(repoRoot, "bin", "pullback.cjs")] as const;

/** argv for the built CLI with `args`. @example measure(...pullbackArgv(["--version"])) */
export function pullbackArgv(args: readonly string[]): [string, string[]] {
  return [PULLBACK[0], [PULLBACK[1], ...args]];
}

/** Megabytes (10^6 bytes) from time(1)'s KiB. */
export const kibToMB = (kib: number): number => (kib * 1024) / 1e6;
