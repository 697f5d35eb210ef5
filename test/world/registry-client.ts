/** A minimal token-auth client for the world's own tests: just enough to check the token service through a registry. */
import type { RegistryEndpoint, UserCredentials } from "./types.js";

const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** The parameters of a `WWW-Authenticate` challenge. */
export function challengeParams(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of (header ?? "").matchAll(/(\w+)="([^"]*)"/g)) params[match[1]!] = match[2]!;
  return params;
}

const basic = (user: UserCredentials): string => `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly wwwAuthenticate: string | null;
}

/**
 * Asks the registry for its challenge, then its realm for a token (GET, Basic auth when `user` is given).
 *
 * @example
 * const answer = await fetchToken(world.registries.token, ["repository:public/app:pull"], null);
 */
export async function fetchToken(
  registry: RegistryEndpoint,
  scopes: readonly string[],
  user: UserCredentials | null,
): Promise<TokenAnswer> {
  const challenge = challengeParams((await fetch(`${registry.url}/v2/`)).headers.get("www-authenticate"));
  const url = new URL(challenge.realm!);
  url.searchParams.set("service", challenge.service!);
  for (const scope of scopes) url.searchParams.append("scope", scope);
  const res = await fetch(url, { headers: user === null ? {} : { authorization: basic(user) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, wwwAuthenticate: res.headers.get("www-authenticate") };
}

export interface ManifestAnswer {
  readonly status: number;
  readonly digest: string | null;
  readonly wwwAuthenticate: string | null;
  readonly body: string;
}

/**
 * GETs a manifest with a bearer token, Basic credentials, or nothing.
 *
 * @example
 * const m = await getManifest(world.registries.open, "public/app", "1", {});
 */
export async function getManifest(
  registry: RegistryEndpoint,
  repository: string,
  reference: string,
  auth: { bearer?: string; user?: UserCredentials },
): Promise<ManifestAnswer> {
  const headers: Record<string, string> = { accept: MANIFEST_TYPES };
  if (auth.bearer !== undefined) headers.authorization = `Bearer ${auth.bearer}`;
  if (auth.user !== undefined) headers.authorization = basic(auth.user);
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { headers });
  return {
    status: res.status,
    digest: res.headers.get("docker-content-digest"),
    wwwAuthenticate: res.headers.get("www-authenticate"),
    body: await res.text(),
  };
}
