/**
 * The daemonless pull: straight from a registry into an OCI image layout or a
 * docker-archive tarball, with the same anonymous-fallback policy as the
 * daemon paths.
 */
import { PullbackError } from "../../errors.js";
import type { PullEventListener } from "../../events.js";
import type { PullOutcome } from "../../fallback/pull-outcome.js";
import { fallbackOptionsFor, pullWithFallback, type FallbackChoiceOptions } from "../../fallback/pull-with-fallback.js";
import { localPlatform, parsePlatform, type Platform } from "../../platform.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import type { Exchange } from "../../registry/http.js";
import type { ProxyEnv } from "../../registry/proxy.js";
import type { TlsOptions } from "../../registry/trust.js";
import { cancelledError } from "../../sets/cancelled.js";
import { SharedRun } from "../../sets/shared-run.js";
import { checkPullImage } from "../../validation/entry-points.js";
import { chooseCredential, type CredentialChoiceOptions } from "../credential-choice.js";
import type { PullDestination } from "../../reference/destination.js";
import type { ImageDestination } from "./image-destination.js";
import { openDestination } from "./open-destination.js";
import type { PullPolicy } from "../../pull-policy.js";
import { usePresentImage } from "./present-image.js";
import { pullAttempt } from "./pull-attempt.js";
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
  /** Blobs downloaded at once. Default 6, as skopeo and podman. */
  readonly concurrency?: number | undefined;
  /** Longest silence from the registry (awaiting headers or between body chunks) before a try is given up. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** @deprecated Since 0.2: `timeoutMs`, the name every other function uses. */
  readonly idleTimeoutMs?: number | undefined;
  /** Sees each HTTP exchange with the registry (method, redacted URL, status), for `-v`. */
  readonly onExchange?: ((exchange: Exchange) => void) | undefined;
  /**
   * Cancels the pull: no new request goes out and a blob in flight stops at once. It rejects with
   * kind `other`, reason `cancelled`; blobs stored (and `.partial` files) stay for the next run.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Pull `ref` into an OCI layout or a docker-archive, with no daemon.
 *
 * One story for every destination, and for one image as for a set (pullImages):
 * check the destination, resolve the manifests, fetch and check the config (a
 * wrong platform costs one small request, not the layers), let the destination
 * admit the image, fetch the layers, commit, seal.
 *
 * @example
 * const { image, warnings } = await pullImage("ghcr.io/o/app:1", { to: parseDestination("oci:./images:app-1"), credential });
 * console.log(image.digest, warnings);
 */
export async function pullImage(ref: string | ImageReference, options: PullImageOptions): Promise<PullOutcome<OciPulledImage>> {
  const { reference, to } = checkPullImage(ref, options);
  const platform = platformOf(options);
  // Refuses what no destination of its kind can hold before anything is read or asked.
  const destination = openDestination(to, { allPlatforms: options.allPlatforms === true, replace: options.replace === true });
  const run = new SharedRun();
  const item = { onEvent: options.onEvent, signal: options.signal };
  const present = await usePresentImage(destination, reference, options.pull ?? "always", explicitPlatform(options, platform));
  if (present) return present;
  await run.credentialFor(reference.registry, () => chooseCredential(reference.registry, options));
  return destination.exclusive(async () => {
    // Under the destination's lock: another writer that finished first may have removed what a prepare made.
    await destination.prepare();
    try {
      // A set of one: the seal belongs to the attempt, so a destination that cannot be written fails it as before.
      return await pullInto(run, destination, reference, options, item, () => destination.seal());
    } catch (error) {
      await destination.discard(error);
      throw error;
    } finally {
      run.close();
    }
  });
}

/** The platform asked for, or the local one. */
export function platformOf(options: { readonly platform?: string | undefined }): Platform {
  return options.platform === undefined ? localPlatform() : parsePlatform(options.platform);
}

function explicitPlatform(options: { readonly platform?: string | undefined }, platform: Platform): Platform | undefined {
  return options.platform === undefined ? undefined : platform;
}

/** What one image of a run carries of its own: its event listener (labelled in a set) and the signal that cancels it. */
export interface ItemContext {
  readonly onEvent?: PullEventListener | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * One image into a destination already prepared (inside its `exclusive`): the pull policy, the
 * run's credential for the registry, then the attempts with fallback. `afterCommit` runs inside
 * each attempt (pullImage seals there). An abort becomes kind `other`, reason `cancelled`.
 *
 * @example
 * const outcome = await pullInto(run, destination, reference, options, { onEvent, signal });
 */
export async function pullInto(
  run: SharedRun,
  destination: ImageDestination,
  reference: ImageReference,
  options: Omit<PullImageOptions, "to">,
  item: ItemContext,
  afterCommit?: () => Promise<void>,
): Promise<PullOutcome<OciPulledImage>> {
  const platform = platformOf(options);
  const { signal } = item;
  try {
    if (signal?.aborted) throw cancelledError(undefined, signal.reason);
    const present = await usePresentImage(destination, reference, options.pull ?? "always", explicitPlatform(options, platform));
    if (present) return present;
    const credential = await run.credentialFor(reference.registry, () => chooseCredential(reference.registry, options));
    const settings = {
      ...options,
      destination,
      platform,
      explicitPlatform: options.platform !== undefined,
      allPlatforms: options.allPlatforms === true,
      tokens: run.tokens,
      registries: run.registries,
      timeoutMs: options.timeoutMs ?? options.idleTimeoutMs,
      onEvent: item.onEvent,
      signal,
    };
    return await pullWithFallback(
      async (credential) => {
        const image = await pullAttempt(reference, credential, settings);
        await afterCommit?.();
        return image;
      },
      fallbackOptionsFor(reference, credential, { ...options, onEvent: item.onEvent }),
    );
  } catch (error) {
    // However far it got, an aborted pull ends as cancelled: that is what happened to it.
    if (signal?.aborted && !(error instanceof PullbackError && error.reason === "cancelled")) throw cancelledError(undefined, error);
    throw error;
  }
}
