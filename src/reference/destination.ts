/**
 * Where a daemonless pull writes: an OCI image layout directory or a
 * docker-archive tarball, named the way skopeo names them.
 */
import { PullbackError } from "../errors.js";
import { checkText } from "../validation/checks.js";

/**
 * Where pullImage writes: an OCI layout directory (with an optional tag) or a docker-archive file.
 *
 * @example
 * const to: PullDestination = { kind: "oci", dir: "./images", tag: "app-1" };
 */
export type PullDestination =
  { readonly kind: "oci"; readonly dir: string; readonly tag?: string } | { readonly kind: "docker-archive"; readonly file: string };

const USAGE = 'expected "oci:DIR", "oci:DIR:TAG" or "docker-archive:FILE"';

/**
 * Parse a destination as skopeo writes it. In `oci:DIR:TAG` the first colon
 * after the directory separates the tag, so the directory cannot contain one.
 *
 * @example
 * parseDestination("oci:./layout:app-1")       // → { kind: "oci", dir: "./layout", tag: "app-1" }
 * parseDestination("docker-archive:/tmp/a.tar") // → { kind: "docker-archive", file: "/tmp/a.tar" }
 */
export function parseDestination(spec: string): PullDestination {
  checkText(spec, "parseDestination: spec", { nonEmpty: false });
  const colon = spec.indexOf(":");
  const transport = colon === -1 ? "" : spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  if (transport === "oci") return ociDestination(spec, rest);
  if (transport === "docker-archive") {
    if (rest === "" || hasControl(rest)) throw usage(spec, "the file name is empty or contains a control character");
    return { kind: "docker-archive", file: rest };
  }
  throw usage(spec, `unknown transport ${JSON.stringify(transport)}`);
}

/**
 * The destination as text, the inverse of parseDestination.
 *
 * @example
 * formatDestination({ kind: "oci", dir: "out", tag: "1" }) // → "oci:out:1"
 */
export function formatDestination(destination: PullDestination): string {
  if (destination.kind === "docker-archive") return `docker-archive:${destination.file}`;
  return `oci:${destination.dir}${destination.tag === undefined ? "" : `:${destination.tag}`}`;
}

function ociDestination(spec: string, rest: string): PullDestination {
  const colon = rest.indexOf(":");
  const dir = colon === -1 ? rest : rest.slice(0, colon);
  const tag = colon === -1 ? undefined : rest.slice(colon + 1);
  if (dir === "" || hasControl(dir)) throw usage(spec, "the directory is empty or contains a control character");
  if (tag !== undefined && !/^[A-Za-z0-9_.+@/-][A-Za-z0-9_.+@/:-]*$/.test(tag)) {
    throw usage(spec, `the tag ${JSON.stringify(tag)} may contain only letters, digits and _ . + - @ / :`);
  }
  return tag === undefined ? { kind: "oci", dir } : { kind: "oci", dir, tag };
}

/** Unicode's Cc: C0 controls, DEL and C1 controls. Not /\p{Cc}/u: building that class took ~5 ms of every pull's start-up. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function usage(spec: string, detail: string): PullbackError {
  return new PullbackError("usage", `Invalid destination ${JSON.stringify(spec)}: ${detail}; ${USAGE}`);
}
