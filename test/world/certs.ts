import { execFile } from "node:child_process";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The token service's signing identity. */
export interface SigningIdentity {
  readonly key: KeyObject;
  /** The certificate, base64 DER, as the JWT `x5c` header carries it. */
  readonly certDerBase64: string;
  /** PEM file the registries trust (`rootcertbundle`). */
  readonly certFile: string;
}

/**
 * Makes a self-signed RSA certificate with the openssl CLI, in `dir`.
 *
 * @example
 * const identity = await makeSigningIdentity(`${stateDir}/token`);
 */
export async function makeSigningIdentity(dir: string): Promise<SigningIdentity> {
  const keyFile = join(dir, "token-signing.key");
  const certFile = join(dir, "token-signing.crt");
  await run("/usr/bin/openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-sha256",
    "-days",
    "3650",
    "-subj",
    "/CN=pullback-world token signer",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  const key = createPrivateKey(await readFile(keyFile));
  const cert = new X509Certificate(await readFile(certFile));
  return { key, certDerBase64: cert.raw.toString("base64"), certFile };
}
