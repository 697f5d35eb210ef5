/**
 * The JavaScript behind `import "pullback"` (scripts/bundle.ts builds dist/index.js from
 * this file; tsc builds dist/index.d.ts, the types and docs, from index.ts). The same
 * exports as index.ts — test/package/lazy-index.test.ts holds them equal — but every
 * async entry point loads its module on its first call: importing the package costs the
 * parsers and error types, not the registry client, the daemon client, ssh or the OCI writer.
 */
import type * as Api from "./index.js";

export { PullbackError, isPullbackError } from "./errors.js";
export { parseReference, isLocalImageRef } from "./reference/parse-reference.js";
export { Credential } from "./credentials/credential.js";
export { classifyPullError } from "./fallback/classification.js";
export { PullError } from "./fallback/pull-outcome.js";
export { parseDestination } from "./reference/destination.js";
export { readRegistriesConfig } from "./targets/cluster/registries-config.js";
export { parsePlatform, formatPlatform, normalizeArchitecture } from "./platform.js";

type AsyncFn = (...args: never[]) => Promise<unknown>;

/** `module[name]`, its module loaded on the first call; the same function type, generics included. */
function lazily<K extends string, M extends Record<K, AsyncFn>>(load: () => Promise<M>, name: K): M[K] {
  const call = async (...args: never[]): Promise<unknown> => (await load())[name](...args);
  Object.defineProperty(call, "name", { value: name });
  return call as unknown as M[K];
}

export const resolveCredentials: typeof Api.resolveCredentials = lazily(
  () => import("./credentials/resolve-credentials.js"),
  "resolveCredentials",
);
export const verifyCredentials: typeof Api.verifyCredentials = lazily(
  () => import("./registry/verify-credentials.js"),
  "verifyCredentials",
);
export const pullWithFallback: typeof Api.pullWithFallback = lazily(() => import("./fallback/pull-with-fallback.js"), "pullWithFallback");
export const connectDocker: typeof Api.connectDocker = lazily(() => import("./targets/docker/connect-docker.js"), "connectDocker");
export const ensureImage: typeof Api.ensureImage = lazily(() => import("./targets/docker/ensure-image.js"), "ensureImage");
export const ensureImages: typeof Api.ensureImages = lazily(() => import("./targets/docker/ensure-images.js"), "ensureImages");
export const pullRemoteImages: typeof Api.pullRemoteImages = lazily(
  () => import("./targets/docker/pull-remote-images.js"),
  "pullRemoteImages",
);
export const pullRemoteImage: typeof Api.pullRemoteImage = lazily(() => import("./targets/docker/pull-remote-image.js"), "pullRemoteImage");
export const pullImage: typeof Api.pullImage = lazily(() => import("./targets/oci/pull-image.js"), "pullImage");
export const pullImages: typeof Api.pullImages = lazily(() => import("./targets/oci/pull-images.js"), "pullImages");
export const writeRegistriesConfig: typeof Api.writeRegistriesConfig = lazily(
  () => import("./targets/cluster/write-registries-config.js"),
  "writeRegistriesConfig",
);
export const renderPullSecret: typeof Api.renderPullSecret = lazily(
  () => import("./targets/cluster/k8s-pull-secret.js"),
  "renderPullSecret",
);
