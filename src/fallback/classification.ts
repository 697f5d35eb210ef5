/**
 * Error classification — the one place that reads what a pull failure means.
 *
 * The daemon, the registry client and the stream parser all report failures
 * differently (dockerd wraps a registry's 401 in an HTTP 500, a rate limit may
 * arrive mid-stream), so every pull path hands its error here. The answer is
 * the failure's `ErrorKind` — the same vocabulary as everywhere else — and a
 * decision derived from it: may the pull be retried anonymously, and why.
 */
import { PullbackError, type ErrorKind } from "../errors.js";
import { RegistryResponseError } from "../registry/registry-error.js";
import { redactText, shorten } from "../text/user-text.js";

/**
 * @deprecated Since 0.2 a failure carries an `ErrorKind`; this alias remains for code written against 0.1.
 *
 * @example
 * const kind: FailureKind = classifyPullError(error).kind;
 */
export type FailureKind = ErrorKind;

/**
 * Whether the pull may be retried anonymously, and why (not): derived from the kind.
 *
 * @example
 * const { allowed, why } = classifyPullError(error).anonymousRetry;
 */
export interface AnonymousRetryDecision {
  /** True only when the registry refused the credentials: never on not-found, rate limits, outages or local failures. */
  readonly allowed: boolean;
  /** One sentence: "the registry refused the credentials", "a rate limit says nothing about the credentials", … */
  readonly why: string;
}

/**
 * What a pull failure means: its kind, the registry's own short words, and the fallback decision.
 *
 * @example
 * const { kind, reason, anonymousRetry } = classifyPullError(error); // "auth", "denied", { allowed: true, … }
 */
export interface Classification {
  readonly kind: ErrorKind;
  /** The registry's own reason, short and secret-free ("denied", "incorrect username or password"). */
  readonly reason: string;
  /**
   * A refusal that could equally mean the repository does not exist: Docker Hub's "pull access
   * denied …, repository does not exist or may require 'docker login'", a token service's 403 for a
   * valid account, a registry's 401 after a token was granted. The registry cannot tell the two apart.
   */
  readonly ambiguousNotFound: boolean;
  /** Derived from `kind`: only a refusal of the credentials allows the anonymous retry. */
  readonly anonymousRetry: AnonymousRetryDecision;
}

/** The parts of any error value that carry meaning. */
interface Facts {
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly message: string;
}

/** A verdict and the clause of the message it rests on (where the registry's words start). */
interface Verdict {
  readonly kind: ErrorKind;
  readonly at: number | undefined;
  readonly ambiguousNotFound?: boolean;
}

const MAX_CAUSE_DEPTH = 5;

const NETWORK_CODE =
  /^(E(CONNREFUSED|CONNRESET|CONNABORTED|TIMEDOUT|NOTFOUND|AI_AGAIN|AI_FAIL|HOSTUNREACH|HOSTDOWN|NETUNREACH|NETDOWN|PIPE|PROTO|ADDRNOTAVAIL)|UND_ERR_(?!INVALID_ARG|INVALID_RETURN_VALUE|NOT_SUPPORTED|ABORTED)\w+|ERR_TLS_\w+|ERR_SSL_\w+|ERR_SOCKET_\w+|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_STREAM_PREMATURE_CLOSE)$/;
const NETWORK_PHRASE =
  /dial tcp|connection refused|connection reset|i\/o timeout|tls handshake timeout|no such host|network is unreachable|host is unreachable|no route to host|context deadline exceeded|client\.timeout exceeded|timeout awaiting response headers|server gave http response to https client|temporary failure in name resolution|server misbehaving|broken pipe|unexpected eof|proxyconnect tcp|^(x509|tls|remote error)$|certificate signed by unknown authority/i;
const RATE_PHRASE = /^toomanyrequests\b|rate limit|too many requests/i;
/** The registry served bytes that are not what its manifest promised: its fault, not the credentials'. */
const INTEGRITY_PHRASE =
  /^filesystem layer verification failed\b|^failed to verify\b|digest mismatch|does not match (?:the )?expected digest|^unexpected commit digest/i;
/** The daemon's own disk refused a write: not the registry's fault, not the credentials'. */
const IO_PHRASE = /no space left on device|read-only file system|disk quota exceeded/i;
const PLATFORM_PHRASE =
  /no matching manifest for|does not match the specified platform|does not match the detected host platform|architecture mismatch|image operating system .* cannot be used on this platform/i;
const AMBIGUOUS_NOT_FOUND = /^pull access denied(?: for [^,]*)?, repository does not exist or may require/i;
/** Registry error codes and phrases that are auth failures when they open a clause. */
const AUTH_WORDS = new Set(["unauthorized", "denied", "forbidden", "insufficient_scope", "permission_denied", "access denied"]);
const AUTH_PHRASE =
  /^(authentication required|no basic auth credentials|incorrect username or password|invalid username(?: or |\/)password|your authorization token has expired|access to the requested resource is not authorized|requested access to the resource is denied|authentication failed)\b/i;
const NOT_FOUND_WORDS = new Set([
  "manifest unknown",
  "name unknown",
  "blob unknown",
  "manifest_unknown",
  "name_unknown",
  "blob_unknown",
  "not found",
  "no such image",
  "repository name not known to registry",
]);
const NOT_FOUND_PHRASE = /^(manifest|name|blob) unknown\b|^(manifest|repository|image|reference|tag)\b.* not found$/i;
/**
 * An HTTP status embedded in a clause: "403 Forbidden", "error parsing HTTP 403 response body",
 * podman 4.3's (containers/image) "invalid status code from registry 403 (Forbidden)".
 */
const EMBEDDED_STATUS =
  /^([45]\d\d)(?: [a-z][a-z' -]*)?$|^error parsing HTTP ([45]\d\d) response body$|^(?:unexpected )?status(?: code)? ([45]\d\d)\b|^invalid status code from registry ([45]\d\d)(?: \([a-z' -]*\))?$/i;
const OCI_CODES: Readonly<Record<string, ErrorKind>> = {
  UNAUTHORIZED: "auth",
  DENIED: "auth",
  NAME_UNKNOWN: "not-found",
  MANIFEST_UNKNOWN: "not-found",
  BLOB_UNKNOWN: "not-found",
  TOOMANYREQUESTS: "rate-limited",
  // The registry broke the protocol or refused the request's form.
  BLOB_UPLOAD_INVALID: "registry",
  BLOB_UPLOAD_UNKNOWN: "registry",
  DIGEST_INVALID: "registry",
  MANIFEST_BLOB_UNKNOWN: "registry",
  MANIFEST_INVALID: "registry",
  NAME_INVALID: "registry",
  SIZE_INVALID: "registry",
  TAG_INVALID: "registry",
  UNSUPPORTED: "registry",
  UNKNOWN: "registry",
};
/** Phrases of a refusal that does not say the credentials are wrong: "denied" is a valid account without access. */
const NO_ACCESS_PHRASE = /^(denied|requested access to the resource is denied|insufficient_scope|forbidden|permission_denied)\b/i;
/** Phrases that do say the credentials themselves are wrong: no ambiguity left. */
const WRONG_CREDENTIALS_PHRASE =
  /token has expired|incorrect username or password|invalid username(?: or |\/)password|authentication failed/i;

const RETRY_WHY: Readonly<Partial<Record<ErrorKind, string>>> = {
  auth: "the registry refused the credentials, so an anonymous pull may still work",
  "not-found": "a missing image is missing for everybody",
  "rate-limited": "anonymous pulls have lower rate limits",
  network: "the registry was never reached, so the credentials were never judged",
  registry: "a registry error says nothing about the credentials",
  integrity: "the registry served wrong bytes; other credentials get the same bytes",
  limit: "the registry served something too large; other credentials get the same",
  platform: "the image has no variant for this platform, whoever pulls it",
  io: "the local filesystem failed, not the registry",
  usage: "the request itself is malformed",
};

/**
 * The fallback decision a kind implies.
 *
 * @example
 * anonymousRetryFor("not-found") // → { allowed: false, why: "a missing image is missing for everybody" }
 */
export function anonymousRetryFor(kind: ErrorKind): AnonymousRetryDecision {
  return { allowed: kind === "auth", why: RETRY_WHY[kind] ?? `a failure of kind ${kind} says nothing about the credentials` };
}

/**
 * Classify any pull failure: a PullbackError, a dockerode error, an in-stream
 * `{error, errorDetail}` line, a registry client's `{status, code, message}`, a
 * Node network error or a string. The message decides before the status does,
 * because dockerd reports a registry's auth failure as HTTP 500.
 *
 * @example
 * classifyPullError({ statusCode: 500, json: { message: "unauthorized: authentication required" } });
 * // { kind: "auth", reason: "unauthorized: authentication required", ambiguousNotFound: false,
 * //   anonymousRetry: { allowed: true, why: "the registry refused the credentials, so an anonymous pull may still work" } }
 * classifyPullError({ error: "toomanyrequests: …", errorDetail: { message: "toomanyrequests: …" } }).kind; // "rate-limited"
 */
export function classifyPullError(error: unknown): Classification {
  return classifyAt(error, 0);
}

function classifyAt(error: unknown, depth: number): Classification {
  // A daemon's answer (status + words) is read like any other; our own errors keep their kind.
  if (error instanceof PullbackError && !isDaemonAnswer(error)) {
    const clauses = splitClauses(stripWrappers(error.message));
    return classified(
      error.kind,
      registryWords(error) ?? reasonFrom(clauses, undefined, error.message),
      isAmbiguousRefusal(error, clauses),
    );
  }
  const facts = factsOf(error);
  const clauses = splitClauses(facts.message);
  const verdict = judge(facts, clauses);
  const reason = reasonFrom(clauses, verdict.at, facts.code ?? (facts.status === undefined ? "unknown error" : `HTTP ${facts.status}`));
  const ambiguous = verdict.ambiguousNotFound === true || (verdict.kind === "auth" && saysNoAccess(clauses.slice(verdict.at ?? 0)));
  // "fetch failed" and other wrappers say nothing; their cause may.
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : undefined;
  if (verdict.kind === "other" && cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    const inner = classifyAt(cause, depth + 1);
    if (inner.kind !== "other") return inner;
  }
  return classified(verdict.kind, reason, ambiguous);
}

/** "denied", "forbidden", …: a refusal of access, not of the credentials themselves. */
function saysNoAccess(clauses: readonly string[]): boolean {
  return clauses.some((c) => NO_ACCESS_PHRASE.test(c)) && !clauses.some((c) => WRONG_CREDENTIALS_PHRASE.test(c));
}

/** dockerode's shape, kept by DaemonResponseError: `statusCode` and `json.message`. */
function isDaemonAnswer(error: PullbackError): boolean {
  const json = (error as { json?: unknown }).json;
  return typeof json === "object" && json !== null && "message" in json;
}

function classified(kind: ErrorKind, reason: string, ambiguousNotFound: boolean): Classification {
  return { kind, reason, ambiguousNotFound: kind === "auth" && ambiguousNotFound, anonymousRetry: anonymousRetryFor(kind) };
}

/**
 * A refusal that may mean "missing": the ambiguous phrase, a token service's 403 (a valid
 * account without access), or a registry's 401/403 after a token was granted.
 */
function isAmbiguousRefusal(error: PullbackError, clauses: readonly string[]): boolean {
  if (error.kind !== "auth") return false;
  if (error.reason === "not-found-or-denied" || clauses.some((c) => AMBIGUOUS_NOT_FOUND.test(c))) return true;
  if (!(error instanceof RegistryResponseError)) return saysNoAccess(clauses);
  if (error.source === "token-service") return error.status === 403;
  return error.status === 403 || error.codes.includes("DENIED") || error.challengeError === "insufficient_scope";
}

/** A registry's answer speaks for itself: "denied: requested access to the resource is denied", as dockerd words it. */
function registryWords(error: PullbackError): string | undefined {
  if (!(error instanceof RegistryResponseError) || !error.registryMessage) return undefined;
  const code = error.codes[0]?.toLowerCase();
  return code && !error.registryMessage.toLowerCase().startsWith(code) ? `${code}: ${error.registryMessage}` : error.registryMessage;
}

/** The rules, in order: each earlier rule outranks the later ones. */
function judge(facts: Facts, clauses: readonly string[]): Verdict {
  const code = facts.code?.toUpperCase();
  const find = (test: (clause: string) => boolean): number | undefined => {
    const index = clauses.findIndex(test);
    return index < 0 ? undefined : index;
  };
  const embedded = embeddedStatus(clauses);

  // A rate limit is never auth, whatever else the message says.
  const rate = find((c) => RATE_PHRASE.test(c));
  if (rate !== undefined || facts.status === 429 || code === "TOOMANYREQUESTS" || embedded?.status === 429) {
    return { kind: "rate-limited", at: rate ?? embedded?.at };
  }
  // Neither is a network failure: the credentials were never judged.
  if (code !== undefined && NETWORK_CODE.test(code)) return { kind: "network", at: 0 };
  const network = find((c) => NETWORK_PHRASE.test(c));
  if (network !== undefined) return { kind: "network", at: network };

  const platform = find((c) => PLATFORM_PHRASE.test(c));
  if (platform !== undefined) return { kind: "platform", at: platform };
  const ambiguous = find((c) => AMBIGUOUS_NOT_FOUND.test(c));
  if (ambiguous !== undefined) {
    return { kind: "auth", at: ambiguous + 1 < clauses.length ? ambiguous + 1 : ambiguous, ambiguousNotFound: true };
  }
  // Anchored: the word must BE the clause (or open it), so "not found: unauthorized-app" is no auth failure.
  const auth = find((c) => AUTH_WORDS.has(c.toLowerCase()) || AUTH_PHRASE.test(c));
  if (auth !== undefined) return { kind: "auth", at: auth };
  const notFound = find((c) => NOT_FOUND_WORDS.has(c.toLowerCase()) || NOT_FOUND_PHRASE.test(c));
  if (notFound !== undefined) return { kind: "not-found", at: notFound };

  const integrity = find((c) => INTEGRITY_PHRASE.test(c));
  if (integrity !== undefined) return { kind: "integrity", at: integrity };
  const io = find((c) => IO_PHRASE.test(c));
  if (io !== undefined) return { kind: "io", at: io };

  const fromCode = code === undefined ? undefined : OCI_CODES[code];
  if (fromCode !== undefined) return { kind: fromCode, at: undefined };
  // The registry's own status (inside the message) outranks the daemon's wrapper status.
  const status = embedded?.status ?? facts.status;
  const fromStatus = status === undefined ? undefined : kindOfStatus(status);
  if (fromStatus !== undefined) return { kind: fromStatus, at: embedded?.at };
  return { kind: "other", at: undefined };
}

function kindOfStatus(status: number): ErrorKind | undefined {
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not-found";
  if (status === 429) return "rate-limited";
  return status >= 500 && status < 600 ? "registry" : undefined;
}

function embeddedStatus(clauses: readonly string[]): { status: number; at: number } | undefined {
  for (const [at, clause] of clauses.entries()) {
    const match = EMBEDDED_STATUS.exec(clause);
    const digits = match?.[1] ?? match?.[2] ?? match?.[3] ?? match?.[4];
    if (digits !== undefined) return { status: Number(digits), at };
  }
  return undefined;
}

/** Pull status, code and message out of whatever shape the error has. */
function factsOf(error: unknown): Facts {
  if (typeof error === "string") return { status: undefined, code: undefined, message: stripWrappers(error) };
  if (typeof error !== "object" || error === null) return { status: undefined, code: undefined, message: "" };
  const record = error as Record<string, unknown>;
  const json = record["json"];
  const detail = record["errorDetail"];
  const ociError = Array.isArray(record["errors"]) ? (record["errors"][0] as unknown) : undefined;
  const message =
    str(field(json, "message")) ??
    str(json) ??
    str(field(detail, "message")) ??
    str(record["error"]) ??
    str(field(ociError, "message")) ??
    str(record["message"]) ??
    "";
  const stripped = stripWrappers(message);
  const status = num(record["statusCode"]) ?? num(record["status"]) ?? num(field(detail, "code")) ?? dockerodeStatus(message);
  const code = str(record["code"]) ?? str(field(ociError, "code"));
  return { status, code, message: stripped };
}

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === "number" && Number.isInteger(value) ? value : undefined);

function dockerodeStatus(message: string): number | undefined {
  const match = /^\(HTTP code (\d{3})\)/.exec(message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Messages are read whole up to this size; beyond it only the head and the tail, where a Go error chain puts its words. */
const READ_LIMIT = 8 * 1024;

function headAndTail(message: string): string {
  return message.length <= 2 * READ_LIMIT ? message : `${message.slice(0, READ_LIMIT)} … ${message.slice(-READ_LIMIT)}`;
}

/** Remove what the daemon's client adds around the registry's words. */
function stripWrappers(message: string): string {
  return headAndTail(message)
    .replace(/^\(HTTP code \d{3}\) [^-]*- /, "")
    .replace(/^Error response from daemon: /i, "")
    .trim();
}

/**
 * Split a Go-style error chain ("a: b: c") into clauses, leaving quoted parts
 * (URLs, quoted bodies) whole and unquoted. A single linear pass.
 *
 * A line break ends a clause too: podman (containers/image) lists a registry's
 * several errors as "errors:\ndenied: …\nunauthorized: …\n", one per line.
 */
function splitClauses(message: string): string[] {
  const clauses: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < message.length; i++) {
    const c = message.charAt(i);
    if (c === '"' && message.charAt(i - 1) !== "\\") quoted = !quoted;
    else if (!quoted && c === "\n") {
      clauses.push(message.slice(start, i).replace(/:$/, ""));
      start = i + 1;
    } else if (!quoted && c === ":" && message.charAt(i + 1) === " ") {
      clauses.push(message.slice(start, i));
      start = i + 2;
    }
  }
  clauses.push(message.slice(start));
  return clauses.map((c) => c.trim().replace(/^"(.*)"$/, "$1")).filter((c) => c !== "");
}

/** The registry's words: the clauses from the deciding one on, without request prefixes and secrets. */
function reasonFrom(clauses: readonly string[], at: number | undefined, fallback: string): string {
  let start = at ?? 0;
  if (at === undefined) {
    while (
      start < clauses.length - 1 &&
      /^(head|get|post|put|patch|delete) \S+$|^failed to (resolve|fetch|do request)\b/i.test(clauses[start] ?? "")
    ) {
      start++;
    }
  }
  return shorten(redactText(clauses.slice(start).join(": ")) || redactText(fallback));
}
