/**
 * The parsed, normalized form of an image reference.
 */

/** Docker Hub as references name it; its API lives on another host. */
export const DOCKER_HUB = "docker.io";
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_ENDPOINT = "registry-1.docker.io";
/** Namespace of Docker Hub's official images, implied by a one-component name. */
export const OFFICIAL_NAMESPACE = "library/";

/**
 * An image reference, fully qualified the way docker normalizes it.
 *
 * @example
 * const ref = parseReference("nginx:1.27");
 * ref.registry; ref.repository; ref.tag; // "docker.io", "library/nginx", "1.27"
 */
export interface ImageReference {
  /** "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000". */
  readonly registry: string;
  /** "library/nginx". */
  readonly repository: string;
  /** Defaulted to "latest" only when neither a tag nor a digest was given. */
  readonly tag: string | undefined;
  /** "sha256:…". */
  readonly digest: string | undefined;
  /** The API host: "registry-1.docker.io" for docker.io, otherwise the registry. */
  readonly endpoint: string;
  /** registry/repository. */
  readonly name: string;
  /** Canonical, fully qualified: docker.io/library/nginx:latest, name:tag@digest. */
  toString(): string;
  /** Docker's short form: nginx:latest, bob/app:1, ghcr.io/x/y:1. */
  familiar(): string;
}

/** Build the immutable reference value; inputs are already validated and normalized. */
export function createImageReference(
  registry: string,
  repository: string,
  tag: string | undefined,
  digest: string | undefined,
): ImageReference {
  return Object.freeze(new NormalizedReference(registry, repository, tag, digest));
}

class NormalizedReference implements ImageReference {
  readonly endpoint: string;
  readonly name: string;

  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly tag: string | undefined,
    readonly digest: string | undefined,
  ) {
    this.endpoint = registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry;
    this.name = `${registry}/${repository}`;
  }

  toString(): string {
    return this.name + this.suffix();
  }

  familiar(): string {
    return familiarName(this.registry, this.repository) + this.suffix();
  }

  private suffix(): string {
    return (this.tag === undefined ? "" : `:${this.tag}`) + (this.digest === undefined ? "" : `@${this.digest}`);
  }
}

/**
 * docker.io is implied, and so is library/ when nothing nests below it.
 * Unlike docker, keep docker.io when the namespace would read as a registry
 * ("docker.io/0.0/a", "docker.io/localhost/a"), so the short form re-parses
 * to the same reference.
 */
function familiarName(registry: string, repository: string): string {
  if (registry !== DOCKER_HUB) return `${registry}/${repository}`;
  if (repository.startsWith(OFFICIAL_NAMESPACE)) {
    const short = repository.slice(OFFICIAL_NAMESPACE.length);
    if (!short.includes("/")) return short;
  }
  const namespace = repository.slice(0, repository.indexOf("/"));
  return namespace === "localhost" || namespace.includes(".") ? `${DOCKER_HUB}/${repository}` : repository;
}
