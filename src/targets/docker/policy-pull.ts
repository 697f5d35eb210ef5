/**
 * The pull policy on a Docker daemon, shared by the local and the SSH path: look
 * at what the daemon holds, then either use it or pull through the daemon with
 * the fallback policy. Under `always` the daemon itself resolves the tag against
 * the registry, exactly as for `docker pull`: with the daemon's own trust, proxy
 * and mirror settings, one manifest request when nothing changed, the new digest
 * when the tag moved, the platform asked for when another one is stored.
 */
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import type { PullEventListener } from "../../events.js";
import { classifyPullError } from "../../fallback/classification.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { pullWithFallback } from "../../fallback/pull-with-fallback.js";
import type { SharedRun } from "../../sets/shared-run.js";
import { formatPlatform, normalizePlatform, parsePlatform, platformRank } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { chooseCredential, type CredentialChoiceOptions } from "../credential-choice.js";
import { decidePull, type Presence, type PullPolicy } from "../../pull-policy.js";
import type { DockerConnection } from "./connect-docker.js";
import { describeLocalImage, localName, pullThroughDaemon, type DaemonImage } from "./daemon-pull.js";
import type { LocalImage } from "./engine.js";

export interface DaemonPullRequest extends CredentialChoiceOptions {
  readonly docker: DockerConnection;
  readonly ref: ImageReference;
  readonly policy: PullPolicy;
  /** `os/arch[/variant]` asked for; a stored image of another platform does not count as present. */
  readonly platform: string | undefined;
  readonly fallback?: boolean | undefined;
  readonly onEvent?: PullEventListener | undefined;
  /** The remote host, for events and messages of the SSH path. */
  readonly host?: string | undefined;
  /** What the images of this run share: the credential chosen per registry, refusals seen. */
  readonly run: SharedRun;
  /** Cancels the daemon's pull (the request is destroyed). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Ensure `ref` in the daemon under `policy`. An image the daemon already held at the
 * same ID comes back with `alreadyPresent: true` (docker's "Image is up to date").
 *
 * @example
 * const outcome = await pullByPolicy({ docker, ref: parseReference("ghcr.io/acme/app:1"), policy: "always", platform: undefined, run: new SharedRun() });
 */
export async function pullByPolicy(request: DaemonPullRequest): Promise<PullOutcome<DaemonImage>> {
  const { docker, ref, host } = request;
  const stored = await docker.engine.inspectImage(localName(ref));
  const where = host === undefined ? "the Docker daemon" : `the Docker daemon on ${host}`;
  if (decidePull(request.policy, presenceOf(stored, request.platform), { image: ref.familiar(), where }) === "use-present" && stored) {
    return { image: describeLocalImage(ref, stored, true), attempts: [], warnings: [], fellBack: false };
  }
  const credential = await request.run.credentialFor(ref.registry, () => chooseCredential(ref.registry, request));
  const attempt = async (attemptCredential: typeof credential): Promise<DaemonImage> => {
    if (attemptCredential) await refuseKnownBad(request, attemptCredential);
    const image = await pullThroughDaemon({
      engine: docker.engine,
      ref,
      credential: attemptCredential,
      platform: request.platform,
      onEvent: request.onEvent,
      host,
      signal: request.signal,
      present: stored,
    }).catch((error: unknown) => {
      if (attemptCredential && refusedAsWrong(error)) request.run.noteRefusal(ref.registry, attemptCredential.describe());
      throw error;
    });
    // The daemon asked the registry and kept what it had: nothing new was fetched.
    return stored?.id === image.id ? { ...image, alreadyPresent: true } : image;
  };
  return pullWithFallback(attempt, {
    image: ref.toString(),
    registry: ref.registry,
    credential,
    ...(request.fallback === undefined ? {} : { fallback: request.fallback }),
    ...(request.onEvent ? { onEvent: request.onEvent } : {}),
    ...(host === undefined ? {} : { host }),
  });
}

/** A refusal that may mean the credential itself is wrong; "denied" (no access to this repository) says it is not. */
function refusedAsWrong(error: unknown): boolean {
  const classification = classifyPullError(error);
  return classification.kind === "auth" && !classification.ambiguousNotFound;
}

/**
 * A credential the registry refused for an earlier image of the run, and whose token service says
 * it is wrong outright (not just without access there): not sent again, so the fallback goes
 * straight to the anonymous attempt — one token request saved per image, and no refusal logged.
 */
async function refuseKnownBad(request: DaemonPullRequest, credential: Credential): Promise<void> {
  const { ref, run } = request;
  const source = credential.describe();
  // The registry client loads only here: a pull through the daemon does not otherwise speak to a registry.
  const askRegistry = async (): Promise<boolean> => {
    const { credentialRejectedOutright } = await import("../../registry/verify-credentials.js");
    return credentialRejectedOutright(ref, credential, run.tokens);
  };
  if (!(await run.refusedOutright(ref.registry, source, askRegistry))) return;
  throw new PullbackError("auth", `unauthorized: ${ref.registry} refused ${source} earlier in this run; not sent again`, {
    reason: "credentials-rejected",
  });
}

/** Present only for the platform asked for: an arm64 copy does not satisfy `--platform linux/amd64`. */
export function presenceOf(stored: LocalImage | undefined, platform: string | undefined): Presence {
  if (!stored) return { state: "absent" };
  if (platform === undefined) return { state: "present" };
  const have = normalizePlatform(
    stored.variant
      ? { os: stored.os, architecture: stored.architecture, variant: stored.variant }
      : { os: stored.os, architecture: stored.architecture },
  );
  return platformRank(parsePlatform(platform), have) === undefined
    ? { state: "other-platform", platform: formatPlatform(have) }
    : { state: "present" };
}
