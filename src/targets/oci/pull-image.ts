/**
 * The daemonless pull: straight from a registry into an OCI image layout or a
 * docker-archive tarball, with the same anonymous-fallback policy as the
 * daemon paths.
 */
import { readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Credential } from "../../credentials/credential.js";
import { PullbackError } from "../../errors.js";
import { emit, type PullEventListener } from "../../events.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { pullWithFallback } from "../../fallback/pull-with-fallback.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { RegistryClient } from "../../registry/registry-client.js";
import { BlobStore } from "./blob-store.js";
import { formatDestination, type PullDestination } from "./destination.js";
import { writeDockerArchive } from "./docker-archive.js";
import { downloadBlobs, type BlobJob } from "./download.js";
import { REF_NAME_ANNOTATION } from "./media-types.js";
import type { ImageManifest } from "./manifest.js";
import { addToLayoutIndex, initLayout } from "./oci-layout.js";
import { formatPlatform, localPlatform, normalizePlatform, parsePlatform, platformRank, type Platform } from "../../platform.js";
import { resolveImage, type FetchedManifest, type ResolvedImage } from "./resolve-image.js";

import type { Exchange } from "../../registry/http.js";
import type { ProxyEnv } from "../../registry/proxy.js";
import type { TlsOptions } from "../../registry/trust.js";
import { chooseCredential, type CredentialChoiceOptions } from "../credential-choice.js";
import { checkPullImage } from "../../validation/entry-points.js";
import { withLock } from "../../files/lock.js";
import { makeDirectory } from "../../files/make-directory.js";
import type { PullPolicy } from "../pull-policy.js";
import { usePresentImage } from "./present-image.js";

export { parseDestination, type PullDestination } from "./destination.js";

/**
 * Options of pullImage: the destination, platform(s), credential, fallback, concurrency, events.
 *
 * @example
 * await pullImage(ref, { to: parseDestination("docker-archive:app.tar"), platform: "linux/arm64", concurrency: 2 });
 */
export interface PullImageOptions extends CredentialChoiceOptions {
  /** A PullDestination, or the CLI's spelling: "oci:DIR[:TAG]", "docker-archive:FILE". */
  readonly to: PullDestination | string;
  /** os/arch[/variant]; default the local machine's. */
  readonly platform?: string | undefined;
  /** When to ask the registry (docker's `--pull`); default `"always"`. See ensureImage. */
  readonly pull?: PullPolicy | undefined;
  /** Keep the whole multi-platform index (OCI layouts only). */
  readonly allPlatforms?: boolean | undefined;
  /** `false` turns the anonymous retry off. Default true. */
  readonly fallback?: boolean | undefined;
  /** Allow plain HTTP to a non-loopback registry. */
  readonly insecure?: boolean | undefined;
  /** CAs and client certificates beyond the system store: certs.d (default), `certDir`, files. */
  readonly tls?: TlsOptions | undefined;
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY, NODE_EXTRA_CA_CERTS, XDG_CONFIG_HOME. Default `process.env`. */
  readonly env?: ProxyEnv | undefined;
  /** Blobs downloaded at once. Default 4. */
  readonly concurrency?: number | undefined;
  /** Longest silence from the registry (awaiting headers or between body chunks) before a try is given up. Default 30 s. */
  readonly idleTimeoutMs?: number | undefined;
  readonly onEvent?: PullEventListener | undefined;
  /** Sees each HTTP exchange with the registry (method, redacted URL, status), for `-v`. */
  readonly onExchange?: ((exchange: Exchange) => void) | undefined;
}

/**
 * What pullImage wrote: the manifest digest, platform, sizes and destination.
 *
 * @example
 * const { digest, platform, destination } = (await pullImage(ref, { to })).image;
 */
export interface OciPulledImage {
  /** The canonical reference pulled: "docker.io/library/nginx:latest". */
  readonly reference: string;
  /** Digest of the manifest the destination points at (the index with `allPlatforms`). */
  readonly digest: string;
  /** "linux/amd64", or the platforms of the index joined by ", " with `allPlatforms`. */
  readonly platform: string;
  readonly layers: number;
  /** Size of every blob the image consists of (manifests, configs, layers). */
  readonly bytes: number;
  /** "oci:DIR:TAG" or "docker-archive:FILE". */
  readonly destination: string;
}

/**
 * Pull `ref` into an OCI layout or a docker-archive, with no daemon.
 *
 * @example
 * const { image, warnings } = await pullImage("ghcr.io/o/app:1", { to: parseDestination("oci:./images:app-1"), credential });
 * console.log(image.digest, warnings);
 */
export async function pullImage(ref: string | ImageReference, options: PullImageOptions): Promise<PullOutcome<OciPulledImage>> {
  const { reference, to } = checkPullImage(ref, options);
  if (options.allPlatforms === true && to.kind !== "oci") {
    throw new PullbackError("usage", "allPlatforms keeps a multi-platform index, which only an OCI layout can hold; pull one platform into a docker-archive");
  }
  if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency >= 1 && options.concurrency <= 64)) {
    throw new PullbackError("usage", `concurrency must be an integer from 1 to 64, not ${options.concurrency}`);
  }
  const platform = options.platform === undefined ? localPlatform() : parsePlatform(options.platform);
  const present = await usePresentImage(reference, to, options.pull ?? "always", options.platform === undefined ? undefined : platform);
  if (present) return present;
  const credential = await chooseCredential(reference.registry, options);
  return pullWithFallback((credential) => exclusive(to, () => pullOnce(reference, credential, { ...options, to, platform, explicitPlatform: options.platform !== undefined })), {
    image: reference.toString(),
    registry: reference.registry,
    credential,
    ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
}

type AttemptOptions = Omit<PullImageOptions, "platform" | "to"> & { readonly to: PullDestination; readonly platform: Platform; readonly explicitPlatform: boolean };

/** One attempt, as one identity. */
async function pullOnce(reference: ImageReference, credential: Credential | undefined, options: AttemptOptions): Promise<OciPulledImage> {
  const client = new RegistryClient(reference.endpoint, {
    credential,
    ...(options.insecure === undefined ? {} : { insecure: options.insecure }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.onExchange === undefined ? {} : { onExchange: options.onExchange }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.env === undefined ? {} : { env: options.env }),
    onWarning: (message: string) => emit(options.onEvent, { type: "warning", code: "other", message }),
  });
  const what = reference.familiar();
  try {
    const resolved = await resolveImage((r, accept) => client.getManifest(reference.repository, r, accept), reference.digest ?? reference.tag ?? "latest", {
      platform: options.platform,
      allPlatforms: options.allPlatforms === true,
      what,
    });
    const store = new BlobStore(options.to.kind === "oci" ? options.to.dir : stagingDir(options.to.file));
    await store.init();
    if (options.to.kind === "oci") await initLayout(options.to.dir);
    await downloadBlobs(store, blobJobs(resolved), {
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      onEvent: options.onEvent,
      open: async (digest, offset) => client.getBlob(reference.repository, digest, { offset }),
      describe: (digest) => `blob ${digest} of ${what}`,
    });
    const platform = await platformOf(store, resolved, options, what);
    for (const image of resolved.images) await store.writeBytes(image.descriptor, image.bytes, `the manifest of ${what}`);
    await store.writeBytes(resolved.root.descriptor, resolved.root.bytes, `the manifest of ${what}`);
    await publish(store, resolved, reference, options.to);
    return {
      reference: reference.toString(),
      digest: resolved.root.descriptor.digest,
      platform,
      layers: resolved.images.reduce((sum, image) => sum + image.manifest.layers.length, 0),
      bytes: totalBytes(resolved),
      destination: formatDestination(options.to),
    };
  } finally {
    await client.close();
  }
}

/**
 * Writers of one docker-archive take turns: they share its staging area, which the one
 * that finishes removes. (Writers of one OCI layout lock per blob and for the index.)
 */
async function exclusive<T>(to: PullDestination, fn: () => Promise<T>): Promise<T> {
  if (to.kind !== "docker-archive") return fn();
  await makeDirectory(dirname(to.file));
  return withLock(to.file, fn);
}

/** Make the pulled image visible: the index entry (last, atomically) or the finished archive. */
async function publish(store: BlobStore, resolved: ResolvedImage, reference: ImageReference, to: PullDestination): Promise<void> {
  if (to.kind === "oci") {
    const { descriptor } = resolved.root;
    await addToLayoutIndex(to.dir, {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      ...(to.tag === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: to.tag } }),
    });
    return;
  }
  const image = resolved.root as FetchedManifest<ImageManifest>;
  await writeDockerArchive(to.file, store, { ...image, manifestBytes: image.bytes, repository: reference.name, tag: reference.tag });
  await rm(stagingDir(to.file), { recursive: true, force: true });
}

/**
 * Blobs for a docker-archive are staged beside the target (same filesystem, and a
 * second run after an interruption resumes them); removed once the archive is written.
 */
function stagingDir(file: string): string {
  return join(dirname(file), `.${basename(file)}.pullback-blobs`);
}

function blobJobs(resolved: ResolvedImage): BlobJob[] {
  return resolved.images.flatMap((image) => [
    { digest: image.manifest.config.digest, size: image.manifest.config.size, reportProgress: false },
    ...image.manifest.layers.map((layer) => ({ digest: layer.digest, size: layer.size, reportProgress: true })),
  ]);
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
    const platforms = resolved.root.manifest.manifests.flatMap((entry) => (entry.platform && entry.platform.os !== "unknown" ? [formatPlatform(entry.platform)] : []));
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
