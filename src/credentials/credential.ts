/**
 * A registry credential: who, what kind, where it came from — and a secret that
 * cannot be printed. The secret lives in a private field; every way of turning
 * the object into text (String, template, util.inspect, JSON, console.log)
 * shows `secret: "***"`. Only the registry HTTP code calls `reveal()`.
 */
import { homedir } from "node:os";
import type { InspectOptions, inspect } from "node:util";
import { PullbackError } from "../errors.js";
import { checkRecord, checkText, invalid as invalidInput } from "../validation/checks.js";

/**
 * Where a credential came from, in terms a person can check. Never holds the secret.
 *
 * @example
 * Credential.basic("ci-bot", token, { type: "env", usernameVariable: "CI_USER", secretVariable: "CI_TOKEN" });
 */
export type CredentialSource =
  | { readonly type: "explicit"; readonly label?: string } // API argument / CLI flags (secret from stdin)
  | { readonly type: "env"; readonly usernameVariable?: string; readonly secretVariable: string }
  | { readonly type: "helper"; readonly helper: string; readonly registry?: string } // docker-credential-<helper>
  | { readonly type: "config"; readonly file: string; readonly key: string }; // docker config auths[key]

/**
 * How the secret is sent: HTTP Basic / token-service basic grant, or an OAuth2 refresh token.
 *
 * @example
 * if (credential.kind === "identity-token") console.log("exchanged at the token service");
 */
export type CredentialKind = "basic" | "identity-token";

/** The username docker uses for an identity token that comes without one. */
export const IDENTITY_TOKEN_USERNAME = "<token>";

const REDACTED = "***";

/**
 * A registry credential whose secret never leaves the object except through `reveal()`.
 *
 * @example
 * const c = Credential.basic("ci-bot", token, { type: "env", secretVariable: "PULLBACK_REGISTRY_TOKEN" });
 * console.log(`${c}`); // Credential { username: "ci-bot", kind: "basic", source: "the token from …", secret: "***" }
 */
export class Credential {
  readonly username: string;
  readonly kind: CredentialKind;
  readonly source: CredentialSource;
  readonly #secret: string;

  private constructor(username: string, secret: string, kind: CredentialKind, source: CredentialSource) {
    this.username = username;
    this.kind = kind;
    this.source = source;
    this.#secret = secret;
    Object.freeze(this);
  }

  /**
   * A username with a password or an access token (HTTP Basic, or the token service's basic grant).
   *
   * @example
   * Credential.basic("__token__", "ghp_…", { type: "explicit" });
   */
  static basic(username: string, secret: string, source: CredentialSource): Credential {
    checkCredentialParts("Credential.basic", username, secret, source);
    checkUsername(username, source, true);
    checkSecret(secret, source);
    return new Credential(username, secret, "basic", source);
  }

  /**
   * Docker's "identitytoken": an OAuth2 refresh token exchanged at the token service.
   *
   * @example
   * Credential.identityToken(refreshToken, { type: "helper", helper: "desktop", registry: "docker.io" });
   */
  static identityToken(token: string, source: CredentialSource, username?: string): Credential {
    checkCredentialParts("Credential.identityToken", username, token, source, true);
    const name = username === undefined || username === "" ? IDENTITY_TOKEN_USERNAME : username;
    checkUsername(name, source, false);
    checkSecret(token, source);
    return new Credential(name, token, "identity-token", source);
  }

  /** The secret itself. Only code that builds an Authorization header or token request calls this. */
  reveal(): string {
    return this.#secret;
  }

  /** Where this credential came from, for messages and events: never the secret. */
  describe(): string {
    return describeSource(this.source);
  }

  /** Secret-free text for String(), template literals and concatenation. */
  toString(): string {
    return `Credential { username: ${JSON.stringify(this.username)}, kind: "${this.kind}", source: ${JSON.stringify(this.describe())}, secret: "${REDACTED}" }`;
  }

  /** Secret-free JSON for JSON.stringify and anything that serializes. */
  toJSON(): { username: string; kind: CredentialKind; source: CredentialSource; secret: string } {
    return { username: this.username, kind: this.kind, source: this.source, secret: REDACTED };
  }

  /**
   * Secret-free view for util.inspect, console.log and test-runner diffs. Node hands over its
   * own inspect: importing node:util would cost every start-up its ESM namespace (~1 ms).
   */
  [Symbol.for("nodejs.util.inspect.custom")](_depth: number, options: InspectOptions, nodeInspect: typeof inspect): string {
    return `Credential ${nodeInspect(this.toJSON(), { ...options, customInspect: false })}`;
  }
}

/**
 * How a source reads in a message: "the token from PULLBACK_REGISTRY_TOKEN".
 *
 * @example
 * describeSource({ type: "config", file: "/home/me/.docker/config.json", key: "ghcr.io" });
 * // 'the credentials in ~/.docker/config.json (auths["ghcr.io"])'
 */
export function describeSource(source: CredentialSource): string {
  switch (source.type) {
    case "explicit":
      return source.label ?? "the credentials given on the command line";
    case "env":
      return source.usernameVariable === undefined
        ? `the token from ${source.secretVariable}`
        : `the credentials from ${source.usernameVariable} and ${source.secretVariable}`;
    case "helper": {
      const forRegistry = source.registry === undefined ? "" : ` for ${source.registry}`;
      return `the credentials${forRegistry} from docker-credential-${source.helper}`;
    }
    case "config":
      return `the credentials in ${tildePath(source.file)} (auths[${JSON.stringify(source.key)}])`;
  }
}

/** A path under the home directory written as ~/…, the way people recognise it. */
export function tildePath(file: string): string {
  const home = homedir();
  return home.length > 1 && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

function checkUsername(username: string, source: CredentialSource, basic: boolean): void {
  const where = describeSource(source);
  if (username === "") throw invalid(`Cannot use ${where}: the username is empty`);
  // The username is not secret, but a pasted token in the wrong field is: never echo it.
  if ([...username].some((c) => c < " " || c === "\x7f")) throw invalid(`Cannot use ${where}: the username contains a control character`);
  if (basic && username.includes(":")) {
    throw invalid(`Cannot use ${where}: the username contains ":", which HTTP Basic authentication cannot carry`);
  }
}

function checkSecret(secret: string, source: CredentialSource): void {
  const where = describeSource(source);
  if (secret === "") throw invalid(`Cannot use ${where}: the secret is empty`);
  if (/[\n\r\0]/.test(secret)) {
    throw invalid(`Cannot use ${where}: the secret contains a line break or NUL character (a stray newline from a file or pipe?)`);
  }
}

function invalid(message: string): PullbackError {
  return new PullbackError("credentials", message, {
    diagnosis: {
      summary: "The registry credentials are malformed.",
      explanation: "A credential needs a non-empty username and a single-line, non-empty secret; this one cannot be sent.",
      steps: [{ text: "Check the value where the credentials come from, or pass --no-credentials to pull anonymously." }],
      retryable: false,
    },
  });
}

/** Credential.basic / Credential.identityToken: the types (the content rules are the credential's own). */
function checkCredentialParts(name: string, username: unknown, secret: unknown, source: unknown, usernameOptional = false): void {
  checkText(username, `${name}: username`, { nonEmpty: false, max: 1024, optional: usernameOptional });
  checkText(secret, `${name}: secret`, { secret: true, nonEmpty: false, max: 65_536 });
  const parsed = checkRecord(source, `${name}: source`);
  if (!["explicit", "env", "helper", "config"].includes(parsed.type as string)) {
    throw invalidInput(`${name}: source.type`, parsed.type, '"explicit", "env", "helper" or "config"');
  }
}
