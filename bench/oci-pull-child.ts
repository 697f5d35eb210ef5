/**
 * One pullback pull in its own process, for bench/oci-pull.ts: prints
 * `{"ms":…,"maxRssKiB":…,"digest":…}` on stdout.
 *
 * @example
 * node --import tsx bench/oci-pull-child.ts 127.0.0.1:5000/public/big:1 oci:/tmp/layout:big
 */
import { parseDestination, pullImage } from "../src/targets/oci/pull-image.js";

const [ref, destination] = process.argv.slice(2);
if (ref === undefined || destination === undefined) throw new Error("usage: oci-pull-child REF DESTINATION");
const started = performance.now();
const outcome = await pullImage(ref, { to: parseDestination(destination) });
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, digest: outcome.image.digest })}\n`);
