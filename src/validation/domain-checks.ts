/**
 * Checks for pullback's own input types: image references, destinations,
 * credentials, Docker connections and the options every target shares.
 */
import { Credential } from "../credentials/credential.js";
import { parseDestination, type PullDestination } from "../reference/destination.js";
import { parseReference, type ImageReference } from "../reference/parse-reference.js";
import { parsePlatform } from "../platform.js";
import { checkBoolean, checkEnvironment, checkRecord, checkText, invalid } from "./checks.js";

const REFERENCE = 'an image reference: a string such as "ghcr.io/acme/app:1" or the result of parseReference';

/** A reference string or ImageReference, returned as a real, normalized ImageReference. */
export function checkReference(value: unknown, name: string): ImageReference {
  if (typeof value === "string") return parseReference(checkText(value, name));
  if (typeof value !== "object" || value === null) throw invalid(name, value, REFERENCE);
  const { registry, repository, tag, digest } = value as Partial<Record<string, unknown>>;
  if (typeof registry !== "string" || typeof repository !== "string" || !optionalString(tag) || !optionalString(digest)) {
    throw invalid(name, value, REFERENCE);
  }
  // Rebuilt from its parts, so an object that merely looks like a reference is held to the grammar.
  const text = `${registry}/${repository}${tag === undefined ? "" : `:${tag}`}${digest === undefined ? "" : `@${digest}`}`;
  return parseReference(checkText(text, name));
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === "string";
}

const DESTINATION =
  'a destination: "oci:DIR", "oci:DIR:TAG", "docker-archive:FILE", { kind: "oci", dir, tag? } or { kind: "docker-archive", file }';

/** A destination in either spelling, returned as a PullDestination. */
export function checkDestination(value: unknown, name: string): PullDestination {
  if (typeof value === "string") return parseDestination(checkText(value, name));
  if (typeof value !== "object" || value === null) throw invalid(name, value, DESTINATION);
  const { kind, dir, tag, file } = value as Partial<Record<string, unknown>>;
  if (kind === "docker-archive") return { kind, file: checkText(file, `${name}.file`) };
  if (kind !== "oci") throw invalid(`${name}.kind`, kind, '"oci" or "docker-archive"');
  const directory = checkText(dir, `${name}.dir`);
  if (tag === undefined) return { kind, dir: directory };
  // The tag grammar lives in parseDestination; a directory without a colon lets it judge the tag alone.
  const parsed = parseDestination(`oci:.:${checkText(tag, `${name}.tag`)}`);
  return { kind, dir: directory, ...(parsed.kind === "oci" && parsed.tag !== undefined ? { tag: parsed.tag } : {}) };
}

/** A Credential made by Credential.basic / identityToken (or resolveCredentials), `null` where anonymous is asked for. */
export function checkCredential(value: unknown, name: string, allowNull: boolean): void {
  if (value === undefined || value instanceof Credential || (allowNull && value === null)) return;
  const expected = `a Credential (Credential.basic(…), resolveCredentials(…))${allowNull ? ", null for anonymous" : ""} or absent`;
  throw invalid(name, value, expected, { secret: true });
}

export function checkPlatform(value: unknown, name: string): void {
  if (value !== undefined) parsePlatform(checkText(value, name, { max: 100 }));
}

/** A connection from connectDocker. */
export function checkDockerConnection(value: unknown, name: string): void {
  const connection = value as Partial<Record<string, unknown>> | null | undefined;
  if (
    typeof connection !== "object" ||
    connection === null ||
    typeof connection.endpoint !== "string" ||
    typeof connection.close !== "function" ||
    typeof connection.engine !== "object" ||
    connection.engine === null
  ) {
    throw invalid(name, value, "a connection returned by connectDocker()");
  }
}

/** `credential` and `resolve`, the credential choice every target takes. */
export function checkCredentialChoice(options: Readonly<Record<string, unknown>>, name: string): void {
  checkCredential(options.credential, `${name}.credential`, true);
  checkResolveOptions(options.resolve, `${name}.resolve`);
}

/** The options of resolveCredentials. */
export function checkResolveOptions(value: unknown, name: string): void {
  const options = checkRecord(value, name, true);
  if (options.explicit !== undefined) {
    const explicit = checkRecord(options.explicit, `${name}.explicit`);
    checkText(explicit.username, `${name}.explicit.username`, { optional: true, nonEmpty: false });
    checkText(explicit.secret, `${name}.explicit.secret`, { secret: true });
    checkText(explicit.label, `${name}.explicit.label`, { optional: true });
  }
  checkEnvironment(options.env, `${name}.env`);
  checkText(options.dockerConfigDir, `${name}.dockerConfigDir`, { optional: true });
  checkBoolean(options.anonymous, `${name}.anonymous`);
}
