/**
 * What a daemonless pull takes from the command line beyond the options every path shares —
 * the same for one image (`pull.ts`) and for a set (`pull-set.ts`).
 */
import type { Exchange } from "../../registry/http.js";
import type { CliIo } from "../cli-io.js";
import { describeExchange } from "../output/format-exchange.js";
import type { PullCommandFlags } from "./pull-plan.js";

/** @example pullImage(ref, { ...common, to, ...daemonlessOptions(plan, flags, io, (line) => reporter.debug(line)) }) */
export function daemonlessOptions(
  plan: { readonly certDir: string | undefined },
  flags: PullCommandFlags,
  io: CliIo,
  debug: (line: string) => void,
) {
  return {
    onExchange: (exchange: Exchange) => debug(describeExchange(exchange)),
    env: io.env,
    ...(plan.certDir === undefined ? {} : { tls: { certDir: plan.certDir } }),
    allPlatforms: flags.allPlatforms,
    replace: flags.replace,
  };
}
