/**
 * Row 3: the price of a refused credential — public/app:1 from the token registry
 * through the daemon with bob's credentials (valid, no access: refused, then the
 * anonymous retry) against the same pull with `--no-credentials`. Credentials go
 * through the environment, never argv.
 */
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure, type RunResult } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";
import { clearTokenRequests, registryRequestCount, removeAllImages, tokenRequests } from "../lib/world-probes.js";

interface Sample {
  readonly run: RunResult;
  readonly tokenRequests: number;
  readonly registryRequests: number;
}

/** @example await fallbackRow(ctx) */
export async function fallbackRow(ctx: BenchContext): Promise<void> {
  const { info } = ctx;
  const app = info.fixtures.publicApp;
  const ref = `${info.registries.token.host}/${app.repository}:${app.tag}`;
  const base = pullbackArgv(["pull", ref, "--host", info.dockerHost, "-q"]);
  const once = async (args: readonly string[], env: NodeJS.ProcessEnv): Promise<Sample> => {
    await removeAllImages(info);
    await clearTokenRequests(info);
    const before = await registryRequestCount(info, "token");
    const run = await measure(base[0], [...base[1], ...args], { env });
    return {
      run,
      tokenRequests: (await tokenRequests(info)).length,
      registryRequests: (await registryRequestCount(info, "token")) - before,
    };
  };
  const bobEnv = { ...ctx.env, PULLBACK_REGISTRY_USERNAME: info.users.bob.username, PULLBACK_REGISTRY_TOKEN: info.users.bob.password };
  const samples = await alternate(
    ctx.runs,
    {
      refused: () => once([], bobEnv),
      anonymous: () => once(["--no-credentials"], ctx.env),
    },
    (tool, round, s) =>
      ctx.log(
        `row 3 ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.run.wallMs)} ms, ${s.tokenRequests} token + ${s.registryRequests} registry requests`,
      ),
  );
  await removeAllImages(info);
  const r = ctx.report.figure(
    3,
    "refused credential (bob) → anonymous retry",
    "ms",
    samples.refused.map((s) => s.run.wallMs),
  );
  const a = ctx.report.figure(
    3,
    "anonymous (--no-credentials)",
    "ms",
    samples.anonymous.map((s) => s.run.wallMs),
  );
  const rt = ctx.report.figure(
    3,
    "token-service requests, refused credential",
    "count",
    samples.refused.map((s) => s.tokenRequests),
  );
  const at = ctx.report.figure(
    3,
    "token-service requests, anonymous",
    "count",
    samples.anonymous.map((s) => s.tokenRequests),
  );
  const rr = ctx.report.figure(
    3,
    "registry requests, refused credential",
    "count",
    samples.refused.map((s) => s.registryRequests),
  );
  const ar = ctx.report.figure(
    3,
    "registry requests, anonymous",
    "count",
    samples.anonymous.map((s) => s.registryRequests),
  );
  ctx.report.ratio(3, "refused ÷ anonymous (median wall)", r, a, 1.15);
  ctx.report.note(
    3,
    `Extra round trips of the fallback (medians): ${rt.stats.median - at.stats.median} to the token service, ${rr.stats.median - ar.stats.median} to the registry (distribution's access log; dockerd's own requests included).`,
  );
}
