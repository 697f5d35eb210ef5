/** What a daemonless pull leaves behind, as pullImage and the pull policy report it. */

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
