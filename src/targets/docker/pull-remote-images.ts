/**
 * pullRemoteImages — a set of images onto several Docker hosts: one connection per host
 * for the whole run (over SSH, one `ssh` process), that host's images one after another
 * on it, several hosts at once. A host that cannot be reached fails its own items with
 * that error after one attempt; the other hosts carry on.
 */
import { PullbackError, isPullbackError, messageOf } from "../../errors.js";
import { emit, type PullEventListener } from "../../events.js";
import type { ImageReference } from "../../reference/parse-reference.js";
import { FirstFailure, runImageSet } from "../../sets/run-image-set.js";
import { runSet } from "../../sets/run-set.js";
import type { ImageSetItem } from "../../sets/set-result.js";
import { SharedRun } from "../../sets/shared-run.js";
import { checkPullRemoteImages } from "../../validation/entry-points.js";
import { connectDocker, type DockerConnection } from "./connect-docker.js";
import type { DaemonImage } from "./daemon-pull.js";
import { pullRemoteImageIn, type PullRemoteImageOptions } from "./pull-remote-image.js";

/**
 * Options of pullRemoteImages: those of pullRemoteImage (but `tagAs`), and how the set runs.
 *
 * @example
 * await pullRemoteImages(["ssh://build-1", "ssh://build-2"], refs, { sshConfigFile: "./ssh_config", keepGoing: true });
 */
export interface PullRemoteImagesOptions extends Omit<PullRemoteImageOptions, "tagAs"> {
  /**
   * Hosts at once, an integer from 1 to 64; default 4. Each host pulls one image at a time:
   * its one SSH stream carries one request at a time, and a pull holds it until it ends.
   */
  readonly jobs?: number;
  /** Default false: after the first failure no new image starts on any host; the rest end `cancelled`. */
  readonly keepGoing?: boolean;
  /** Cancels the whole set: running pulls are stopped, connections closed, the rest end `cancelled`. */
  readonly signal?: AbortSignal;
}

/**
 * Pull every image of `refs` onto every host of `hosts`, like pullRemoteImage for each pair, over one
 * connection per host. Resolves to one item per host × image, host-major (every image of hosts[0],
 * then hosts[1] …), each with `host` set to the host as given (a connection: its endpoint); rejects
 * only for bad input, before any connection. Every event carries its `image` and `host`; a refused
 * credential is warned about once per registry, credential source and host.
 *
 * @example
 * const items = await pullRemoteImages(["ssh://build-1", "ssh://build-2"], ["ghcr.io/acme/app:1", "ghcr.io/acme/worker:1"]);
 * for (const item of items.filter((i) => !i.ok)) console.error(`${item.host} ${item.image}: ${item.ok ? "" : item.error.message}`);
 */
export async function pullRemoteImages(
  hosts: readonly (string | DockerConnection)[],
  refs: readonly (string | ImageReference)[],
  options: PullRemoteImagesOptions = {},
): Promise<ImageSetItem<DaemonImage>[]> {
  const { references, jobs, keepGoing } = checkPullRemoteImages(hosts, refs, options);
  const run: HostRun = { shared: new SharedRun(), references, options, firstFailure: new FirstFailure(keepGoing), keepGoing };
  const perHost = await runSet(hosts, (host, _index, signal) => pullOntoHost(run, host, signal), {
    jobs: Math.min(jobs, hosts.length),
    signal: options.signal,
  });
  return perHost.flatMap((result, index) =>
    result instanceof PullbackError
      ? references.map((ref) => ({
          ok: false as const,
          error: result,
          image: ref.toString(),
          host: hostLabel(hosts[index]!),
          durationMs: 0,
        }))
      : result,
  );
}

/** What every host of one run shares. */
interface HostRun {
  readonly shared: SharedRun;
  readonly references: readonly ImageReference[];
  readonly options: PullRemoteImagesOptions;
  readonly firstFailure: FirstFailure;
  readonly keepGoing: boolean;
}

/** Every image onto one host, one at a time, over one connection opened once (and closed when it was ours). */
async function pullOntoHost(run: HostRun, host: string | DockerConnection, signal: AbortSignal): Promise<ImageSetItem<DaemonImage>[]> {
  const label = hostLabel(host);
  const items = run.references.map((reference) => ({ reference, image: reference.toString(), host: label }));
  let docker: DockerConnection | undefined;
  if (!signal.aborted && run.firstFailure.reasonNotToStart() === undefined) {
    const started = performance.now();
    const connected = await connectOnce(host, label, run.options).catch((error: unknown) =>
      isPullbackError(error) ? error : new PullbackError("daemon-unreachable", messageOf(error), { cause: error }),
    );
    if (connected instanceof PullbackError) {
      run.firstFailure.note(items[0]!);
      const durationMs = Math.round(performance.now() - started);
      return items.map(({ image }) => ({ ok: false, error: connected, image, host: label, durationMs }));
    }
    docker = connected;
  }
  try {
    return await runImageSet(
      items,
      (item, itemSignal) => {
        if (!docker) throw new PullbackError("other", `no connection to ${label}`);
        return pullRemoteImageIn(run.shared, docker, item.reference, undefined, {
          ...run.options,
          signal: itemSignal,
          onEvent: labelled(run.shared.listenerFor(run.options.onEvent, item), label),
        });
      },
      { jobs: 1, keepGoing: run.keepGoing, signal },
      run.firstFailure,
    );
  } finally {
    if (typeof host === "string") docker?.close();
  }
}

/** One connection attempt per host; ssh's notices (a recorded host key) become warnings naming the host. */
function connectOnce(host: string | DockerConnection, label: string, options: PullRemoteImagesOptions): Promise<DockerConnection> {
  if (typeof host !== "string") return Promise.resolve(host);
  const onNotice = (message: string): void => emit(options.onEvent, { type: "warning", code: "other", message, host: label });
  return connectDocker({ ...options, host, onNotice });
}

/** Every event of a host's item names the host as the set does, so two hosts on one address stay apart. */
function labelled(listener: PullEventListener | undefined, host: string): PullEventListener | undefined {
  return listener && ((event) => listener({ ...event, host }));
}

/** The host as the caller gave it; a connection by its (secret-free) endpoint. */
function hostLabel(host: string | DockerConnection): string {
  return typeof host === "string" ? host : host.endpoint;
}
