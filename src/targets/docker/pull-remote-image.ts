/**
 * pullRemoteImage — pull onto a Docker host over SSH the variant that host runs,
 * name it the way the caller expects, and prove the architecture is right.
 */
import { PullbackError } from "../../errors.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { fallbackOptionsFor, pullWithFallback, type FallbackChoiceOptions } from "../../fallback/pull-with-fallback.js";
import { formatPlatform, normalizeArchitecture, parsePlatform } from "../../platform.js";
import { parseReference, type ImageReference } from "../../reference/parse-reference.js";
import { chooseCredential, type CredentialChoiceOptions } from "../credential-choice.js";
import { connectDocker, type ConnectDockerOptions, type DockerConnection } from "./connect-docker.js";
import { parseTagAs, pullThroughDaemon, tagImage, type DaemonImage } from "./daemon-pull.js";

/**
 * Options of pullRemoteImage: SSH, credentials, platform, the tag to add, events.
 *
 * @example
 * await pullRemoteImage("ssh://deploy@build-1", ref, { identityFile: key, tagAs: "app:dev", fallback: false });
 */
export interface PullRemoteImageOptions extends CredentialChoiceOptions, FallbackChoiceOptions, Omit<ConnectDockerOptions, "host"> {
  /** Also tag the pulled image with this name (e.g. "cluster:dev"). */
  readonly tagAs?: string | undefined;
  /** Override the platform; default the remote daemon's `os/arch`. */
  readonly platform?: string | undefined;
}

/**
 * @example
 * const outcome = await pullRemoteImage("ssh://deploy@build-1", "registry.example.com/x/cluster:1.2", {
 *   identityFile: "/home/me/.ssh/id_ed25519",
 *   tagAs: "cluster:dev",
 * });
 */
export async function pullRemoteImage(
  remote: string | DockerConnection,
  ref: string | ImageReference,
  options: PullRemoteImageOptions = {},
): Promise<PullOutcome<DaemonImage>> {
  const docker = typeof remote === "string" ? await connectDocker({ ...options, host: remote }) : remote;
  try {
    return await pullOnto(docker, typeof ref === "string" ? parseReference(ref) : ref, options);
  } finally {
    if (typeof remote === "string") docker.close();
  }
}

async function pullOnto(docker: DockerConnection, ref: ImageReference, options: PullRemoteImageOptions): Promise<PullOutcome<DaemonImage>> {
  const hostArch = normalizeArchitecture(docker.daemon.arch);
  const requested = options.platform ? parsePlatform(options.platform) : undefined;
  const platform = requested ? formatPlatform(requested) : `${docker.daemon.os.toLowerCase()}/${hostArch}`;
  const hostName = docker.remoteHost ?? docker.endpoint;
  const tagAs = options.tagAs === undefined ? undefined : parseTagAs(options.tagAs);
  const credential = await chooseCredential(ref.registry, options);

  const outcome = await pullWithFallback(
    (attemptCredential) => pullThroughDaemon({ engine: docker.engine, ref, credential: attemptCredential, platform, onEvent: options.onEvent, host: hostName }),
    fallbackOptionsFor(ref, credential, options, hostName),
  );
  if (requested) checkOffered(outcome.image, requested.architecture, platform, ref);
  checkArchitecture(outcome.image, hostArch, hostName, ref);
  return tagAs ? { ...outcome, image: await tagImage(docker.engine, outcome.image, tagAs) } : outcome;
}

/** dockerd 20.10 quietly hands back the only variant a single-platform image has, whatever was asked. */
function checkOffered(image: DaemonImage, wantedArch: string, platform: string, ref: ImageReference): void {
  const imageArch = normalizeArchitecture(image.platform.split("/")[1] ?? "");
  if (imageArch === wantedArch) return;
  const summary = `${ref.familiar()} offers no ${platform} variant; the registry served ${image.platform}`;
  throw new PullbackError("platform", summary, {
    diagnosis: {
      summary,
      explanation: "The image was built for other platforms only, so the daemon fetched the one it has.",
      steps: [
        { text: "See which platforms the image offers", command: `skopeo inspect --raw docker://${ref.familiar()}` },
        { text: "Pull without --platform to get the host's own variant, or build the image for this platform" },
      ],
      retryable: false,
    },
  });
}

/** A stale image of another architecture under the same name is the failure this exists to catch. */
function checkArchitecture(image: DaemonImage, hostArch: string, host: string, ref: ImageReference): void {
  const imageArch = normalizeArchitecture(image.platform.split("/")[1] ?? "");
  if (imageArch === hostArch) return;
  const summary = `${ref.familiar()} on ${host} is ${imageArch}, but the host runs ${hostArch}`;
  throw new PullbackError("platform", summary, {
    diagnosis: {
      summary,
      explanation: "Containers from this image would fail with 'exec format error'. The daemon kept an image of another architecture under this name, or the pull asked for the wrong platform.",
      steps: [
        { text: "Remove the image of the wrong architecture on the host", command: `docker -H ssh://${host} image rm ${ref.familiar()}` },
        { text: "Pull again for the host's platform", command: `pullback pull ${ref.familiar()} --host ssh://${host} --platform linux/${hostArch}` },
      ],
      retryable: false,
    },
  });
}
