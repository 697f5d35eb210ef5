import { randomUUID, sign } from "node:crypto";
import type { SigningIdentity } from "./certs.js";
import type { Access } from "./token-policy.js";

export interface TokenClaims {
  readonly issuer: string;
  /** "" for anonymous, as the spec and Docker Hub do. */
  readonly subject: string;
  readonly audience: string;
  readonly access: readonly Access[];
  readonly lifetimeSeconds: number;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/**
 * An RS256 JWT as distribution's token auth verifies it: the signing
 * certificate travels in the `x5c` header and must chain to `rootcertbundle`.
 *
 * @example
 * const token = signToken(identity, { issuer, subject: "alice", audience: service, access, lifetimeSeconds: 300 });
 */
export function signToken(identity: SigningIdentity, claims: TokenClaims, now = Math.floor(Date.now() / 1000)): string {
  const header = { alg: "RS256", typ: "JWT", x5c: [identity.certDerBase64] };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.audience,
    // Clocks of separate processes: a little slack on the past side.
    nbf: now - 30,
    iat: now,
    exp: now + claims.lifetimeSeconds,
    jti: randomUUID(),
    access: claims.access,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign("sha256", Buffer.from(signingInput), identity.key);
  return `${signingInput}.${base64url(signature)}`;
}

/** The payload of a JWT, without verifying it (the fault proxy only needs `sub`). */
export function decodePayload(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (part === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
