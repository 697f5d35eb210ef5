/**
 * pullRemoteImage — pull onto a Docker host over SSH the variant that host runs,
 * name it the way the caller expects, and prove the architecture is right. A platform
 * the host cannot run is refused before anything is pulled; an image that still turns
 * out wrong is removed again, so no wrong image stays under the name.
 */
import { PullbackError, messageOf, type RecoveryStep } from "../../errors.js";
import { emit, type PullEvent, type PullEventListener } from "../../events.js";
import { PullError, type PullOutcome } from "../../fallback/pull-outcome.js";
import type { FallbackChoiceOptions } from "../../fallback/pull-with-fallback.js";
import { formatPlatform, normalizeArchitecture, parsePlatform, type Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { CredentialChoiceOptions } from "../credential-choice.js";
import type { PullPolicy } from "../../pull-policy.js";
import { connectDocker, type ConnectDockerOptions, type DockerConnection } from "./connect-docker.js";
import { localName, parseTagAs, tagImage, type DaemonImage } from "./daemon-pull.js";
import { pullByPolicy } from "./policy-pull.js";
import { checkPullRemoteImage } from "../../validation/entry-points.js";
import { whileNotAborted } from "../../sets/run-image-set.js";
import { SharedRun } from "../../sets/shared-run.js";

/**
 * Options of pullRemoteImage: SSH, credentials, platform, the tag to add, events.
 *
 * @example
 * await pullRemoteImage("ssh://build-1", ref, { sshConfigFile: "./ssh_config", tagAs: "app:dev", fallback: false });
 */
export interface PullRemoteImageOptions extends CredentialChoiceOptions, FallbackChoiceOptions, Omit<ConnectDockerOptions, "host"> {
  /** Also tag the pulled image with this name (e.g. "cluster:dev"). */
  readonly tagAs?: string | undefined;
  /** Override the platform (a variant, say); default the remote daemon's `os/arch`. One the host cannot run is refused. */
  readonly platform?: string | undefined;
  /** When to ask the registry (docker's `--pull`); default `"always"`. See ensureImage. */
  readonly pull?: PullPolicy | undefined;
  /** Cancels the pull: the daemon's request is destroyed, the SSH connection closed, and the promise rejects. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * @example
 * const outcome = await pullRemoteImage("ssh://build-1", "registry.example.com/x/cluster:1.2", {
 *   tagAs: "cluster:dev", // ssh://build-1 may be a Host alias in ~/.ssh/config
 * });
 */
export async function pullRemoteImage(
  remote: string | DockerConnection,
  ref: string | ImageReference,
  options: PullRemoteImageOptions = {},
): Promise<PullOutcome<DaemonImage>> {
  const reference = checkPullRemoteImage(remote, ref, options);
  const tagAs = options.tagAs === undefined ? undefined : parseTagAs(options.tagAs);
  const onNotice = (message: string): void => emit(options.onEvent, { type: "warning", code: "other", message });
  const docker = typeof remote === "string" ? await connectDocker({ ...options, host: remote, onNotice }) : remote;
  try {
    return await pullRemoteImageIn(new SharedRun(), docker, reference, tagAs, options);
  } finally {
    if (typeof remote === "string") docker.close();
  }
}

/**
 * pullRemoteImage within a run, on a connected host: one image of a set (or a set of one),
 * sharing the run's credentials and refusals. Input is checked by the caller.
 *
 * @example
 * const outcome = await pullRemoteImageIn(run, docker, reference, undefined, { signal, onEvent });
 */
export function pullRemoteImageIn(
  run: SharedRun,
  docker: DockerConnection,
  ref: ImageReference,
  tagAs: ImageReference | undefined,
  options: Omit<PullRemoteImageOptions, "tagAs">,
): Promise<PullOutcome<DaemonImage>> {
  return whileNotAborted(options.signal, () => pullOnto(run, docker, ref, tagAs, options));
}

async function pullOnto(
  run: SharedRun,
  docker: DockerConnection,
  ref: ImageReference,
  tagAs: ImageReference | undefined,
  options: Omit<PullRemoteImageOptions, "tagAs">,
): Promise<PullOutcome<DaemonImage>> {
  const host = await describeHost(docker);
  const requested = options.platform ? parsePlatform(options.platform) : undefined;
  if (requested) refuseForeignPlatform(requested, host, ref);
  const platform = requested ? formatPlatform(requested) : `${host.os}/${host.arch}`;

  // "done" waits until the image is proven right: no "✓ Pulled" before an error.
  let done: PullEvent | undefined;
  const onEvent: PullEventListener = (event) => (event.type === "done" ? (done = event) : options.onEvent?.(event));
  // The same pull policy as every path (src/targets/pull-policy.ts); a pull by default, like `docker pull`.
  const outcome = await pullByPolicy({
    ...options,
    docker,
    ref,
    policy: options.pull ?? "always",
    platform,
    host: host.name,
    onEvent,
    run,
  }).catch((error: unknown) => {
    throw error instanceof PullError && error.kind === "platform" ? withHostSteps(error, host, ref) : error;
  });
  const wrong = wrongPlatform(outcome.image, requested, platform, host, ref);
  if (wrong) throw await removedAgain(docker, ref, wrong, host);
  const result = tagAs ? { ...outcome, image: await tagImage(docker.engine, outcome.image, tagAs) } : outcome;
  if (done) options.onEvent?.(done);
  return result;
}

/** The remote host as diagnoses name it, with commands that reach it exactly as this pull did. */
interface HostView {
  readonly name: string;
  readonly os: string;
  readonly arch: string;
  /** `ssh … HOST docker …`, or `docker -H …` for a daemon reached otherwise. */
  readonly docker: (args: readonly string[]) => string;
  /** pullback's flags for the same host. */
  readonly flags: string;
}

async function describeHost(docker: DockerConnection): Promise<HostView> {
  const ssh = docker.ssh;
  const daemon = await docker.daemon();
  return {
    name: docker.remoteHost ?? docker.endpoint,
    os: daemon.os.toLowerCase(),
    arch: normalizeArchitecture(daemon.arch),
    docker: (args) => (ssh ? ssh.shellCommand(["docker", ...args]) : ["docker", "-H", docker.endpoint, ...args].join(" ")),
    flags: ssh ? ssh.pullbackFlags() : `--host ${docker.endpoint}`,
  };
}

/** A platform the host cannot run is refused before a byte is pulled. */
function refuseForeignPlatform(requested: Platform, host: HostView, ref: ImageReference): void {
  const wanted = formatPlatform(requested);
  if (requested.os === host.os && normalizeArchitecture(requested.architecture) === host.arch) return;
  const summary = `${ref.familiar()} for ${wanted} would not run on ${host.name}, which runs ${host.os}/${host.arch}; nothing was pulled`;
  throw new PullbackError("platform", summary, {
    reason: "platform-not-runnable",
    diagnosis: {
      summary,
      explanation: `Containers from a ${wanted} image fail with 'exec format error' on ${host.name} (${host.arch}), so pullback does not put one there.`,
      steps: [
        { text: "Pull the host's own variant", command: `pullback pull ${ref.familiar()} ${host.flags}` },
        {
          text: `Or keep the ${wanted} image as files, without a daemon`,
          command: `pullback pull ${ref.familiar()} --platform ${wanted} --to oci:./images`,
        },
      ],
      retryable: false,
    },
  });
}

/** What the daemon stored, when it is not what the host runs or what was asked: the failure this exists to catch. */
function wrongPlatform(
  image: DaemonImage,
  requested: Platform | undefined,
  platform: string,
  host: HostView,
  ref: ImageReference,
): { summary: string; explanation: string } | undefined {
  const imageArch = normalizeArchitecture(image.platform.split("/")[1] ?? "");
  if (requested && imageArch !== normalizeArchitecture(requested.architecture)) {
    // dockerd 20.10 quietly hands back the only variant a single-platform image has, whatever was asked.
    return {
      summary: `${ref.familiar()} offers no ${platform} variant; the registry served ${image.platform}`,
      explanation: "The image was built for other platforms only, so the daemon fetched the one it has.",
    };
  }
  if (imageArch !== host.arch) {
    return {
      summary: `${ref.familiar()} on ${host.name} is ${imageArch}, but the host runs ${host.arch}`,
      explanation:
        "Containers from this image would fail with 'exec format error': the registry served no variant for the host's platform.",
    };
  }
  return undefined;
}

/** Remove the wrong image again (its name only; other names keep theirs), and say whether that worked. */
async function removedAgain(
  docker: DockerConnection,
  ref: ImageReference,
  wrong: { summary: string; explanation: string },
  host: HostView,
): Promise<PullbackError> {
  const name = localName(ref);
  let removal: RecoveryStep;
  try {
    await docker.engine.removeImage(name);
    removal = {
      text: `pullback removed the ${name} it pulled from ${host.name} again, so no image of the wrong platform stays under that name`,
    };
  } catch (error) {
    removal = { text: `Removing it again failed (${messageOf(error)}); remove it by hand`, command: host.docker(["image", "rm", name]) };
  }
  return new PullbackError("platform", wrong.summary, {
    reason: "platform-mismatch",
    diagnosis: {
      summary: wrong.summary,
      explanation: wrong.explanation,
      steps: [
        removal,
        { text: "See which platforms the image offers", command: `skopeo inspect --raw docker://${ref.familiar()}` },
        { text: "Build or pick an image for the host's platform, then pull it", command: `pullback pull ${ref.familiar()} ${host.flags}` },
      ],
      retryable: false,
    },
  });
}

/** The daemon found no matching variant: the generic steps, made runnable against this host. */
function withHostSteps(error: PullError, host: HostView, ref: ImageReference): PullError {
  const steps: RecoveryStep[] = [
    { text: "See which platforms the image offers", command: `skopeo inspect --raw docker://${ref.familiar()}` },
    {
      text: `Pull an image built for ${host.os}/${host.arch}, the platform ${host.name} runs, the same way`,
      command: `pullback pull IMAGE ${host.flags}`,
    },
  ];
  return new PullError(error.message, {
    classification: error.classification,
    attempts: error.attempts,
    diagnosis: { ...error.diagnosis, steps },
    cause: error.cause,
  });
}
