/**
 * Row 4: pulling public/app:1 on a daemon over SSH, in the same run and through the
 * same ssh configuration — `pullback pull --host ssh://buildbox --ssh-config FILE`
 * against `DOCKER_HOST=ssh://buildbox docker pull` — and how many SSH connections each
 * pull opens (sshd's "Accepted publickey" lines). Both run the system ssh: pullback
 * with `-F FILE`, the docker CLI through an `ssh` on PATH that adds the same `-F FILE`
 * (the docker CLI has no flag for it). `buildbox` is the world's alias for its sshd:
 * non-default port, user, key and known_hosts.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure, type RunResult } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";
import { acceptedSshConnections, removeAllImages } from "../lib/world-probes.js";

interface Sample {
  readonly run: RunResult;
  readonly connections: number;
}

/** A directory with an `ssh` that reads the world's ssh configuration, for the docker CLI. */
async function sshShim(ctx: BenchContext): Promise<string> {
  const dir = join(ctx.scratch, "ssh-shim");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -F '${ctx.info.sshRoutes.configFile}' "$@"\n`);
  await chmod(join(dir, "ssh"), 0o755);
  return dir;
}

/** @example await sshPullRow(ctx) */
export async function sshPullRow(ctx: BenchContext): Promise<void> {
  const { info } = ctx;
  const app = info.fixtures.publicApp;
  const ref = `${info.registries.open.host}/${app.repository}:${app.tag}`;
  const shim = await sshShim(ctx);
  const once = async (run: () => Promise<RunResult>): Promise<Sample> => {
    await removeAllImages(info);
    const before = await acceptedSshConnections(info);
    const result = await run();
    // sshd logs the acceptance before the session starts; the pull has ended, so every line is in.
    return { run: result, connections: (await acceptedSshConnections(info)) - before };
  };
  const samples = await alternate(
    ctx.runs,
    {
      pullback: () =>
        once(() =>
          measure(
            ...pullbackArgv(["pull", ref, "--host", "ssh://buildbox", "--ssh-config", info.sshRoutes.configFile, "--no-credentials", "-q"]),
            { env: ctx.env },
          ),
        ),
      docker: () =>
        once(() =>
          measure("docker", ["pull", "-q", ref], {
            env: { ...ctx.env, DOCKER_HOST: "ssh://buildbox", PATH: `${shim}:${ctx.env.PATH ?? ""}` },
          }),
        ),
    },
    (tool, round, s) => ctx.log(`row 4 ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.run.wallMs)} ms, ${s.connections} SSH connections`),
  );
  await removeAllImages(info);
  const p = ctx.report.figure(
    4,
    "pullback pull --host ssh://…",
    "ms",
    samples.pullback.map((s) => s.run.wallMs),
  );
  const d = ctx.report.figure(
    4,
    "DOCKER_HOST=ssh://… docker pull",
    "ms",
    samples.docker.map((s) => s.run.wallMs),
  );
  const pc = ctx.report.figure(
    4,
    "SSH connections per pull, pullback",
    "count",
    samples.pullback.map((s) => s.connections),
  );
  const dc = ctx.report.figure(
    4,
    "SSH connections per pull, docker CLI",
    "count",
    samples.docker.map((s) => s.connections),
  );
  ctx.report.ratio(4, "pullback ÷ docker CLI over SSH (median wall)", p, d, 1.1);
  const exact = pc.stats.min === 1 && pc.stats.max === 1;
  ctx.report.check(4, "SSH connections per pullback pull (every run)", pc.stats.max, "count", "= 1", exact);
  // README compares the two: the docker CLI also keeps one dial-stdio connection for a whole pull.
  ctx.report.check(4, "SSH connections per docker CLI pull (median)", dc.stats.median, "count", "informational", true);
}
