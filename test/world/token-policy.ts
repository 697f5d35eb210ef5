import { timingSafeEqual } from "node:crypto";
import type { UserCredentials } from "./types.js";

/** One entry of a token's `access` claim (and of a parsed `scope`). */
export interface Access {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** "standard" refuses a valid account without access with 403; "empty-access" grants it nothing with 200. */
export type ServiceMode = "standard" | "empty-access";

export type Decision =
  | { readonly outcome: "granted" | "empty"; readonly user: string | null; readonly access: readonly Access[] }
  | { readonly outcome: "denied" | "unauthorized"; readonly user: string | null };

export interface PolicyInput {
  readonly mode: ServiceMode;
  /** alice (everything) and bob (valid, no access). */
  readonly accounts: { readonly alice: UserCredentials; readonly bob: UserCredentials };
  /** null for an anonymous request; `trusted` when already authenticated (refresh token). */
  readonly credentials: { readonly username: string; readonly password?: string; readonly trusted?: boolean } | null;
  readonly scopes: readonly string[];
}

/**
 * Splits "repository:127.0.0.1:5000/a/b:pull,push" at the first and the LAST
 * colon: names may contain host:port, actions never contain a colon.
 *
 * @example
 * parseScope("repository:public/app:pull") // { type: "repository", name: "public/app", actions: ["pull"] }
 */
export function parseScope(scope: string): Access | null {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last === first) return null;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a) => a !== "");
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Who is asking: a valid username, null for anonymous, or false for wrong credentials. */
function identify(input: PolicyInput): string | null | false {
  const { credentials, accounts } = input;
  if (credentials === null) return null;
  const account = [accounts.alice, accounts.bob].find((a) => a.username === credentials.username);
  if (account === undefined) return false;
  if (credentials.trusted === true) return account.username;
  return samePassword(credentials.password ?? "", account.password) ? account.username : false;
}

/** What an anonymous caller may do with one requested scope: pull on public/* (and library/*, Docker Hub's official images), nothing else. */
function anonymousAccess(access: Access): Access | null {
  if (access.type !== "repository" || !/^(public|library)\//.test(access.name)) return null;
  return access.actions.includes("pull") ? { ...access, actions: ["pull"] } : null;
}

/**
 * The token service's policy, mirroring real registries (see the world README in world.ts).
 *
 * @example
 * decide({ mode: "standard", accounts, credentials: null, scopes: ["repository:private/app:pull"] }).outcome // "empty"
 */
export function decide(input: PolicyInput): Decision {
  const user = identify(input);
  if (user === false) return { outcome: "unauthorized", user: input.credentials?.username ?? null };
  const requested = input.scopes.map(parseScope).filter((a): a is Access => a !== null);
  // No scope: a login check. Valid credentials (or none) get a token without access.
  if (input.scopes.length === 0) return { outcome: "granted", user, access: [] };
  let access: Access[];
  if (user === input.accounts.alice.username) {
    access = requested;
  } else if (user === input.accounts.bob.username) {
    if (input.mode === "standard") return { outcome: "denied", user };
    access = [];
  } else {
    access = requested.map(anonymousAccess).filter((a): a is Access => a !== null);
  }
  return { outcome: access.length > 0 ? "granted" : "empty", user, access };
}
