/**
 * The daemonless pull: straight from a registry into an OCI image layout or a
 * docker-archive tarball, with the same anonymous-fallback policy as the
 * daemon paths.
 */
import { readFile } from "node:fs/promises";
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { emit } from "../../events.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { fallbackOptionsFor, pullWithFallback, type FallbackChoiceOptions } from "../../fallback/pull-with-fallback.js";
import { formatPlatform, localPlatform, normalizePlatform, parsePlatform, platformRank, type Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { Exchange } from "../../registry/http.js";
import type { ProxyEnv } from "../../registry/proxy.js";
import type { TlsOptions } from "../../registry/trust.js";
import { checkPullImage } from "../../validation/entry-points.js";
import { RegistryClient } from "../../registry/registry-client.js";
import { chooseCredential, type CredentialChoiceOptions } from "../credential-choice.js";
import type { BlobStore } from "./blob-store.js";
import type { PullDestination } from "../../reference/destination.js";
import { explainDiskFull } from "./disk-full.js";
import { downloadBlobs, type BlobJob } from "./download.js";
import type { ImageDestination } from "./image-destination.js";
import type { ImageManifest } from "./manifest.js";
import { openDestination } from "./open-destination.js";
import { resolveImage, type ResolvedImage } from "./resolve-image.js";
import type { PullPolicy } from "../../pull-policy.js";
import { usePresentImage } from "./present-image.js";
import type { OciPulledImage } from "./pulled-image.js";

export type { OciPulledImage } from "./pulled-image.js";

export { parseDestination, type PullDestination } from "../../reference/destination.js";

/**
 * Options of pullImage: the destination, platform(s), credential, fallback, concurrency, events.
 *
 * @example
 * await pullImage(ref, { to: parseDestination("docker-archive:app.tar"), platform: "linux/arm64", concurrency: 2 });
 */
export interface PullImageOptions extends CredentialChoiceOptions, FallbackChoiceOptions {
  /** A PullDestination, or the CLI's spelling: "oci:DIR[:TAG]", "docker-archive:FILE". */
  readonly to: PullDestination | string;
  /** os/arch[/variant]; default the local machine's. */
  readonly platform?: string | undefined;
  /** When to ask the registry (docker's `--pull`); default `"always"`. See ensureImage. */
  readonly pull?: PullPolicy | undefined;
  /** Keep the whole multi-platform index (OCI layouts only). */
  readonly allPlatforms?: boolean | undefined;
  /** Replace an existing docker-archive that holds another image (refused otherwise, as skopeo does). */
  readonly replace?: boolean | undefined;
  /** Allow plain HTTP to a non-loopback registry. */
  readonly insecure?: boolean | undefined;
  /** CAs and client certificates beyond the system store: certs.d (default), `certDir`, files. */
  readonly tls?: TlsOptions | undefined;
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY, NODE_EXTRA_CA_CERTS, XDG_CONFIG_HOME. Default `process.env`. */
  readonly env?: ProxyEnv | undefined;
  /** Blobs downloaded at once. Default 4. */
  readonly concurrency?: number | undefined;
  /** Longest silence from the registry (awaiting headers or between body chunks) before a try is given up. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** @deprecated Since 0.2: `timeoutMs`, the name every other function uses. */
  readonly idleTimeoutMs?: number | undefined;
  /** Sees each HTTP exchange with the registry (method, redacted URL, status), for `-v`. */
  readonly onExchange?: ((exchange: Exchange) => void) | undefined;
}

/**
 * Pull `ref` into an OCI layout or a docker-archive, with no daemon.
 *
 * One story for every destination: check the destination, resolve the manifests,
 * fetch and check the config (a wrong platform costs one small request, not the
 * layers), let the destination admit the image, fetch the layers, commit.
 *
 * @example
 * const { image, warnings } = await pullImage("ghcr.io/o/app:1", { to: parseDestination("oci:./images:app-1"), credential });
 * console.log(image.digest, warnings);
 */
export async function pullImage(ref: string | ImageReference, options: PullImageOptions): Promise<PullOutcome<OciPulledImage>> {
  const { reference, to } = checkPullImage(ref, options);
  if (
    options.concurrency !== undefined &&
    !(Number.isInteger(options.concurrency) && options.concurrency >= 1 && options.concurrency <= 64)
  ) {
    throw new PullbackError("usage", `concurrency must be an integer from 1 to 64, not ${options.concurrency}`);
  }
  const platform = options.platform === undefined ? localPlatform() : parsePlatform(options.platform);
  // Refuses what no destination of its kind can hold before anything is read or asked.
  const destination = openDestination(to, { allPlatforms: options.allPlatforms === true, replace: options.replace === true });
  const present = await usePresentImage(reference, to, options.pull ?? "always", options.platform === undefined ? undefined : platform);
  if (present) return present;
  const credential = await chooseCredential(reference.registry, options);
  const attempt = { ...options, platform, explicitPlatform: options.platform !== undefined, destination };
  return destination.exclusive(async () => {
    // Under the destination's lock: another writer that finished first may have removed what a prepare made.
    await destination.prepare();
    try {
      return await pullWithFallback(
        (credential) => pullOnce(reference, credential, attempt),
        fallbackOptionsFor(reference, credential, options),
      );
    } catch (error) {
      await destination.discard(error);
      throw error;
    }
  });
}

type AttemptOptions = Omit<PullImageOptions, "platform" | "to"> & {
  readonly platform: Platform;
  readonly explicitPlatform: boolean;
  readonly destination: ImageDestination;
};

/** One attempt, as one identity. */
async function pullOnce(reference: ImageReference, credential: Credential | undefined, options: AttemptOptions): Promise<OciPulledImage> {
  const client = new RegistryClient(reference.endpoint, {
    credential,
    insecure: options.insecure,
    idleTimeoutMs: options.timeoutMs ?? options.idleTimeoutMs,
    onExchange: options.onExchange,
    tls: options.tls,
    env: options.env,
    onWarning: (message: string) => emit(options.onEvent, { type: "warning", code: "other", message }),
  });
  const { destination } = options;
  const store = destination.blobs;
  const what = reference.familiar();
  const download = (jobs: readonly BlobJob[]): Promise<unknown> =>
    downloadBlobs(store, jobs, {
      concurrency: options.concurrency,
      onEvent: options.onEvent,
      open: async (digest, offset, signal) => client.getBlob(reference.repository, digest, { offset, signal }),
      describe: (digest) => `blob ${digest} of ${what}`,
    });
  try {
    const resolved = await resolveImage(
      (r, accept) => client.getManifest(reference.repository, r, accept),
      reference.digest ?? reference.tag ?? "latest",
      {
        platform: options.platform,
        allPlatforms: options.allPlatforms === true,
        what,
      },
    );
    const image = { resolved, reference };
    await download(configJobs(resolved));
    const platform = await platformOf(store, resolved, options, what);
    for (const warning of await destination.admit(image))
      emit(options.onEvent, { type: "warning", code: "destination-replaced", message: warning });
    await explainDiskFull(() => download(layerJobs(resolved)), store, layerJobs(resolved));
    for (const manifest of resolved.images) await store.writeBytes(manifest.descriptor, manifest.bytes, `the manifest of ${what}`);
    await store.writeBytes(resolved.root.descriptor, resolved.root.bytes, `the manifest of ${what}`);
    await destination.commit(image);
    return {
      reference: reference.toString(),
      digest: resolved.root.descriptor.digest,
      platform,
      layers: resolved.images.reduce((sum, manifest) => sum + manifest.manifest.layers.length, 0),
      bytes: totalBytes(resolved),
      destination: destination.description,
    };
  } finally {
    await client.close();
  }
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
async function platformOf(store: BlobStore, resolved: ResolvedImage, options: AttemptOptions, what: string): Promise<string> {
  if (options.allPlatforms === true && resolved.root.manifest.kind === "index") {
    const platforms = resolved.root.manifest.manifests.flatMap((entry) =>
      entry.platform && entry.platform.os !== "unknown" ? [formatPlatform(entry.platform)] : [],
    );
    return [...new Set(platforms)].join(", ");
  }
  const image = resolved.images[0];
  if (!image) throw new PullbackError("registry", `${what} names no image`);
  const actual = await configPlatform(store, image.manifest);
  if (actual === undefined) return formatPlatform(options.platform);
  if (platformRank(options.platform, actual) === undefined) {
    const message = `${what} is built for ${formatPlatform(actual)}, not ${formatPlatform(options.platform)}`;
    if (options.explicitPlatform) throw new PullbackError("platform", message);
    emit(options.onEvent, { type: "warning", code: "other", message: `${message}; it may not run on this machine` });
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
