/**
 * `pullback pull IMAGE…`: the library's three pull paths behind one command. One image on
 * at most one host runs here, as it always has; a set (several images, --file, several
 * hosts) runs in pull-set.ts. Loaded only when the command runs, so --help never loads
 * dockerode or ssh2.
 */
import { PullbackError } from "../../errors.js";
import { resolveCredentials } from "../../credentials/resolve-credentials.js";
import type { Credential } from "../../credentials/credential.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { parseReference } from "../../reference/parse-reference.js";
import type { DockerConnection } from "../../targets/docker/connect-docker.js";
import type { DaemonImage } from "../../targets/docker/daemon-pull.js";
import type { OciPulledImage } from "../../targets/oci/pull-image.js";
import type { CliIo } from "../cli-io.js";
import { credentialRequest } from "../credential-flags.js";
import { daemonLine } from "../output/daemon-line.js";
import { daemonlessOptions } from "./daemonless-options.js";
import { exitCodeFor, exitCodeForOutcome } from "../exit-codes.js";
import { createReporter, type Reporter } from "../output/reporter.js";
import { joinImages, readImageList } from "./image-list.js";
import { planPullRun, type PullCommandFlags, type PullPlan } from "./pull-plan.js";

export type { PullCommandFlags } from "./pull-plan.js";

/**
 * Run the pull command; returns the exit code. Never throws.
 *
 * @example
 * const code = await runPull(["ghcr.io/acme/app:1"], { host: ["ssh://deploy@build-1"] }, io);
 */
export async function runPull(images: readonly string[], flags: PullCommandFlags, io: CliIo): Promise<number> {
  const reporter = createReporter(io, flags);
  try {
    if (flags.file === "-" && flags.passwordStdin)
      throw new PullbackError(
        "usage",
        "--file - and --password-stdin both read stdin; put the list in a file, or the secret in the environment",
      );
    const list = flags.file === undefined ? undefined : await readImageList(flags.file, io.stdin);
    const joined = joinImages(images, list);
    const run = planPullRun(joined.images, flags);
    if (run.shape === "set") {
      reporter.close();
      const { runPullSet } = await import("./pull-set.js");
      return await runPullSet(run, flags, io, joined.repeats);
    }
    const { plan, image } = run;
    const reference = parseReference(image);
    const remote = plan.kind === "remote" ? await dialFirst(plan, io, reporter) : undefined;
    try {
      const credential = (await resolveCredentials(reference.registry, await credentialRequest(flags, io))) ?? null;
      const outcome = await pullWith(plan, image, credential, flags, io, reporter, remote?.connection);
      if (outcome.attempts.length === 0) reporter.info(`${image} is already ${placeOf(plan)}; ${whyNoPull(plan)}`);
      if (outcome.fellBack && plan.failOnFallback)
        reporter.warn("the image came from an anonymous retry and --fail-on-fallback was given: exit code 6");
      reporter.result(outcomeJson(outcome), []);
      return exitCodeForOutcome(outcome, plan);
    } finally {
      await remote?.close();
    }
  } catch (error) {
    reporter.fail(error);
    return exitCodeFor(error);
  } finally {
    reporter.close();
  }
}

/** A connection being made, and how to let go of it whether or not it was made. */
interface Dialling {
  readonly connection: Promise<DockerConnection>;
  close(): Promise<void>;
}

/**
 * Over SSH, connecting takes longest (ssh's handshake, then a remote docker process): dialled
 * first, as the docker CLI does, it overlaps reading the credentials and loading the pull.
 * The names are checked before, so a typo still fails without a connection.
 */
async function dialFirst(plan: Extract<PullPlan, { kind: "remote" }>, io: CliIo, reporter: Reporter): Promise<Dialling> {
  const [{ connectDocker }, { parseTagAs }] = await Promise.all([
    import("../../targets/docker/connect-docker.js"),
    import("../../targets/docker/daemon-pull.js"),
  ]);
  if (plan.tagAs !== undefined) parseTagAs(plan.tagAs);
  const connection = connectDocker({
    host: plan.host,
    identityFile: plan.identityFile,
    knownHostsFile: plan.knownHostsFile,
    acceptUnknownHostKey: plan.acceptUnknownHostKey,
    sshConfigFile: plan.sshConfigFile,
    env: io.env,
    onNotice: (message) => reporter.event({ type: "warning", code: "other", message }),
  });
  // Awaited by the pull; a failure before then (the credentials failed first) is not unhandled.
  connection.catch(() => undefined);
  return {
    connection,
    close: () =>
      connection.then(
        (docker) => docker.close(),
        () => undefined,
      ),
  };
}

async function pullWith(
  plan: PullPlan,
  image: string,
  credential: Credential | null,
  flags: PullCommandFlags,
  io: CliIo,
  reporter: Reporter,
  remote: Promise<DockerConnection> | undefined,
): Promise<PullOutcome<DaemonImage | OciPulledImage>> {
  const onEvent = reporter.event.bind(reporter);
  const common = { fallback: plan.fallback, pull: plan.pull, onEvent, ...(plan.platform === undefined ? {} : { platform: plan.platform }) };
  // Each path loads only its own door: a daemonless pull never loads dockerode or ssh2.
  switch (plan.kind) {
    case "daemonless": {
      const { parseDestination, pullImage } = await import("../../targets/oci/pull-image.js");
      return pullImage(image, {
        ...common,
        to: parseDestination(plan.to),
        credential,
        ...daemonlessOptions(plan, flags, io, (line) => reporter.debug(line)),
      });
    }
    case "remote": {
      const { pullRemoteImage } = await import("../../targets/docker/pull-remote-image.js");
      // Dialled in runPull (dialFirst); closed there.
      return pullRemoteImage(await remote!, image, { ...common, credential, tagAs: plan.tagAs });
    }
    case "daemon": {
      const { connectDocker } = await import("../../targets/docker/connect-docker.js");
      const { ensureImage } = await import("../../targets/docker/ensure-image.js");
      const docker = await connectDocker({ host: plan.host, env: io.env, sshConfigFile: plan.sshConfigFile });
      try {
        if (flags.verbose) reporter.debug(await daemonLine(docker));
        return await ensureImage(docker, image, { ...common, credential, tagAs: plan.tagAs });
      } finally {
        docker.close();
      }
    }
  }
}

function outcomeJson(outcome: PullOutcome<DaemonImage | OciPulledImage>): Record<string, unknown> {
  return { image: outcome.image, attempts: outcome.attempts, warnings: outcome.warnings, fellBack: outcome.fellBack };
}

function placeOf(plan: PullPlan): string {
  if (plan.kind === "daemonless") return `in ${plan.to}`;
  return plan.kind === "remote" ? `in the Docker daemon on ${plan.host}` : "in the Docker daemon";
}

/** Under `always` only a locally built name (no registry, no namespace) is used without asking a registry. */
function whyNoPull(plan: PullPlan): string {
  return plan.pull === "always"
    ? "a name without a registry or namespace is only looked up locally"
    : `--pull ${plan.pull} does not ask the registry`;
}
