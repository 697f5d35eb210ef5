/**
 * A private CA for the test world, made with the openssl CLI in the world's
 * state dir: server certificates under real names, an expired one, one for
 * another name, and a client certificate for mutual TLS.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const OPENSSL = "/usr/bin/openssl";
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface PrivateCa extends CertFiles {
  /**
   * Issues a certificate signed by this CA.
   * `days: -1` makes one that has already expired; `client` one for client authentication.
   */
  issue(
    name: string,
    options: { readonly sans?: readonly string[]; readonly days?: number; readonly client?: boolean },
  ): Promise<CertFiles>;
}

/**
 * @example
 * const ca = await makeCa(join(stateDir, "ca"));
 * const server = await ca.issue("ghcr", { sans: ["ghcr.io"] });
 */
export async function makeCa(dir: string): Promise<PrivateCa> {
  const cert = join(dir, "ca.crt");
  const key = join(dir, "ca.key");
  await run(OPENSSL, [
    "req",
    "-x509",
    ...EC,
    "-days",
    "3650",
    "-subj",
    "/CN=pullback-world private CA",
    "-keyout",
    key,
    "-out",
    cert,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  let serial = 1;
  return {
    cert,
    key,
    async issue(name, options) {
      const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      const sans = options.sans ?? [];
      await writeFile(
        ext,
        [
          ...(sans.length > 0 ? [`subjectAltName=${sans.map((s) => (/^[\d.]+$/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(",")}`] : []),
          `extendedKeyUsage=${options.client ? "clientAuth" : "serverAuth"}`,
        ].join("\n"),
      );
      await run(OPENSSL, ["req", "-new", ...EC, "-subj", `/CN=${sans[0] ?? name}`, "-keyout", files.key, "-out", csr]);
      await run(OPENSSL, [
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        cert,
        "-CAkey",
        key,
        "-set_serial",
        String(serial++),
        "-days",
        String(options.days ?? 825),
        "-extfile",
        ext,
        "-out",
        files.cert,
      ]);
      return files;
    },
  };
}
