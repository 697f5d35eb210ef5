/**
 * `pullback pull` with several images or hosts: one library call for the whole set
 * (ensureImages, pullRemoteImages or pullImages), a progress line per image × host, a
 * summary at the end, and one exit code for the set. Each path loads only its own door.
 */
import { PullbackError, messageOf } from "../../errors.js";
import { parseReference } from "../../reference/parse-reference.js";
import type { ImageSetItem } from "../../sets/set-result.js";
import type { DaemonImage } from "../../targets/docker/daemon-pull.js";
import type { EnsureImagesOptions } from "../../targets/docker/ensure-images.js";
import type { OciPulledImage } from "../../targets/oci/pull-image.js";
import type { CliIo } from "../cli-io.js";
import { credentialRequest, type CredentialRequest } from "../credential-flags.js";
import { daemonLine } from "../output/daemon-line.js";
import { ExitCode, exitCodeFor, exitCodeForSet } from "../exit-codes.js";
import { daemonlessOptions } from "./daemonless-options.js";
import { createReporter } from "../output/reporter.js";
import { SetItemIndex } from "../output/set-items.js";
import { createSetReporter, type SetReporter } from "../output/set-reporter.js";
import { summaryRows } from "../output/set-summary.js";
import type { PullCommandFlags, PullRun, PullSetPlan } from "./pull-plan.js";

type SetRun = Extract<PullRun, { shape: "set" }>;
type SetItems = ImageSetItem<DaemonImage | OciPulledImage>[];

/**
 * Run a set; returns the exit code. Never throws.
 *
 * @example
 * const code = await runPullSet(planPullRun(["a:1", "b:1"], flags) as SetRun, flags, io, []);
 */
export async function runPullSet(run: SetRun, flags: PullCommandFlags, io: CliIo, repeats: readonly string[]): Promise<number> {
  let prepared: { index: SetItemIndex; request: CredentialRequest };
  try {
    prepared = {
      index: new SetItemIndex(canonicalImages(run.images), run.plan.kind === "remote" ? run.plan.hosts : []),
      request: await credentialRequest(flags, io),
    };
  } catch (error) {
    return failBeforeStart(error, flags, io);
  }
  const reporter = createSetReporter(io, flags, prepared.index);
  const interrupt = cancelOnInterrupt(() => reporter.warn("interrupted: cancelling the set; nothing half-written is kept"));
  try {
    for (const repeat of repeats) reporter.info(`${repeat}: pulled once`);
    const items = await pullSet(run, prepared.request, flags, io, reporter, interrupt.signal);
    const rows = summaryRows(items, prepared.index, (image, host) => reporter.downloaded(image, host));
    const code = exitCodeForSet(
      items.map((item) => (item.ok ? { ok: true, fellBack: item.outcome.fellBack } : { ok: false, error: item.error })),
      run.plan,
    );
    if (code === ExitCode.fellBack) reporter.warn("some images came from an anonymous retry and --fail-on-fallback was given: exit code 6");
    const exit = interrupt.signal.aborted ? ExitCode.interrupted : code;
    reporter.finish(rows, exit);
    return exit;
  } catch (error) {
    // Only a usage error, raised before any transfer, ends a set without a summary.
    reporter.close();
    return failBeforeStart(error, flags, io);
  } finally {
    interrupt.release();
    reporter.close();
  }
}

/**
 * Ctrl-C (or SIGTERM) cancels the set rather than killing the process: running pulls stop,
 * no archive is half-written, and the summary still says what became of each image.
 */
function cancelOnInterrupt(onInterrupt: () => void): { readonly signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const cancel = (): void => {
    if (!controller.signal.aborted) onInterrupt();
    controller.abort(new PullbackError("other", "interrupted", { reason: "cancelled" }));
  };
  process.on("SIGINT", cancel);
  process.on("SIGTERM", cancel);
  return {
    signal: controller.signal,
    release: () => {
      process.off("SIGINT", cancel);
      process.off("SIGTERM", cancel);
    },
  };
}

/** Every reference is checked before anything is pulled: all bad ones in one message. */
function canonicalImages(images: readonly string[]): { canonical: string; given: string }[] {
  const problems: string[] = [];
  const parsed = images.flatMap((given) => {
    try {
      return [{ canonical: parseReference(given).toString(), given }];
    } catch (error) {
      problems.push(messageOf(error));
      return [];
    }
  });
  if (problems.length > 0) throw new PullbackError("reference", `nothing was pulled: ${problems.join("; ")}`);
  return parsed;
}

function failBeforeStart(error: unknown, flags: PullCommandFlags, io: CliIo): number {
  const reporter = createReporter(io, flags);
  reporter.fail(error);
  reporter.close();
  return exitCodeFor(error);
}

async function pullSet(
  run: SetRun,
  request: CredentialRequest,
  flags: PullCommandFlags,
  io: CliIo,
  reporter: SetReporter,
  signal: AbortSignal,
): Promise<SetItems> {
  const { plan, images } = run;
  const credentials = request.anonymous ? { credential: null } : { resolve: request };
  const common: EnsureImagesOptions = {
    ...credentials,
    fallback: plan.fallback,
    pull: plan.pull,
    jobs: plan.jobs,
    keepGoing: plan.keepGoing,
    signal,
    onEvent: reporter.event.bind(reporter),
    ...(plan.platform === undefined ? {} : { platform: plan.platform }),
  };
  switch (plan.kind) {
    case "daemonless": {
      const { pullImages } = await import("../../targets/oci/pull-images.js");
      return pullImages(images, {
        ...common,
        to: plan.to,
        ...daemonlessOptions(plan, flags, io, (line) => reporter.debug(line)),
      });
    }
    case "remote": {
      const { pullRemoteImages } = await import("../../targets/docker/pull-remote-images.js");
      return pullRemoteImages(plan.hosts, images, {
        ...common,
        identityFile: plan.identityFile,
        knownHostsFile: plan.knownHostsFile,
        acceptUnknownHostKey: plan.acceptUnknownHostKey,
        sshConfigFile: plan.sshConfigFile,
        env: io.env,
      });
    }
    case "daemon":
      return ensureOnDaemon(plan, images, common, io, reporter, flags.verbose === true);
  }
}

async function ensureOnDaemon(
  plan: Extract<PullSetPlan, { kind: "daemon" }>,
  images: readonly string[],
  common: EnsureImagesOptions,
  io: CliIo,
  reporter: SetReporter,
  verbose: boolean,
): Promise<SetItems> {
  const { connectDocker } = await import("../../targets/docker/connect-docker.js");
  const { ensureImages } = await import("../../targets/docker/ensure-images.js");
  const docker = await connectDocker({ host: plan.host, env: io.env, sshConfigFile: plan.sshConfigFile });
  try {
    if (verbose) reporter.debug(await daemonLine(docker));
    return await ensureImages(docker, images, common);
  } finally {
    docker.close();
  }
}
