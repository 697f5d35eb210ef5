/**
 * Does a registry accept these credentials — for one repository, or for logging in?
 *
 * The cluster path writes only credentials that were accepted, so the verdict
 * must never mistake an outage for a refusal: anything that is not a clear answer
 * from the registry or its token service is `unreachable`, never `rejected`.
 */
import type { Credential } from "../credentials/credential.js";
import { PullbackError, isPullbackError, messageOf, type Diagnosis } from "../errors.js";
import { DOCKER_HUB, DOCKER_HUB_ENDPOINT } from "../reference/image-reference.js";
import { parseReference, type ImageReference } from "../reference/parse-reference.js";
import { RegistryClient, MANIFEST_MEDIA_TYPES } from "./registry-client.js";
import { RegistryResponseError } from "./registry-error.js";
import { repositoryScope } from "./scope.js";
import type { TokenCache } from "./token-cache.js";
import type { Exchange } from "./http.js";
import type { ProxyEnv } from "./proxy.js";
import type { TlsOptions } from "./trust.js";
import { checkVerifyCredentials } from "../validation/entry-points.js";

/**
 * What a registry said about a credential; `unreachable` says nothing about it.
 *
 * @example
 * const writeAuth = (await verifyCredentials(ref, credential)).verdict === "accepted";
 */
export type Verdict = "accepted" | "rejected" | "no-access" | "unreachable";

/**
 * The answer of verifyCredentials: the verdict, the registry's words, and whether anonymous pulls work.
 *
 * @example
 * const { verdict, message, anonymousPull } = await verifyCredentials("ghcr.io/acme/app:1", credential);
 */
export interface Verification {
  readonly verdict: Verdict;
  /** The registry host as named in the reference ("docker.io", "127.0.0.1:5000"). */
  readonly registry: string;
  readonly repository: string | undefined;
  /** The registry's own words and our explanation; never a secret. */
  readonly message: string;
  /** Can an anonymous client pull this repository (manifest HEAD)? undefined without a repository or when unreachable. */
  readonly anonymousPull: boolean | undefined;
  /**
   * False when the registry answered that the repository or tag does not exist (404) to a caller it
   * let ask — the verdict stays about the credentials; `pullback check` reports NOT-FOUND, exit 4.
   */
  readonly found?: boolean | undefined;
  readonly authScheme: "bearer" | "basic" | "none";
  /** The token realm, redacted (bearer only). */
  readonly realm: string | undefined;
  /** Credentials went to a token service on another host than the registry. */
  readonly realmOnOtherHost: boolean;
  readonly credentialSource: string | undefined;
  /** For `unreachable` after a transport failure: its reason code ("tls-unknown-ca", "proxy-auth-required", …). */
  readonly reason?: string | undefined;
  /** For `unreachable` after a transport failure: what is wrong and how to fix it. */
  readonly diagnosis?: Diagnosis | undefined;
}

/**
 * How verifyCredentials talks to the registry.
 *
 * @example
 * await verifyCredentials("registry.internal:5000", credential, { insecure: true, timeoutMs: 5_000 });
 */
export interface VerifyOptions {
  /** Allow plain HTTP to a non-loopback registry (credentials still never cross it). */
  readonly insecure?: boolean;
  /** Connect and idle timeout per request. Default 10 s. */
  readonly timeoutMs?: number;
  /** Extra tries on 5xx/resets/timeouts. Default 2. */
  readonly retries?: number;
  /** Sees each HTTP exchange (method, redacted URL, status), for `-v`. */
  readonly onExchange?: ((exchange: Exchange) => void) | undefined;
  /** CAs and client certificates beyond the system store: certs.d, `--cert-dir`, registries.yaml `tls`. */
  readonly tls?: TlsOptions | undefined;
  /** Proxy variables, NODE_EXTRA_CA_CERTS, XDG_CONFIG_HOME. Default `process.env`. */
  readonly env?: ProxyEnv | undefined;
  /** Warnings the user must see (certificate checks switched off). */
  readonly onWarning?: ((message: string) => void) | undefined;
}

type Answer = Pick<Verification, "verdict" | "message"> & { readonly found?: boolean; readonly failure?: PullbackError };

/**
 * Verify credentials against a registry, as its own challenge says to.
 * A reference checks pull access to that repository (token for `repository:NAME:pull`, then a
 * manifest HEAD with it); a bare host (`ghcr.io`, `127.0.0.1:5000`) checks login only, as
 * `docker login` does. Never throws for registry answers or outages: those are verdicts.
 *
 * @example
 * const v = await verifyCredentials("ghcr.io/acme/app:1", credential);
 * if (v.verdict === "accepted") writeAuth(); else warn(v.message);
 */
export async function verifyCredentials(
  target: string | ImageReference,
  credential: Credential | undefined,
  options: VerifyOptions = {},
): Promise<Verification> {
  checkVerifyCredentials(target, credential, options);
  const { registry, endpoint, reference } = resolveTarget(target);
  const client = new RegistryClient(endpoint, clientOptions(credential, options));
  try {
    let answer: Answer;
    let anonymousPull: boolean | undefined;
    try {
      await client.ping();
      answer =
        client.auth.scheme === undefined
          ? unsupportedChallenge()
          : reference
            ? await checkRepository(client, reference, credential !== undefined)
            : await checkLogin(client, credential !== undefined);
      anonymousPull =
        reference && answer.verdict !== "unreachable" ? await anonymousPullOf(answer, reference, endpoint, credential, options) : undefined;
    } catch (error) {
      answer = unreachableAnswer(error);
      anonymousPull = undefined;
    }
    const auth = client.auth;
    return {
      verdict: answer.verdict,
      registry,
      repository: reference?.repository,
      message: answer.message,
      anonymousPull,
      ...(answer.found === false ? { found: false } : {}),
      authScheme: auth.scheme ?? "none",
      realm: auth.realm,
      realmOnOtherHost: auth.realmOnOtherHost,
      credentialSource: credential?.describe(),
      ...(answer.failure?.reason === undefined ? {} : { reason: answer.failure.reason }),
      ...(answer.failure?.diagnosis === undefined ? {} : { diagnosis: answer.failure.diagnosis }),
    };
  } finally {
    await client.close();
  }
}

/**
 * Is this credential wrong outright at the registry of `reference` — refused by its token service
 * (401), or by a Basic registry — rather than merely without access to one repository? Asked by a
 * set after the daemon refused it once, so later images of that registry need not try it again.
 * Tokens go to `tokens`, the run's cache. Only a clear 401 says yes; an outage or a 403 says no.
 *
 * @example
 * if (await credentialRejectedOutright(ref, credential, run.tokens)) pullAnonymously();
 */
export async function credentialRejectedOutright(reference: ImageReference, credential: Credential, tokens: TokenCache): Promise<boolean> {
  const client = new RegistryClient(reference.endpoint, {
    ...clientOptions(credential, { timeoutMs: 10_000, retries: 0 }),
    tokenCache: tokens,
  });
  try {
    await client.ping();
    const scheme = client.auth.scheme;
    if (scheme === "basic") return (await client.checkLogin()) === 401;
    if (scheme !== "bearer") return false;
    try {
      await client.requestToken([repositoryScope(reference.repository)]);
      return false;
    } catch (error) {
      return refusal(error, true, "the token service", scheme).verdict === "rejected";
    }
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

/** A bare `host[:port]` (with a dot, a port, or "localhost") verifies login; anything else is a reference. */
export function isBareRegistryHost(target: string): boolean {
  if (target.includes("/")) return false;
  const host =
    /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(:\d{1,5})?$/.exec(
      target,
    );
  if (!host) return false;
  const [, name = "", port] = host;
  // "nginx" is docker.io/library/nginx, not a host: docker needs a dot, a port or localhost too.
  return port !== undefined || name.includes(".") || name.startsWith("[") || name.toLowerCase() === "localhost";
}

function resolveTarget(target: string | ImageReference): { registry: string; endpoint: string; reference: ImageReference | undefined } {
  if (typeof target === "string" && isBareRegistryHost(target)) {
    const hub = target === DOCKER_HUB || target === "index.docker.io" || target === DOCKER_HUB_ENDPOINT;
    return { registry: hub ? DOCKER_HUB : target, endpoint: hub ? DOCKER_HUB_ENDPOINT : target, reference: undefined };
  }
  const reference = typeof target === "string" ? parseReference(target) : target;
  return { registry: reference.registry, endpoint: reference.endpoint, reference };
}

function clientOptions(credential: Credential | undefined, options: VerifyOptions): ConstructorParameters<typeof RegistryClient>[1] {
  const timeout = options.timeoutMs ?? 10_000;
  return {
    credential,
    insecure: options.insecure === true,
    connectTimeoutMs: timeout,
    idleTimeoutMs: timeout,
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.onExchange === undefined ? {} : { onExchange: options.onExchange }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  };
}

/** Token for `repository:NAME:pull` (bearer), then HEAD the manifest with it. */
async function checkRepository(client: RegistryClient, reference: ImageReference, withCredential: boolean): Promise<Answer> {
  const scheme = client.auth.scheme;
  if (scheme === "bearer") {
    try {
      await client.requestToken([repositoryScope(reference.repository)]);
    } catch (error) {
      return refusal(error, withCredential, "the token service", scheme);
    }
  }
  try {
    await client.headManifest(reference.repository, reference.digest ?? reference.tag ?? "latest", MANIFEST_MEDIA_TYPES);
  } catch (error) {
    if (error instanceof RegistryResponseError && error.status === 404) {
      const message = `${withCredential ? "the credentials are accepted" : "anonymous access is allowed"}, but the repository or tag was not found (${error.registryMessage || "HTTP 404"})`;
      return { verdict: "accepted", message, found: false };
    }
    return refusal(error, withCredential, "the registry", scheme);
  }
  if (scheme === "none") {
    const message = withCredential
      ? "the registry requires no authentication: the credentials are not needed"
      : "the registry requires no authentication";
    return { verdict: "accepted", message };
  }
  const who = withCredential ? "the credentials" : "anonymous access";
  return { verdict: "accepted", message: `${who} can pull ${reference.repository} (token granted, manifest found)` };
}

/** As `docker login`: a scope-less token, or `GET /v2/` with Basic. Proves the credential, not any repository access. */
async function checkLogin(client: RegistryClient, withCredential: boolean): Promise<Answer> {
  const note = "checked as docker login does, without a repository: this tells accepted from rejected, not access to any repository";
  const scheme = client.auth.scheme;
  if (scheme === "none") {
    return {
      verdict: "accepted",
      message: `the registry requires no authentication${withCredential ? ": the credentials are not needed" : ""}`,
    };
  }
  try {
    if (scheme === "bearer") await client.requestToken([]);
    else if ((await client.checkLogin()) === 401) {
      return withCredential
        ? { verdict: "rejected", message: `the registry refused the credentials (HTTP 401) — ${note}` }
        : { verdict: "no-access", message: `the registry requires credentials (HTTP 401) — ${note}` };
    }
  } catch (error) {
    const answer = refusal(error, withCredential, scheme === "bearer" ? "the token service" : "the registry", scheme);
    return { ...answer, message: `${answer.message} — ${note}` };
  }
  return { verdict: "accepted", message: `${withCredential ? "the credentials are accepted" : "anonymous tokens are issued"} — ${note}` };
}

/**
 * What a refusal means. 401 from the token service, or from a Basic registry, with credentials:
 * rejected. 401 from a bearer registry after a token was granted (an empty access list,
 * insufficient_scope), 403 anywhere, or any 401 without credentials: no-access. The rest: unreachable.
 */
function refusal(error: unknown, withCredential: boolean, who: string, scheme: string | undefined): Answer {
  if (!(error instanceof RegistryResponseError) || error.kind === "rate-limited" || error.status >= 500) {
    return unreachableAnswer(error);
  }
  const said = error.registryMessage || error.challengeError || `HTTP ${error.status}`;
  const status = `HTTP ${error.status}${error.codes.length > 0 ? ` ${error.codes.join(",")}` : ""}`;
  const passwordRefused = error.source === "token-service" || scheme !== "bearer";
  if (error.status === 401 && withCredential && passwordRefused) {
    return { verdict: "rejected", message: `${who} refused the credentials (${status}: ${said}): wrong or expired` };
  }
  if (error.status === 401 || error.status === 403) {
    const whom = withCredential ? "the credentials are valid but have" : "anonymous access has";
    return { verdict: "no-access", message: `${whom} no pull access (${who} answered ${status}: ${said})` };
  }
  return { verdict: "unreachable", message: `${who} answered ${status}: ${said}; the credentials could not be checked` };
}

/** A 401 whose challenge is neither Bearer nor Basic: we cannot tell anything about the credentials. */
function unsupportedChallenge(): Answer {
  return {
    verdict: "unreachable",
    message: "the registry asks for an authentication scheme other than Bearer or Basic; the credentials could not be checked",
  };
}

function unreachableAnswer(error: unknown): Answer {
  const message = unreachableMessage(error);
  return isPullbackError(error) && error.diagnosis !== undefined
    ? { verdict: "unreachable", message, failure: error }
    : { verdict: "unreachable", message };
}

function unreachableMessage(error: unknown): string {
  if (!isPullbackError(error)) throw error instanceof Error ? error : new PullbackError("other", messageOf(error));
  return `could not verify: ${error.message} (this says nothing about the credentials)`;
}

/** Whether an anonymous client can pull: reuse the answer when it was anonymous, else HEAD the manifest without credentials. */
async function anonymousPullOf(
  answer: Answer,
  reference: ImageReference,
  endpoint: string,
  credential: Credential | undefined,
  options: VerifyOptions,
): Promise<boolean | undefined> {
  if (credential === undefined) return answer.verdict === "accepted" && answer.found !== false;
  const anonymous = new RegistryClient(endpoint, clientOptions(undefined, options));
  try {
    await anonymous.headManifest(reference.repository, reference.digest ?? reference.tag ?? "latest", MANIFEST_MEDIA_TYPES);
    return true;
  } catch (error) {
    if (error instanceof RegistryResponseError && [401, 403, 404].includes(error.status)) return false;
    return undefined;
  } finally {
    await anonymous.close();
  }
}
