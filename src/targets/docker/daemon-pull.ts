/**
 * One pull attempt through a Docker daemon, shared by the local and the SSH path:
 * pull, relay progress as layer events, and read back what the daemon stored.
 */
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { emit, type PullEventListener } from "../../events.js";
import { parseReference, type ImageReference } from "../../reference/parse-reference.js";
import type { DockerEngine, LocalImage } from "./engine.js";
import type { PullStreamLine } from "./pull-stream.js";

/**
 * An image in a daemon's store, as pullback reports it.
 *
 * @example
 * const { id, digest, platform, tags } = (await ensureImage(docker, "ghcr.io/acme/app:1")).image;
 */
export interface DaemonImage {
  /** The reference it was ensured under (canonical). */
  readonly reference: string;
  readonly id: string;
  /** The registry's manifest digest (`sha256:…`), when the daemon recorded one. */
  readonly digest: string | undefined;
  /** `os/arch[/variant]` of the stored image. */
  readonly platform: string;
  /** True when the image was already there and nothing was pulled. */
  readonly alreadyPresent: boolean;
  /** Names it was also tagged with (`tagAs`). */
  readonly tags: readonly string[];
}

/** The name the daemon stores an image under: by digest when one was asked for, else by tag. */
export function localName(ref: ImageReference): string {
  return ref.digest ? `${ref.name}@${ref.digest}` : `${ref.name}:${ref.tag ?? "latest"}`;
}

export function describeLocalImage(ref: ImageReference, image: LocalImage, alreadyPresent: boolean): DaemonImage {
  return {
    reference: ref.toString(),
    id: image.id,
    digest: digestFor(ref, image.repoDigests),
    platform: [image.os, image.architecture, image.variant].filter(Boolean).join("/"),
    alreadyPresent,
    tags: [],
  };
}

/** RepoDigests hold `name@sha256:…` with the name in either form; pick this repository's. */
function digestFor(ref: ImageReference, repoDigests: readonly string[]): string | undefined {
  const names = new Set([ref.name, ref.familiar().replace(/[:@].*$/, "")]);
  for (const entry of repoDigests) {
    const at = entry.lastIndexOf("@");
    if (names.has(entry.slice(0, at))) return entry.slice(at + 1);
  }
  return ref.digest;
}

export interface DaemonPullAttempt {
  readonly engine: DockerEngine;
  readonly ref: ImageReference;
  readonly credential: Credential | undefined;
  readonly platform: string | undefined;
  readonly onEvent: PullEventListener | undefined;
  readonly host: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The image the daemon held under this name before the pull, if any. */
  readonly present?: LocalImage | undefined;
}

/** dockerd's last line when the tag already named what the registry resolved. */
const UP_TO_DATE = "Status: Image is up to date for ";

/** Pull once and return what the daemon stored. Errors propagate unclassified: the fallback policy classifies. */
export async function pullThroughDaemon(attempt: DaemonPullAttempt): Promise<DaemonImage> {
  const { engine, ref } = attempt;
  let upToDate = false;
  await engine.pull(ref.name, ref.digest ?? ref.tag ?? "latest", {
    credential: attempt.credential,
    registry: ref.registry,
    platform: attempt.platform,
    onLine: (line) => {
      upToDate ||= line.status?.startsWith(UP_TO_DATE) === true;
      relayProgress(line, attempt.onEvent, attempt.host);
    },
    signal: attempt.signal,
  });
  // Nothing changed: the image held before is the answer, without another Engine round trip.
  if (upToDate && attempt.present) return describeLocalImage(ref, attempt.present, true);
  const stored = await engine.inspectImage(localName(ref));
  if (!stored) throw new PullbackError("other", `the daemon reported success but has no image ${localName(ref)}`);
  return describeLocalImage(ref, stored, false);
}

/** Layer lines carry an id (a short layer digest); others ("Pulling from …", "Digest: …") are not layers. */
function relayProgress(line: PullStreamLine, onEvent: PullEventListener | undefined, host: string | undefined): void {
  if (!line.id || !line.status || line.status.startsWith("Pulling from")) return;
  const current = line.progressDetail?.current;
  const total = line.progressDetail?.total;
  emit(onEvent, {
    type: "layer",
    id: line.id,
    status: line.status,
    ...(current === undefined ? {} : { current }),
    ...(total === undefined ? {} : { total }),
    ...(host === undefined ? {} : { host }),
  });
}

/** A `tagAs` name, checked before anything is pulled so a typo costs nothing. */
export function parseTagAs(name: string): ImageReference {
  const ref = parseReference(name);
  if (ref.digest) throw new PullbackError("usage", `tagAs "${name}" must be a name with a tag, not a digest`);
  return ref;
}

/** Tag the ensured image with `tagAs` and say so in the result. */
export async function tagImage(engine: DockerEngine, image: DaemonImage, tagAs: ImageReference): Promise<DaemonImage> {
  await engine.tag(image.id, tagAs.name, tagAs.tag ?? "latest");
  return { ...image, tags: [...image.tags, tagAs.familiar()] };
}
