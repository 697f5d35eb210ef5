/**
 * What a command tells the user, independent of how: human text on stderr
 * (bars on a terminal, plain lines elsewhere) or JSON lines on stdout.
 */
import type { CliIo, GlobalFlags } from "../cli-io.js";
import type { Reporter } from "./displays.js";
import { HumanReporter } from "./human-reporter.js";
import { JsonReporter } from "./json-reporter.js";

export type { Reporter } from "./displays.js";

/**
 * @example
 * const reporter = createReporter(io, { json: false, quiet: false, verbose: false });
 * try { await ensureImage(docker, ref, { onEvent: (e) => reporter.event(e) }) } finally { reporter.close() }
 */
export function createReporter(io: CliIo, flags: GlobalFlags): Reporter {
  return flags.json ? new JsonReporter(io, flags) : new HumanReporter(io, flags);
}
