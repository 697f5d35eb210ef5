/**
 * Media types of the daemonless pull: the manifest types come from the registry
 * client (one Accept list for every request); the layout's own names live here.
 */
export {
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  MANIFEST_ACCEPT,
  isIndexMediaType,
  isImageMediaType,
} from "../../registry/media-types.js";

export const OCI_LAYOUT_VERSION = "1.0.0";
/** The annotation that names an image inside an OCI layout (`oci:DIR:TAG`). */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** The annotation containerd (ctr import, k3s) and docker load read first for an image's full name. */
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";
