/**
 * Row 10: a set of 10 small images (world.fixtures.set, sharing one base layer) pulled by
 * pullback in ONE run against what people do today — a shell loop of `skopeo copy` into
 * one OCI layout (daemonless) and a shell loop of `docker pull` (the world's dockerd).
 * Fresh destination before every run (layout removed, daemon emptied), from the open registry.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pullbackArgv, type BenchContext } from "../lib/context.js";
import { measure, type RunResult } from "../lib/measure.js";
import { alternate } from "../lib/stats.js";
import { removeAllImages } from "../lib/world-probes.js";

export const IMAGE_SET_ROW = 10;
const COUNT = 10;
const GOAL = 0.5;

/** Each reference into the same layout, tagged by its repository's last part, one skopeo process per image. */
const SKOPEO_LOOP = `dir="$1"; shift
for ref in "$@"; do
  skopeo copy --quiet --src-tls-verify=false "docker://$ref" "oci:$dir:\${ref##*/}" || exit 1
done`;

const DOCKER_LOOP = `host="$1"; shift
for ref in "$@"; do
  docker -H "$host" pull -q "$ref" > /dev/null || exit 1
done`;

/** @example await imageSetRow(ctx) */
export async function imageSetRow(ctx: BenchContext): Promise<void> {
  const { info, report } = ctx;
  const row = IMAGE_SET_ROW;
  const set = info.fixtures.set.slice(0, COUNT);
  if (set.length < COUNT) throw new Error(`the world has ${set.length} set images, the row needs ${COUNT}`);
  const refs = set.map((image) => `${info.registries.open.host}/${image.repository}:${image.tag}`);
  const list = join(ctx.scratch, "image-set.txt");
  await writeFile(list, `# ${COUNT} images of world.fixtures.set\n${refs.join("\n")}\n`);
  const layout = (tool: string, round: number): string => join(ctx.scratch, `image-set-${tool}-${round}`);
  const inLayout = async (dir: string, run: () => Promise<RunResult>): Promise<RunResult> => {
    await rm(dir, { recursive: true, force: true });
    try {
      return await run();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const onDaemon = async (run: () => Promise<RunResult>): Promise<RunResult> => {
    await removeAllImages(info);
    return run();
  };
  const host = info.dockerHost;
  const samples = await alternate(
    ctx.runs,
    {
      pullbackOci: (round) =>
        inLayout(layout("pullback", round), () =>
          measure(...pullbackArgv(["pull", "--file", list, "--to", `oci:${layout("pullback", round)}`, "--no-credentials", "-q"]), {
            env: ctx.env,
          }),
        ),
      skopeoLoop: (round) =>
        inLayout(layout("skopeo", round), () =>
          measure("sh", ["-c", SKOPEO_LOOP, "skopeo-loop", layout("skopeo", round), ...refs], { env: ctx.env }),
        ),
      pullbackDaemon: () =>
        onDaemon(() => measure(...pullbackArgv(["pull", "--file", list, "--host", host, "--no-credentials", "-q"]), { env: ctx.env })),
      dockerLoop: () => onDaemon(() => measure("sh", ["-c", DOCKER_LOOP, "docker-loop", host, ...refs], { env: ctx.env })),
    },
    (tool, round, s) => ctx.log(`row ${row} ${round + 1}/${ctx.runs} ${tool}: ${Math.round(s.wallMs)} ms`),
  );
  await removeAllImages(info);
  const wall = (label: string, runs: readonly RunResult[]) =>
    report.figure(
      row,
      label,
      "ms",
      runs.map((s) => s.wallMs),
    );
  const pOci = wall(`pullback pull --file (${COUNT} images) --to oci:DIR, one run`, samples.pullbackOci);
  const skopeo = wall(`shell loop: skopeo copy × ${COUNT} into one oci:DIR`, samples.skopeoLoop);
  const pDaemon = wall(`pullback pull --file (${COUNT} images) --host unix://…, one run`, samples.pullbackDaemon);
  const docker = wall(`shell loop: docker -H unix://… pull × ${COUNT}`, samples.dockerLoop);
  report.ratio(row, `pullback set ÷ skopeo loop, ${COUNT} images into an OCI layout (median wall)`, pOci, skopeo, GOAL);
  report.ratio(row, `pullback set ÷ docker pull loop, ${COUNT} images onto the daemon (median wall)`, pDaemon, docker, GOAL);
  report.note(
    row,
    `${COUNT} images of world.fixtures.set (public/set-1…8, private/set-1…2 on the open registry): each a 512 KiB base layer shared by all and its own 128 KiB layer. Whole processes, Node start-up included: pullback runs once for the set (default --jobs 4); the loops run one skopeo or docker process per image, one after the other, as a shell script does. Before each run the layout is removed / the daemon emptied. What bounds the ratios: onto the daemon, dockerd does the transfer and the extraction (vfs storage driver here) for both contenders, so pullback can only save the nine docker CLI start-ups and the per-image round trips; into a layout, the images are so small that one Node start-up of pullback weighs as much as several skopeo processes.`,
  );
}
