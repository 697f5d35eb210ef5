import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { probeStatus } from "./http-probe.js";
import { freePort } from "./ports.js";
import { logTail, startProcess, waitUntil } from "./process.js";
import type { RegistryEndpoint } from "./types.js";

/** How a registry authenticates: distribution's `auth` section. */
export type RegistryAuth =
  | { readonly kind: "token"; readonly realm: string; readonly service: string; readonly issuer: string; readonly rootCertBundle: string }
  | { readonly kind: "htpasswd"; readonly realm: string; readonly path: string }
  | { readonly kind: "none" };

export interface RegistryOptions {
  /** Short name for files and logs ("token", "basic"). */
  readonly name: string;
  readonly stateDir: string;
  /** Filesystem storage root; several registries may share one. */
  readonly storageDir: string;
  readonly auth: RegistryAuth;
}

export interface Registry extends RegistryEndpoint {
  readonly storageDir: string;
  stop(): Promise<void>;
}

function authSection(auth: RegistryAuth): Record<string, unknown> | undefined {
  switch (auth.kind) {
    case "token":
      return { token: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: auth.rootCertBundle } };
    case "htpasswd":
      return { htpasswd: { realm: auth.realm, path: auth.path } };
    case "none":
      return undefined;
  }
}

function configYaml(options: RegistryOptions, port: number): string {
  const auth = authSection(options.auth);
  return stringify({
    version: 0.1,
    log: { level: "info", formatter: "text" },
    storage: {
      filesystem: { rootdirectory: options.storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString("hex") },
    ...(auth === undefined ? {} : { auth }),
  });
}

/**
 * Starts `docker-registry serve` (distribution 2.8) on a free loopback port.
 * Retries with another port if a concurrent world took the one we picked.
 *
 * @example
 * const open = await startRegistry({ name: "open", stateDir, storageDir, auth: { kind: "none" } });
 */
export async function startRegistry(options: RegistryOptions): Promise<Registry> {
  const dir = join(options.stateDir, "registries", options.name);
  await mkdir(dir, { recursive: true });
  await mkdir(options.storageDir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = join(dir, "config.yml");
    await writeFile(configFile, configYaml(options, port));
    const logFile = join(dir, "registry.log");
    const managed = startProcess(`registry ${options.name}`, "/usr/bin/docker-registry", ["serve", configFile], logFile);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntil(managed, async () => [200, 401].includes((await probeStatus({ url: `${url}/v2/` })) ?? 0), 20_000);
      return { host: `127.0.0.1:${port}`, url, storageDir: options.storageDir, stop: () => managed.stop() };
    } catch (error) {
      lastError = error;
      await managed.stop();
      if (!/address already in use/.test(await logTail(logFile))) break;
    }
  }
  throw lastError;
}
