/**
 * One check per public function, called on its first line: bad input from a
 * JavaScript caller becomes a usage error naming the argument, before any
 * network, file or daemon is touched.
 */
import { PullbackError } from "../errors.js";
import type { PullDestination } from "../reference/destination.js";
import type { ImageReference } from "../reference/parse-reference.js";
import { PULL_POLICIES } from "../pull-policy.js";
import {
  checkAbortSignal,
  checkBoolean,
  checkEnvironment,
  checkFunction,
  checkInteger,
  checkRecord,
  checkSignal,
  checkText,
  checkTextList,
  invalid,
} from "./checks.js";
import {
  checkCredential,
  checkCredentialChoice,
  checkDestination,
  checkDockerConnection,
  checkPlatform,
  checkReference,
  checkResolveOptions,
} from "./domain-checks.js";

const MAX_TIMEOUT_MS = 2_147_483_647; // what setTimeout accepts
/** A set bigger than this is a mistake (a file of digests pasted twice), not a provisioning list. */
const MAX_SET_IMAGES = 10_000;

/**
 * pullImage(ref, options): the reference and destination, normalized.
 *
 * @example
 * const { reference, to } = checkPullImage("nginx", { to: "oci:./images:nginx" });
 */
export function checkPullImage(ref: unknown, value: unknown): { reference: ImageReference; to: PullDestination } {
  const options = checkRecord(value, "pullImage: options");
  const reference = checkReference(ref, "pullImage: ref");
  return { reference, to: checkDaemonlessOptions(options, "pullImage") };
}

/**
 * pullImages(refs, options): every reference (a bad one named by its index) and the destination,
 * normalized; several images into `oci:DIR:TAG` is refused (one tag names one image).
 *
 * @example
 * const { references, to } = checkPullImages(["nginx", "redis:7"], { to: "oci:./images" });
 */
export function checkPullImages(refs: unknown, value: unknown): { references: ImageReference[]; to: PullDestination } {
  const options = checkRecord(value, "pullImages: options");
  if (!Array.isArray(refs)) throw invalid("pullImages: refs", refs, "an array of image references");
  if (refs.length > MAX_SET_IMAGES) throw invalid("pullImages: refs", refs, `at most ${MAX_SET_IMAGES} image references`);
  const references = refs.map((ref: unknown, index) => atIndex(() => checkReference(ref, `pullImages: refs[${index}]`), index));
  const to = checkDaemonlessOptions(options, "pullImages");
  checkInteger(options.jobs, "pullImages: options.jobs", 1, 64);
  checkBoolean(options.keepGoing, "pullImages: options.keepGoing");
  if (to.kind === "oci" && to.tag !== undefined && references.length > 1) {
    throw new PullbackError(
      "usage",
      `oci:${to.dir}:${to.tag} names one image, and ${references.length} were given; pull several images into oci:${to.dir} (each is named by its reference)`,
    );
  }
  return { references, to };
}

/** A bad reference of a list says which one it is ("refs[3]"), keeping its kind and reason. */
function atIndex<T>(check: () => T, index: number): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof PullbackError) || error.message.includes(`refs[${index}]`)) throw error;
    throw new PullbackError(error.kind, `pullImages: refs[${index}]: ${error.message}`, { cause: error, reason: error.reason });
  }
}

/** The options pullImage and pullImages share. */
function checkDaemonlessOptions(options: Readonly<Record<string, unknown>>, fn: string): PullDestination {
  if (options.to === undefined)
    throw invalid(`${fn}: options.to`, undefined, 'a destination such as "oci:DIR:TAG" or "docker-archive:FILE"');
  const to = checkDestination(options.to, `${fn}: options.to`);
  checkPlatform(options.platform, `${fn}: options.platform`);
  for (const flag of ["allPlatforms", "fallback", "insecure", "replace"]) checkBoolean(options[flag], `${fn}: options.${flag}`);
  checkInteger(options.concurrency, `${fn}: options.concurrency`, 1, 64);
  checkInteger(options.idleTimeoutMs, `${fn}: options.idleTimeoutMs`, 1, MAX_TIMEOUT_MS);
  checkInteger(options.timeoutMs, `${fn}: options.timeoutMs`, 1, MAX_TIMEOUT_MS);
  checkFunction(options.onEvent, `${fn}: options.onEvent`);
  checkFunction(options.onExchange, `${fn}: options.onExchange`);
  checkAbortSignal(options.signal, `${fn}: options.signal`);
  checkPullPolicy(options.pull, `${fn}: options.pull`);
  checkCredentialChoice(options, `${fn}: options`);
  return to;
}

/** ensureImage(docker, ref, options?) */
export function checkEnsureImage(docker: unknown, ref: unknown, value: unknown): ImageReference {
  checkDockerConnection(docker, "ensureImage: docker");
  const reference = checkReference(ref, "ensureImage: ref");
  checkDaemonPullOptions(checkRecord(value, "ensureImage: options", true), "ensureImage: options");
  return reference;
}

/** What a set function was asked for, checked: its references and how to run them. */
export interface CheckedSet {
  readonly references: ImageReference[];
  readonly jobs: number;
  readonly keepGoing: boolean;
}

/** ensureImages(docker, refs, options?) */
export function checkEnsureImages(docker: unknown, refs: unknown, value: unknown): CheckedSet {
  checkDockerConnection(docker, "ensureImages: docker");
  const references = checkReferenceList(refs, "ensureImages: refs");
  const options = checkRecord(value, "ensureImages: options", true);
  checkDaemonPullOptions(options, "ensureImages: options");
  return { references, ...checkSetOptions(options, "ensureImages: options") };
}

/** pullRemoteImages(hosts, refs, options?): hosts as strings or connections, none twice. */
export function checkPullRemoteImages(hosts: unknown, refs: unknown, value: unknown): CheckedSet {
  if (!Array.isArray(hosts) || hosts.length === 0) throw invalid("pullRemoteImages: hosts", hosts, "a non-empty array of Docker hosts");
  const seen = new Map<unknown, number>();
  hosts.forEach((host: unknown, index) => {
    const name = `pullRemoteImages: hosts[${index}]`;
    if (typeof host === "string") checkText(host, name);
    else checkDockerConnection(host, name);
    const key = typeof host === "string" ? host.trim() : host;
    const earlier = seen.get(key);
    if (earlier !== undefined) throw invalid(name, host, `a host not listed before (hosts[${earlier}] is the same)`);
    seen.set(key, index);
  });
  const references = checkReferenceList(refs, "pullRemoteImages: refs");
  const options = checkRecord(value, "pullRemoteImages: options", true);
  checkDaemonPullOptions(options, "pullRemoteImages: options");
  checkConnectOptions(options, "pullRemoteImages: options");
  return { references, ...checkSetOptions(options, "pullRemoteImages: options") };
}

function checkReferenceList(refs: unknown, name: string): ImageReference[] {
  if (!Array.isArray(refs) || refs.length === 0) throw invalid(name, refs, "a non-empty array of image references");
  return refs.map((ref: unknown, index) => checkReference(ref, `${name}[${index}]`));
}

function checkSetOptions(options: Readonly<Record<string, unknown>>, name: string): { jobs: number; keepGoing: boolean } {
  const jobs = checkInteger(options.jobs, `${name}.jobs`, 1, 64) ?? 4;
  const keepGoing = checkBoolean(options.keepGoing, `${name}.keepGoing`) ?? false;
  if (options.tagAs !== undefined) throw invalid(`${name}.tagAs`, options.tagAs, "absent: one name cannot tag every image of a set");
  return { jobs, keepGoing };
}

/** pullRemoteImage(remote, ref, options?) */
export function checkPullRemoteImage(remote: unknown, ref: unknown, value: unknown): ImageReference {
  if (typeof remote === "string") checkText(remote, "pullRemoteImage: remote");
  else checkDockerConnection(remote, "pullRemoteImage: remote");
  const reference = checkReference(ref, "pullRemoteImage: ref");
  const options = checkRecord(value, "pullRemoteImage: options", true);
  checkDaemonPullOptions(options, "pullRemoteImage: options");
  checkConnectOptions(options, "pullRemoteImage: options");
  return reference;
}

function checkDaemonPullOptions(options: Readonly<Record<string, unknown>>, name: string): void {
  checkPlatform(options.platform, `${name}.platform`);
  checkBoolean(options.fallback, `${name}.fallback`);
  checkFunction(options.onEvent, `${name}.onEvent`);
  checkText(options.tagAs, `${name}.tagAs`, { optional: true });
  checkPullPolicy(options.pull, `${name}.pull`);
  checkSignal(options.signal, `${name}.signal`);
  checkCredentialChoice(options, name);
}

/** connectDocker(options?) */
export function checkConnectDocker(value: unknown): void {
  const options = checkRecord(value, "connectDocker: options", true);
  checkText(options.host, "connectDocker: options.host", { optional: true });
  checkConnectOptions(options, "connectDocker: options");
}

function checkConnectOptions(options: Readonly<Record<string, unknown>>, name: string): void {
  for (const path of ["dockerConfigDir", "identityFile", "knownHostsFile"]) checkText(options[path], `${name}.${path}`, { optional: true });
  checkInteger(options.timeoutMs, `${name}.timeoutMs`, 1, MAX_TIMEOUT_MS);
  checkInteger(options.connectTimeoutMs, `${name}.connectTimeoutMs`, 1, MAX_TIMEOUT_MS);
  checkBoolean(options.acceptUnknownHostKey, `${name}.acceptUnknownHostKey`);
  checkFunction(options.onNotice, `${name}.onNotice`);
  checkTextList(options.systemSockets, `${name}.systemSockets`);
  checkEnvironment(options.env, `${name}.env`);
}

/** verifyCredentials(target, credential, options?) */
export function checkVerifyCredentials(target: unknown, credential: unknown, value: unknown): void {
  if (typeof target === "string") checkText(target, "verifyCredentials: target");
  else checkReference(target, "verifyCredentials: target");
  checkCredential(credential, "verifyCredentials: credential", false);
  const options = checkRecord(value, "verifyCredentials: options", true);
  checkBoolean(options.insecure, "verifyCredentials: options.insecure");
  checkInteger(options.timeoutMs, "verifyCredentials: options.timeoutMs", 1, MAX_TIMEOUT_MS);
  checkInteger(options.retries, "verifyCredentials: options.retries", 0, 10);
  checkFunction(options.onExchange, "verifyCredentials: options.onExchange");
}

/** resolveCredentials(registry, options?) */
export function checkResolveCredentials(registry: unknown, options: unknown): void {
  checkText(registry, "resolveCredentials: registry", { max: 255 });
  checkResolveOptions(options, "resolveCredentials: options");
}

/** writeRegistriesConfig(options) */
export function checkWriteRegistriesConfig(value: unknown): void {
  const options = checkRecord(value, "writeRegistriesConfig: options");
  checkClusterRegistries(options.registries, "writeRegistriesConfig: options.registries");
  checkText(options.path, "writeRegistriesConfig: options.path");
  checkBoolean(options.strict, "writeRegistriesConfig: options.strict");
  checkBoolean(options.dryRun, "writeRegistriesConfig: options.dryRun");
  checkFunction(options.verify, "writeRegistriesConfig: options.verify");
  checkFunction(options.beforeRename, "writeRegistriesConfig: options.beforeRename");
}

/** renderPullSecret(options) */
export function checkRenderPullSecret(value: unknown): void {
  const options = checkRecord(value, "renderPullSecret: options");
  checkText(options.name, "renderPullSecret: options.name", { max: 253 });
  checkText(options.namespace, "renderPullSecret: options.namespace", { optional: true, max: 63 });
  checkClusterRegistries(options.registries, "renderPullSecret: options.registries");
  checkBoolean(options.strict, "renderPullSecret: options.strict");
  checkFunction(options.verify, "renderPullSecret: options.verify");
}

function checkClusterRegistries(value: unknown, name: string): void {
  if (!Array.isArray(value)) throw invalid(name, value, 'an array of registries such as [{ host: "ghcr.io", credential }]');
  value.forEach((item, index) => {
    const registry = checkRecord(item, `${name}[${index}]`);
    const at = `${name}[${index}]`;
    checkText(registry.host, `${at}.host`, { max: 255 });
    checkText(registry.endpoint, `${at}.endpoint`, { optional: true });
    checkBoolean(registry.insecure, `${at}.insecure`);
    if (registry.rewrite !== undefined) checkEnvironment(registry.rewrite, `${at}.rewrite`);
    if (registry.tls !== undefined) {
      const tls = checkRecord(registry.tls, `${at}.tls`);
      for (const file of ["caFile", "certFile", "keyFile"]) checkText(tls[file], `${at}.tls.${file}`, { optional: true });
      checkBoolean(tls.insecureSkipVerify, `${at}.tls.insecureSkipVerify`);
    }
    checkCredential(registry.credential, `${at}.credential`, false);
    checkTextList(registry.verifyRepositories, `${at}.verifyRepositories`);
  });
}

/** pullWithFallback(attempt, options) */
export function checkPullWithFallback(attempt: unknown, value: unknown): void {
  if (typeof attempt !== "function") throw invalid("pullWithFallback: attempt", attempt, "a function (credential) => Promise<image>");
  const options = checkRecord(value, "pullWithFallback: options");
  checkText(options.image, "pullWithFallback: options.image");
  checkText(options.registry, "pullWithFallback: options.registry", { max: 255 });
  checkCredential(options.credential, "pullWithFallback: options.credential", false);
  checkBoolean(options.fallback, "pullWithFallback: options.fallback");
  checkFunction(options.onEvent, "pullWithFallback: options.onEvent");
  checkText(options.host, "pullWithFallback: options.host", { optional: true });
}

/** docker's pull policy: "missing", "always" or "never". */
function checkPullPolicy(value: unknown, name: string): void {
  if (value !== undefined && !PULL_POLICIES.some((policy) => policy === value))
    throw invalid(name, value, PULL_POLICIES.map((p) => `"${p}"`).join(", ") + " or absent");
}
