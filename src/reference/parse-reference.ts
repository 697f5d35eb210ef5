/**
 * Image reference parsing, normalized exactly as docker's ParseNormalizedNamed
 * (github.com/distribution/reference) does it, with errors that say what is wrong.
 */
import { PullbackError } from "../errors.js";
import { scanDigest, scanDomain, scanPath, scanTag } from "./grammar.js";
import { checkText } from "../validation/checks.js";
import { createImageReference, DOCKER_HUB, OFFICIAL_NAMESPACE } from "./image-reference.js";
import type { ImageReference } from "./image-reference.js";

export type { ImageReference } from "./image-reference.js";

/** docker's limit on registry/repository. */
export const MAX_NAME_LENGTH = 255;
const LEGACY_DOCKER_HUB = "index.docker.io";
const DEFAULT_TAG = "latest";
/** How much of a (possibly huge) input an error message repeats. */
const ECHO_LIMIT = 100;
/** "http://", "https://", "docker://", "oci://" … at the start of the input. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Parse and normalize an image reference the way `docker pull` reads it.
 *
 * Throws `PullbackError("reference", …)` naming the input, the 1-based
 * position and the broken rule when the input is not a valid reference.
 *
 * @example
 * parseReference("nginx").toString();           // "docker.io/library/nginx:latest"
 * parseReference("ghcr.io/o/app:1").familiar(); // "ghcr.io/o/app:1"
 * parseReference("localhost:5000/a").endpoint;  // "localhost:5000"
 */
export function parseReference(input: string): ImageReference {
  checkText(input, "parseReference: input", { nonEmpty: false });
  const fail = (what: string): PullbackError => {
    const note = what.includes("position") ? " (positions count from 1)" : "";
    return new PullbackError("reference", `invalid image reference ${echo(input)}: ${what}${note}`);
  };
  if (input === "") throw fail("empty reference");
  const scheme = SCHEME.exec(input)?.[0];
  // docker reads "http://host/x" as a malformed name; say what the user meant instead.
  if (scheme !== undefined) throw fail(`references have no scheme; drop ${scheme}`);
  if (isImageId(input)) throw fail("a 64-character hex string is an image ID, not a reference");

  // The digest and the tag contain neither '@' nor '/', so they split off from the right.
  const at = input.indexOf("@");
  const namePart = at < 0 ? input : input.slice(0, at);
  const slash = namePart.lastIndexOf("/");
  const colon = namePart.indexOf(":", slash + 1);
  const name = colon < 0 ? namePart : namePart.slice(0, colon);
  if (name === "") throw fail(`empty repository name before '${at === 0 ? "@" : ":"}'`);

  const split = splitRegistry(name);
  const problem =
    (split.registryGiven ? scanDomain(split.registry, 0) : undefined) ??
    scanPath(split.path, split.pathOffset) ??
    (colon < 0 ? undefined : scanTag(namePart.slice(colon + 1), colon + 1)) ??
    (at < 0 ? undefined : scanDigest(input.slice(at + 1), at + 1));
  if (problem !== undefined) throw fail(problem);

  const registry = split.registry === LEGACY_DOCKER_HUB ? DOCKER_HUB : split.registry;
  const repository = registry === DOCKER_HUB && !split.path.includes("/") ? OFFICIAL_NAMESPACE + split.path : split.path;
  const fullName = `${registry}/${repository}`;
  if (fullName.length > MAX_NAME_LENGTH) {
    throw fail(`name longer than ${MAX_NAME_LENGTH} characters (${fullName.length} once normalized)`);
  }
  const tag = colon < 0 ? undefined : namePart.slice(colon + 1);
  const digest = at < 0 ? undefined : input.slice(at + 1);
  return createImageReference(registry, repository, tag ?? (digest === undefined ? DEFAULT_TAG : undefined), digest);
}

/**
 * True when `input` is a valid reference naming neither a registry nor a
 * namespace, like a locally built `cluster:dev` — the kind of name docker
 * would look for on Docker Hub under library/ although it was never pushed.
 *
 * @example
 * isLocalImageRef("cluster:dev");      // true
 * isLocalImageRef("team/cluster:dev"); // false
 * isLocalImageRef("Bad:ref");          // false (invalid)
 */
export function isLocalImageRef(input: string): boolean {
  checkText(input, "isLocalImageRef: input", { nonEmpty: false });
  try {
    parseReference(input);
  } catch {
    return false;
  }
  // In a valid reference only the name may contain '/'.
  return !input.includes("/");
}

interface RegistrySplit {
  readonly registry: string;
  readonly registryGiven: boolean;
  readonly path: string;
  /** 0-based index of the path in the input. */
  readonly pathOffset: number;
}

/**
 * docker's rule: the first component is a registry if it contains '.' or ':',
 * is "localhost", or contains an upper-case letter (hosts may, paths may not).
 */
function splitRegistry(name: string): RegistrySplit {
  const slash = name.indexOf("/");
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first === "localhost" || /[.:]/.test(first) || first !== first.toLowerCase()) {
      return { registry: first, registryGiven: true, path: name.slice(slash + 1), pathOffset: slash + 1 };
    }
  }
  return { registry: DOCKER_HUB, registryGiven: false, path: name, pathOffset: 0 };
}

/**
 * What is wrong with a bare registry host (`host[:port]`, as `check` and `cluster-config`
 * take it), by the same rules as the registry part of a reference; undefined when valid.
 *
 * @example
 * registryHostProblem("127.0.0.1:5000");  // undefined
 * registryHostProblem("127.0.0.1:99999"); // "port 99999 at position 11 in registry is out of range (valid ports are 1–65535)"
 */
export function registryHostProblem(host: string): string | undefined {
  const scheme = SCHEME.exec(host)?.[0];
  if (scheme !== undefined) return `registry hosts have no scheme; drop ${scheme}`;
  if (host === "") return "empty registry host";
  return scanDomain(host, 0);
}

function isImageId(input: string): boolean {
  return input.length === 64 && /^[a-f0-9]+$/.test(input);
}

function echo(input: string): string {
  const shown = input.length > ECHO_LIMIT ? `${input.slice(0, ECHO_LIMIT)}…` : input;
  return `${JSON.stringify(shown)}${input.length > ECHO_LIMIT ? ` (${input.length} characters)` : ""}`;
}
