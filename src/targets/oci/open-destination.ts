/**
 * Which ImageDestination a parsed `--to` names: the one place that knows every kind.
 */
import { ArchiveDestination } from "./archive-destination.js";
import type { PullDestination } from "../../reference/destination.js";
import type { DestinationOptions, ImageDestination } from "./image-destination.js";
import { LayoutDestination } from "./layout-destination.js";

/**
 * The destination for a parsed `--to`.
 *
 * @example
 * openDestination({ kind: "docker-archive", file: "app.tar" }, { allPlatforms: false, replace: true }).description // → "docker-archive:app.tar"
 */
export function openDestination(to: PullDestination, options: DestinationOptions): ImageDestination {
  return to.kind === "oci" ? new LayoutDestination(to, options) : new ArchiveDestination(to, options);
}
