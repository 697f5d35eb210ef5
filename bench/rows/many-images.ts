/**
 * Row 7: ensuring 20 small images that are already in the daemon — no registry
 * traffic at all (token service and every registry's access log counted) and the
 * whole loop under a second. public/app:1 is tagged under 20 names first.
 */
import { join } from "node:path";
import type { WorldInfo } from "../../test/world/types.js";
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure, repoRoot } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";
import { clearTokenRequests, registryRequestCount, removeAllImages, tagImage, tokenRequests } from "../lib/world-probes.js";

const COUNT = 20;
const REGISTRIES = ["token", "tokenOtherRealm", "tokenEmptyAccess", "basic", "open"] as const;

async function traffic(info: WorldInfo): Promise<number> {
  const counts = await Promise.all(REGISTRIES.map((name) => registryRequestCount(info, name)));
  return counts.reduce((a, b) => a + b, 0) + (await tokenRequests(info)).length;
}

/** @example await manyImagesRow(ctx) */
export async function manyImagesRow(ctx: BenchContext): Promise<void> {
  const { info } = ctx;
  const app = info.fixtures.publicApp;
  const source = `${info.registries.open.host}/${app.repository}:${app.tag}`;
  await removeAllImages(info);
  await measure("docker", ["-H", info.dockerHost, "pull", "-q", source], { env: ctx.env });
  const names = Array.from({ length: COUNT }, (_, i) => `${info.registries.token.host}/bench/many-${i}`);
  for (const name of names) await tagImage(info, source, name, "1");
  const refs = names.map((name) => `${name}:1`);
  const once = async (run: () => Promise<number>): Promise<{ ms: number; requests: number }> => {
    await clearTokenRequests(info);
    const before = await traffic(info);
    const ms = await run();
    return { ms, requests: (await traffic(info)) - before };
  };
  const samples = await alternate(
    ctx.runs,
    {
      library: () =>
        once(async () => {
          const result = await measure(
            process.execPath,
            ["--import", "tsx", join(repoRoot, "bench", "many-images-child.ts"), info.dockerHost, ...refs],
            { env: ctx.env },
          );
          const report = JSON.parse(result.stdout.trim()) as { ms: number; present: number };
          if (report.present !== COUNT) throw new Error(`only ${report.present} of ${COUNT} images were found present`);
          return report.ms;
        }),
      cli: () =>
        once(async () => {
          let total = 0;
          for (const ref of refs)
            total += (await measure(...pullbackArgv(["pull", ref, "--host", info.dockerHost, "--pull", "missing", "-q"]), { env: ctx.env }))
              .wallMs;
          return total;
        }),
    },
    (tool, round, s) => ctx.log(`row 7 ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.ms)} ms, ${s.requests} requests`),
  );
  await removeAllImages(info);
  const lib = ctx.report.figure(
    7,
    `ensureImage × ${COUNT} in one process (connection included)`,
    "ms",
    samples.library.map((s) => s.ms),
  );
  ctx.report.figure(
    7,
    `pullback pull × ${COUNT}, one process each`,
    "ms",
    samples.cli.map((s) => s.ms),
  );
  const requests = [...samples.library, ...samples.cli].map((s) => s.requests);
  ctx.report.figure(7, "registry + token-service requests per round", "count", requests);
  ctx.report.check(
    7,
    `registry + token-service requests while ensuring ${COUNT} present images (all runs)`,
    Math.max(...requests),
    "count",
    "= 0",
    Math.max(...requests) === 0,
  );
  ctx.report.check(7, `ensureImage × ${COUNT}, median total`, lib.stats.median, "ms", "< 1000 ms", lib.stats.median < 1000);
  ctx.report.note(
    7,
    `The images are tagged ${info.registries.token.host.replace(/:\d+$/, ":PORT")}/bench/many-N:1, so a registry request would land on the token registry and its token service. The CLI loop pays a Node start-up per image; the goal is for the library loop.`,
  );
}
