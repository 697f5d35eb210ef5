/**
 * Hex digests for the registry client. node:crypto comes from process.getBuiltinModule on the
 * first digest, not from an import: importing it evaluates every export of its ESM namespace,
 * webcrypto included (~8 ms per start-up), and an anonymous `check` needs no digest at all.
 */

/** @example hexDigest("sha256", "") // "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" */
export function hexDigest(algorithm: "sha256" | "sha512", data: string | Buffer): string {
  return process.getBuiltinModule("node:crypto").createHash(algorithm).update(data).digest("hex");
}
