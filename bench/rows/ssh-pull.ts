/**
 * Row 4: pulling public/app:1 on a daemon over SSH — `pullback pull --host ssh://…`
 * against `DOCKER_HOST=ssh://… docker pull`, and how many SSH connections each
 * pull opens (sshd's "Accepted publickey" lines). The docker CLI runs `ssh` from
 * PATH; a wrapper there hands it the world's key and known_hosts with `-F`.
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

/** A directory with an `ssh` that uses the world's identity and known_hosts, for the docker CLI. */
async function sshShim(ctx: BenchContext): Promise<string> {
  const dir = join(ctx.scratch, "ssh-shim");
  await mkdir(dir, { recursive: true });
  const config = join(dir, "ssh_config");
  await writeFile(config, [
    "Host *",
    `  IdentityFile ${ctx.info.ssh.keyFile}`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile ${ctx.info.ssh.knownHostsFile}`,
    "  StrictHostKeyChecking yes",
    "  BatchMode yes",
    "",
  ].join("\n"));
  await writeFile(join(dir, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -F '${config}' "$@"\n`);
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
  const samples = await alternate(ctx.runs, {
    pullback: () => once(() => measure(...pullbackArgv(["pull", ref, "--host", info.ssh.url, "-i", info.ssh.keyFile, "--known-hosts", info.ssh.knownHostsFile, "--no-credentials", "-q"]), { env: ctx.env })),
    docker: () => once(() => measure("docker", ["pull", "-q", ref], { env: { ...ctx.env, DOCKER_HOST: info.ssh.url, PATH: `${shim}:${ctx.env.PATH ?? ""}` } })),
  }, (tool, round, s) => ctx.log(`row 4 ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.run.wallMs)} ms, ${s.connections} SSH connections`));
  await removeAllImages(info);
  const p = ctx.report.figure(4, "pullback pull --host ssh://…", "ms", samples.pullback.map((s) => s.run.wallMs));
  const d = ctx.report.figure(4, "DOCKER_HOST=ssh://… docker pull", "ms", samples.docker.map((s) => s.run.wallMs));
  const pc = ctx.report.figure(4, "SSH connections per pull, pullback", "count", samples.pullback.map((s) => s.connections));
  ctx.report.figure(4, "SSH connections per pull, docker CLI", "count", samples.docker.map((s) => s.connections));
  ctx.report.check(4, "pullback ÷ docker CLI over SSH (median wall)", p.stats.median / d.stats.median, "×", "informational", true);
  const exact = pc.stats.min === 1 && pc.stats.max === 1;
  ctx.report.check(4, "SSH connections per pullback pull (every run)", pc.stats.max, "count", "= 1", exact);
}
