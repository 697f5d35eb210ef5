/**
 * The Docker CLI's config.json, the parts that say where credentials are:
 * `credHelpers`, `credsStore` and `auths`, plus docker's rules for matching a
 * registry to an entry (Docker Hub's aliases, keys written as URLs).
 */
import { readFile } from "node:fs/promises";
import { PullbackError } from "../errors.js";
import { Credential, tildePath, type CredentialSource } from "./credential.js";
import { jsonErrorPosition } from "./json-error-position.js";

/** One `auths` entry as docker writes it. */
export interface DockerAuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

export interface DockerConfig {
  readonly file: string;
  readonly credHelpers: Readonly<Record<string, string>>;
  readonly credsStore: string | undefined;
  readonly auths: Readonly<Record<string, DockerAuthEntry>>;
}

/** The key docker itself uses for Docker Hub, and the server URL its helpers are asked for. */
export const DOCKER_HUB_SERVER_URL = "https://index.docker.io/v1/";
/** Docker Hub's names, in the order their keys are preferred. */
const DOCKER_HUB_KEYS = [DOCKER_HUB_SERVER_URL, "index.docker.io", "docker.io", "registry-1.docker.io"];
const DOCKER_HUB_HOSTS = ["index.docker.io", "docker.io", "registry-1.docker.io"];

/**
 * Read and check a Docker config file. A missing file is no config (undefined);
 * a malformed one is a `config` error naming the file and the position, never its contents.
 *
 * @example
 * const config = await readDockerConfig(`${process.env.HOME}/.docker/config.json`);
 */
export async function readDockerConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new PullbackError("config", `Cannot read the Docker config ${tildePath(file)} (${code})`, { cause: error });
  }
  return checkConfig(parseJson(text.replace(/^\uFEFF/, ""), file), file);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a password: report the position only.
    const position = jsonErrorPosition(text);
    const where = position === undefined ? "" : ` at line ${position.line}, column ${position.column}`;
    throw configError(file, `is not valid JSON${where}`);
  }
}

function checkConfig(value: unknown, file: string): DockerConfig {
  if (!isObject(value)) throw configError(file, "is not a JSON object");
  const credHelpers = stringRecord(value.credHelpers, file, "credHelpers");
  const credsStore = value.credsStore;
  if (credsStore !== undefined && typeof credsStore !== "string") throw configError(file, "has a credsStore that is not a string");
  const auths: Record<string, DockerAuthEntry> = {};
  if (value.auths !== undefined && !isObject(value.auths)) throw configError(file, "has an auths that is not an object");
  for (const [key, entry] of Object.entries(value.auths ?? {})) auths[key] = checkAuthEntry(entry, file, key);
  return { file, credHelpers, credsStore: credsStore === "" ? undefined : credsStore, auths };
}

function checkAuthEntry(entry: unknown, file: string, key: string): DockerAuthEntry {
  const field = `auths[${JSON.stringify(key)}]`;
  if (!isObject(entry)) throw configError(file, `has an ${field} that is not an object`);
  for (const name of ["auth", "username", "password", "identitytoken"]) {
    if (entry[name] !== undefined && typeof entry[name] !== "string")
      throw configError(file, `has an ${field}.${name} that is not a string`);
  }
  return entry;
}

function stringRecord(value: unknown, file: string, field: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw configError(file, `has a ${field} that is not an object of strings`);
  }
  return value as Record<string, string>;
}

/**
 * The key of `entries` that holds `registry`, matched by host and port the way docker does:
 * `https://ghcr.io`, `http://ghcr.io`, `ghcr.io/v1/` and `ghcr.io` all match `ghcr.io`.
 *
 * @example
 * findRegistryKey({ "https://index.docker.io/v1/": {} }, "docker.io"); // "https://index.docker.io/v1/"
 */
export function findRegistryKey(entries: Readonly<Record<string, unknown>>, registry: string): string | undefined {
  const hub = isDockerHub(registry);
  // The exact spelling docker writes first, then any other spelling of the same host.
  for (const key of hub ? DOCKER_HUB_KEYS : [registry]) if (Object.hasOwn(entries, key)) return key;
  const keys = Object.keys(entries);
  for (const host of hub ? DOCKER_HUB_HOSTS : [hostOf(registry)]) {
    const key = keys.find((k) => hostOf(k) === host);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** What a credential helper is asked for: Docker Hub's legacy URL, or the registry host itself. */
export function helperServerUrl(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_SERVER_URL : registry;
}

export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_HOSTS.includes(hostOf(registry));
}

/** `https://Host:5000/v1/` → `host:5000` (docker's ConvertToHostname, plus case folding). */
function hostOf(key: string): string {
  const withoutScheme = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  return withoutScheme.split("/")[0]!.toLowerCase();
}

/**
 * The credential an `auths` entry holds, or undefined for an empty entry
 * (docker leaves `{}` behind when a credsStore keeps the secret).
 *
 * @example
 * credentialFromAuthEntry({ auth: "dXNlcjpwYXNz" }, { type: "config", file, key: "ghcr.io" }); // user / pass
 */
export function credentialFromAuthEntry(entry: DockerAuthEntry, source: CredentialSource & { type: "config" }): Credential | undefined {
  let username = entry.username ?? "";
  let password = entry.password ?? "";
  if (entry.auth) [username, password] = decodeAuth(entry.auth, source);
  if (entry.identitytoken) return Credential.identityToken(entry.identitytoken, source, username || undefined);
  if (!username && !password) return undefined;
  return Credential.basic(username, password, source);
}

function decodeAuth(auth: string, source: CredentialSource & { type: "config" }): [string, string] {
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(auth.trim()) ? Buffer.from(auth.trim(), "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon < 0) {
    throw configError(source.file, `has an auths[${JSON.stringify(source.key)}].auth that is not base64 of "username:password"`);
  }
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

function configError(file: string, problem: string): PullbackError {
  return new PullbackError("config", `The Docker config ${tildePath(file)} ${problem}`, {
    diagnosis: {
      summary: "The Docker config file is malformed.",
      explanation: "pullback reads registry credentials from the Docker CLI config and cannot make sense of this one.",
      steps: [
        { text: `Fix or remove ${tildePath(file)} (docker login rewrites it),` },
        { text: "or point DOCKER_CONFIG at another directory, or pass --no-credentials to pull anonymously." },
      ],
      retryable: false,
    },
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
