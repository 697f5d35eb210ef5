/**
 * ensureImage — the local daemon path: by default nothing to do when the image is
 * there, otherwise pull it with the fallback policy; `pull` chooses docker's policy.
 */
import { PullbackError } from "../../errors.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import type { FallbackChoiceOptions } from "../../fallback/pull-with-fallback.js";
import { checkEnsureImage } from "../../validation/entry-points.js";
import { isLocalImageRef, type ImageReference } from "../../reference/parse-reference.js";
import type { CredentialChoiceOptions } from "../credential-choice.js";
import type { PullPolicy } from "../../pull-policy.js";
import { SharedRun } from "../../sets/shared-run.js";
import { whileNotAborted } from "../../sets/run-image-set.js";
import type { DockerConnection } from "./connect-docker.js";
import { describeLocalImage, localName, parseTagAs, tagImage, type DaemonImage } from "./daemon-pull.js";
import { pullByPolicy } from "./policy-pull.js";

/**
 * Options of ensureImage: credentials, platform, fallback, events.
 *
 * @example
 * await ensureImage(docker, "ghcr.io/acme/app:1", { credential: null, platform: "linux/arm64" });
 */
export interface EnsureImageOptions extends CredentialChoiceOptions, FallbackChoiceOptions {
  /** `os/arch[/variant]` to pull; default the daemon's own. */
  readonly platform?: string | undefined;
  /** Also tag the image with this name (e.g. "cluster:dev"), whether it was pulled or already there. */
  readonly tagAs?: string | undefined;
  /**
   * When to ask the registry (docker's `--pull`). Default `"missing"`: an image already in the
   * daemon (for `platform`, when given) is used as it is, without a registry request.
   * `"always"` resolves the tag every time, as `docker pull` does (a bare name like `alpine` included);
   * `"never"` fails when it is absent. A missing bare name (`cluster:dev`) is taken for a locally built
   * image under "missing" and "never", and is not looked up on Docker Hub.
   */
  readonly pull?: PullPolicy | undefined;
  /** Cancels the pull: the daemon's request is destroyed and the promise rejects. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Make sure `ref` is in the daemon's image store. With the default policy `"missing"` an image
 * already there is used without asking the registry; `pull: "always"` behaves like `docker pull`.
 *
 * @example
 * const docker = await connectDocker();
 * const outcome = await ensureImage(docker, "ghcr.io/acme/app:1", {
 *   onEvent: (e) => { if (e.type === "warning") console.warn(e.message) },
 * });
 * console.log(outcome.image.digest, outcome.fellBack);
 */
export async function ensureImage(
  docker: DockerConnection,
  ref: string | ImageReference,
  options: EnsureImageOptions = {},
): Promise<PullOutcome<DaemonImage>> {
  const reference = checkEnsureImage(docker, ref, options);
  const input = typeof ref === "string" ? ref : reference.toString();
  const tagAs = options.tagAs === undefined ? undefined : parseTagAs(options.tagAs);
  const outcome = await ensureImageIn(new SharedRun(), docker, { reference, input }, options);
  return tagAs ? { ...outcome, image: await tagImage(docker.engine, outcome.image, tagAs) } : outcome;
}

/** One image to ensure: its parsed reference and the words the caller used (a bare name stays bare). */
export interface EnsureTarget {
  readonly reference: ImageReference;
  readonly input: string;
}

/**
 * ensureImage within a run: one image of a set (or a set of one), sharing the run's
 * credentials and refusals. Input is checked by the caller.
 *
 * @example
 * const outcome = await ensureImageIn(run, docker, { reference, input: "alpine:3" }, { signal });
 */
export async function ensureImageIn(
  run: SharedRun,
  docker: DockerConnection,
  target: EnsureTarget,
  options: Omit<EnsureImageOptions, "tagAs">,
): Promise<PullOutcome<DaemonImage>> {
  return whileNotAborted(options.signal, () => presentOrPulled(run, docker, target, options));
}

async function presentOrPulled(
  run: SharedRun,
  docker: DockerConnection,
  target: EnsureTarget,
  options: Omit<EnsureImageOptions, "tagAs">,
): Promise<PullOutcome<DaemonImage>> {
  const { reference, input } = target;
  const policy = options.pull ?? "missing";
  if (isLocalImageRef(input)) {
    // A bare name (cluster:dev) that the daemon holds with no digest from Docker Hub was built here:
    // it is used as it is. Missing, it is looked up on Docker Hub only under "always", which means
    // `docker pull` (`pullback pull alpine`); ensuring it ("missing", "never") cannot pull it.
    const present = await docker.engine.inspectImage(localName(reference));
    const image = present && describeLocalImage(reference, present, true);
    if (image && (image.digest === undefined || policy !== "always")) return { image, attempts: [], warnings: [], fellBack: false };
    if (policy !== "always") throw localOnlyError(input);
  }
  return pullByPolicy({
    ...options,
    docker,
    ref: reference,
    policy,
    platform: options.platform,
    host: docker.remoteHost,
    run,
  });
}

function localOnlyError(name: string): PullbackError {
  const summary = `${name} is not in the daemon, and a name without a registry or namespace can only have been built locally`;
  return new PullbackError("local-only", summary, {
    diagnosis: {
      summary,
      explanation:
        "pullback did not try a registry: Docker Hub would be asked for docker.io/library/" +
        name.replace(/:.*$/, "") +
        ", which is not what a locally built image is.",
      steps: [
        { text: "Build it", command: `docker build -t ${name} .` },
        { text: "Or load it from an archive", command: `docker load -i image.tar` },
        { text: "Or name the registry it lives in", command: `pullback pull registry.example.com/team/${name}` },
      ],
      retryable: false,
    },
  });
}
