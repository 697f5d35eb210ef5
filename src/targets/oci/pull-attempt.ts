/**
 * One attempt of a daemonless pull, as one identity, into a destination that may
 * be receiving other images at the same time: resolve the manifests, fetch and
 * check the config (a wrong platform costs one small request, not the layers),
 * let the destination admit the image, fetch the layers, commit.
 */
import { setMaxListeners } from "node:events";
import { readFile } from "node:fs/promises";
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { emit, type PullEventListener } from "../../events.js";
import { formatPlatform, normalizePlatform, platformRank, type Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { Exchange } from "../../registry/http.js";
import type { ProxyEnv } from "../../registry/proxy.js";
import { RegistryClient, type BlobResponse } from "../../registry/registry-client.js";
import type { RegistryShare } from "../../registry/registry-share.js";
import type { TokenCache } from "../../registry/token-cache.js";
import type { TlsOptions } from "../../registry/trust.js";
import { cancelledError } from "../../sets/cancelled.js";
import type { BlobStore } from "./blob-store.js";
import { explainDiskFull } from "./disk-full.js";
import { DEFAULT_CONCURRENCY, downloadBlobs, type BlobJob } from "./download.js";
import type { ImageDestination } from "./image-destination.js";
import type { ImageManifest } from "./manifest.js";
import type { OciPulledImage } from "./pulled-image.js";
import { resolveImage, type ResolvedImage } from "./resolve-image.js";

/** What every attempt of a run needs besides the image and the identity. */
export interface AttemptSettings {
  readonly destination: ImageDestination;
  readonly platform: Platform;
  /** True when the caller named the platform: a single image for another platform is refused, not warned about. */
  readonly explicitPlatform: boolean;
  readonly allPlatforms: boolean;
  /** Tokens shared by every client of the run (keyed by realm, scope and identity). */
  readonly tokens: TokenCache;
  /** Kept-alive connections and ping answers shared by every client of the run. */
  readonly registries?: RegistryShare | undefined;
  readonly insecure?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly tls?: TlsOptions | undefined;
  readonly env?: ProxyEnv | undefined;
  readonly concurrency?: number | undefined;
  readonly onExchange?: ((exchange: Exchange) => void) | undefined;
  readonly onEvent?: PullEventListener | undefined;
  /** Stops the attempt: no new request, and a blob body in flight is destroyed (its `.partial` stays). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Pull `reference` as `credential` (undefined: anonymous) into the settings' destination.
 *
 * @example
 * const image = await pullAttempt(reference, credential, { destination, platform, explicitPlatform: false, allPlatforms: false, tokens });
 */
export async function pullAttempt(
  reference: ImageReference,
  credential: Credential | undefined,
  settings: AttemptSettings,
): Promise<OciPulledImage> {
  const { destination } = settings;
  checkNotCancelled(settings.signal);
  const own = attemptSignal(settings.signal, settings.concurrency);
  const signal = own?.signal;
  const client = new RegistryClient(reference.endpoint, {
    credential,
    tokenCache: settings.tokens,
    registryShare: settings.registries,
    signal,
    insecure: settings.insecure,
    idleTimeoutMs: settings.timeoutMs,
    onExchange: settings.onExchange,
    tls: settings.tls,
    env: settings.env,
    onWarning: (message: string) => emit(settings.onEvent, { type: "warning", code: "other", message }),
  });
  const store = destination.blobs;
  const what = reference.familiar();
  const download = (jobs: readonly BlobJob[]): Promise<unknown> =>
    downloadBlobs(store, jobs, {
      concurrency: settings.concurrency,
      onEvent: settings.onEvent,
      signal,
      open: (digest, offset) => abortable(() => client.getBlob(reference.repository, digest, { offset }), signal),
      describe: (digest) => `blob ${digest} of ${what}`,
    });
  try {
    const resolved = await resolveImage(
      (r, accept) => client.getManifest(reference.repository, r, accept),
      reference.digest ?? reference.tag ?? "latest",
      { platform: settings.platform, allPlatforms: settings.allPlatforms, what },
    );
    const image = { resolved, reference };
    checkNotCancelled(signal);
    await download(configJobs(resolved));
    const platform = await platformOf(store, resolved, settings, what);
    for (const warning of await destination.admit(image))
      emit(settings.onEvent, { type: "warning", code: "destination-replaced", message: warning });
    await explainDiskFull(() => download(layerJobs(resolved)), store, layerJobs(resolved));
    for (const manifest of resolved.images) await store.writeBytes(manifest.descriptor, manifest.bytes, `the manifest of ${what}`);
    await store.writeBytes(resolved.root.descriptor, resolved.root.bytes, `the manifest of ${what}`);
    checkNotCancelled(signal);
    await destination.commit(image);
    return {
      reference: reference.toString(),
      digest: resolved.root.descriptor.digest,
      platform,
      layers: resolved.images.reduce((sum, manifest) => sum + manifest.manifest.layers.length, 0),
      bytes: totalBytes(resolved),
      destination: destination.describe(reference),
    };
  } finally {
    own?.release();
    await client.close();
  }
}

/**
 * A signal of this attempt's own that follows the caller's: every request and blob body listens
 * to it (up to two listeners per blob in flight), so its listener limit is raised — on a signal
 * nobody else shares — rather than the caller's, which every image of a set shares.
 */
function attemptSignal(
  outer: AbortSignal | undefined,
  concurrency: number | undefined,
): { readonly signal: AbortSignal; release(): void } | undefined {
  if (outer === undefined) return undefined;
  const controller = new AbortController();
  setMaxListeners(2 * (concurrency ?? DEFAULT_CONCURRENCY) + 16, controller.signal);
  const forward = (): void => controller.abort(outer.reason);
  outer.addEventListener("abort", forward, { once: true });
  return { signal: controller.signal, release: () => outer.removeEventListener("abort", forward) };
}

function checkNotCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError(undefined, signal.reason);
}

/**
 * A blob request an abort stops: not sent once aborted, given up while awaiting its headers,
 * and its body destroyed while it streams — the blob store keeps the `.partial` for the next run.
 */
async function abortable(open: () => Promise<BlobResponse>, signal: AbortSignal | undefined): Promise<BlobResponse> {
  if (!signal) return open();
  checkNotCancelled(signal);
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(cancelledError(undefined, signal.reason));
  });
  signal.addEventListener("abort", onAbort, { once: true });
  const pending = open();
  let blob: BlobResponse;
  try {
    blob = await Promise.race([pending, aborted]);
  } catch (error) {
    // Given up while awaiting the headers: a body that still arrives is dropped.
    pending.then(
      (late) => late.body.destroy(),
      () => undefined,
    );
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  const stop = (): void => void blob.body.destroy(cancelledError(undefined, signal.reason));
  signal.addEventListener("abort", stop, { once: true });
  blob.body.once("close", () => signal.removeEventListener("abort", stop));
  return blob;
}

/** Configs first: small, and they say which platform the image is for. */
function configJobs(resolved: ResolvedImage): BlobJob[] {
  return resolved.images.map((image) => ({
    digest: image.manifest.config.digest,
    size: image.manifest.config.size,
    reportProgress: false,
  }));
}

function layerJobs(resolved: ResolvedImage): BlobJob[] {
  return resolved.images.flatMap((image) =>
    image.manifest.layers.map((layer) => ({ digest: layer.digest, size: layer.size, reportProgress: true })),
  );
}

function totalBytes(resolved: ResolvedImage): number {
  const sizes = new Map<string, number>([[resolved.root.descriptor.digest, resolved.root.descriptor.size]]);
  for (const image of resolved.images) {
    for (const blob of [image.descriptor, image.manifest.config, ...image.manifest.layers]) sizes.set(blob.digest, blob.size);
  }
  return [...sizes.values()].reduce((sum, size) => sum + size, 0);
}

/**
 * The platform pulled. An index entry was chosen by platform already; a single image's
 * config says what it is — refused when it cannot run on a platform asked for
 * explicitly, a warning when the platform was only defaulted (docker pulls it too).
 */
async function platformOf(store: BlobStore, resolved: ResolvedImage, settings: AttemptSettings, what: string): Promise<string> {
  if (settings.allPlatforms && resolved.root.manifest.kind === "index") {
    const platforms = resolved.root.manifest.manifests.flatMap((entry) =>
      entry.platform && entry.platform.os !== "unknown" ? [formatPlatform(entry.platform)] : [],
    );
    return [...new Set(platforms)].join(", ");
  }
  const image = resolved.images[0];
  if (!image) throw new PullbackError("registry", `${what} names no image`);
  const actual = await configPlatform(store, image.manifest);
  if (actual === undefined) return formatPlatform(settings.platform);
  if (platformRank(settings.platform, actual) === undefined) {
    const message = `${what} is built for ${formatPlatform(actual)}, not ${formatPlatform(settings.platform)}`;
    if (settings.explicitPlatform) throw new PullbackError("platform", message);
    emit(settings.onEvent, { type: "warning", code: "other", message: `${message}; it may not run on this machine` });
  }
  return formatPlatform(actual);
}

/** os/architecture/variant from an image config; undefined when it does not say. */
async function configPlatform(store: BlobStore, manifest: ImageManifest): Promise<Platform | undefined> {
  // Configs are small JSON documents; a huge one is not read into memory.
  if (manifest.config.size > 16 * 1024 * 1024) return undefined;
  try {
    const { os, architecture, variant } = JSON.parse(await readFile(store.path(manifest.config.digest), "utf8")) as Record<string, unknown>;
    if (typeof os !== "string" || typeof architecture !== "string") return undefined;
    return normalizePlatform(typeof variant === "string" && variant !== "" ? { os, architecture, variant } : { os, architecture });
  } catch {
    return undefined;
  }
}
