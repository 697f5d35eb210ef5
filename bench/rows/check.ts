/**
 * Row 6: verification latency — `pullback check IMAGE` against the token registry
 * with alice's credentials (environment) against curl fetching a token from the
 * token service with the same credentials (a `-K` config file, never argv).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";

/** @example await checkRow(ctx) */
export async function checkRow(ctx: BenchContext): Promise<void> {
  const { info } = ctx;
  const app = info.fixtures.publicApp;
  const ref = `${info.registries.token.host}/${app.repository}:${app.tag}`;
  const curlConfig = join(ctx.scratch, "curl-alice.conf");
  await writeFile(curlConfig, `user = "${info.users.alice.username}:${info.users.alice.password}"\n`, { mode: 0o600 });
  const tokenUrl = `${info.tokenService.url}/token?service=pullback-token&scope=${encodeURIComponent(`repository:${app.repository}:pull`)}`;
  const aliceEnv = {
    ...ctx.env,
    PULLBACK_REGISTRY_USERNAME: info.users.alice.username,
    PULLBACK_REGISTRY_TOKEN: info.users.alice.password,
  };
  const samples = await alternate(ctx.runs * 2, {
    pullback: () => measure(...pullbackArgv(["check", ref, "-q"]), { env: aliceEnv }),
    curl: () => measure("curl", ["-sSf", "-o", "/dev/null", "-K", curlConfig, tokenUrl], { env: ctx.env }),
    node: () => measure(process.execPath, ["-e", "0"], { env: ctx.env }),
  });
  const p = ctx.report.figure(
    6,
    "pullback check (alice, token registry)",
    "ms",
    samples.pullback.map((s) => s.wallMs),
  );
  const c = ctx.report.figure(
    6,
    "curl -K … token endpoint (alice)",
    "ms",
    samples.curl.map((s) => s.wallMs),
  );
  const n = ctx.report.figure(
    6,
    "node -e 0 (for scale)",
    "ms",
    samples.node.map((s) => s.wallMs),
  );
  ctx.report.ratio(6, "pullback check ÷ curl (median wall)", p, c, 1.5);
  ctx.report.note(
    6,
    `pullback check minus a bare Node start-up: ${(p.stats.median - n.stats.median).toFixed(0)} ms (medians). check pings /v2/, fetches a token and asks the registry for the manifest; curl makes one token request.`,
  );
  ctx.log(`row 6: pullback check ${p.stats.median.toFixed(0)} ms, curl ${c.stats.median.toFixed(0)} ms`);
}
