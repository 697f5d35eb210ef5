/**
 * Turning a registry's or token service's error response into a PullbackError
 * that keeps the HTTP status and the OCI error codes.
 *
 * Bodies are read defensively: decided on the status first, capped, and any
 * shape accepted (OCI `errors[]`, Docker Hub's `details`, OAuth2 `error`, HTML).
 */
import type { Readable } from "node:stream";
import { PullbackError, type ErrorKind, type PullbackErrorOptions } from "../errors.js";
import { oneLine as plainText } from "../text/user-text.js";
import { readBodyCapped } from "./read-body.js";

/** Who answered: the registry itself, or the token service its challenge pointed at. */
export type ResponseSource = "registry" | "token-service";

export interface RegistryResponseDetails {
  readonly status: number;
  readonly codes: readonly string[];
  readonly registryMessage: string;
  readonly source: ResponseSource;
  /** For a 401 from the registry: the `error` parameter of its challenge, e.g. "insufficient_scope". */
  readonly challengeError?: string;
}

/** A PullbackError from an HTTP answer: carries the status, OCI codes and the registry's own words. */
export class RegistryResponseError extends PullbackError {
  override readonly name = "RegistryResponseError";
  readonly status: number;
  readonly codes: readonly string[];
  readonly registryMessage: string;
  readonly source: ResponseSource;
  readonly challengeError: string | undefined;

  constructor(kind: ErrorKind, message: string, details: RegistryResponseDetails, options: PullbackErrorOptions = {}) {
    super(kind, message, options);
    this.status = details.status;
    this.codes = details.codes;
    this.registryMessage = details.registryMessage;
    this.source = details.source;
    this.challengeError = details.challengeError;
  }
}

export interface ParsedErrorBody {
  readonly codes: string[];
  readonly message: string;
}

/**
 * The codes and human message in an error body of any known shape.
 *
 * @example
 * parseErrorBody('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
 * // → { codes: ["DENIED"], message: "requested access to the resource is denied" }
 */
export function parseErrorBody(text: string): ParsedErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { codes: [], message: plainText(text) };
  }
  if (typeof json !== "object" || json === null) return { codes: [], message: "" };
  const body = json as Record<string, unknown>;
  const errors = Array.isArray(body.errors) ? (body.errors as unknown[]) : [];
  const codes: string[] = [];
  const messages: string[] = [];
  for (const entry of errors) {
    if (typeof entry !== "object" || entry === null) continue;
    const { code, message } = entry as Record<string, unknown>;
    if (typeof code === "string") codes.push(code.toUpperCase());
    if (typeof message === "string" && message !== "") messages.push(message);
  }
  const fallback = [body.details, body.error_description, body.message, body.error].find(
    (value): value is string => typeof value === "string" && value !== "",
  );
  return { codes, message: plainText(messages.join("; ") || fallback || "") };
}

/** The error kind a status and its codes mean. */
export function kindForResponse(status: number, codes: readonly string[]): ErrorKind {
  if (status === 429 || codes.includes("TOOMANYREQUESTS")) return "rate-limited";
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not-found";
  return "registry";
}

/**
 * Build the error for a non-success response, reading (and closing) its body.
 * `what` names the request for the message, with a redacted URL: "GET https://ghcr.io/v2/x/manifests/1".
 */
export async function errorFromResponse(
  response: { readonly status: number; readonly body: Readable },
  what: string,
  source: ResponseSource,
  options: { readonly challengeError?: string | undefined; readonly kind?: ErrorKind } = {},
): Promise<RegistryResponseError> {
  const { challengeError } = options;
  const text = (await readBodyCapped(response.body)).toString("utf8");
  const { codes, message } = parseErrorBody(text);
  const kind = options.kind ?? kindForResponse(response.status, codes);
  const said = message || challengeError || "";
  const whose = source === "token-service" ? "token service" : "registry";
  const summary = `${what}: ${whose} answered HTTP ${response.status}${said ? `: ${said}` : ""}`;
  return new RegistryResponseError(kind, summary, {
    status: response.status,
    codes,
    registryMessage: message,
    source,
    ...(challengeError === undefined ? {} : { challengeError }),
  });
}
