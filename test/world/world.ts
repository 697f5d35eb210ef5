/**
 * The test world: real dockerd, five distribution registries, a token service,
 * sshd, a fault proxy and a blob server, all on loopback, all in one fresh
 * state dir, all stopped by `stop()`.
 *
 * Token service policy (mirrors real registries):
 * - anonymous: pull on public/*, an empty access list on anything else;
 * - alice: every requested action everywhere;
 * - bob (valid, no access): 403 DENIED for any scope, or 200 with empty access
 *   on the empty-access registry's service;
 * - a wrong password (any user): 401 with a Basic challenge;
 * - no scope (a login check): 200 for valid credentials, 401 for wrong ones.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { startBlobServer } from "./blob-server.js";
import { makeSigningIdentity } from "./certs.js";
import { removeStateDir } from "./cleanup.js";
import { startDockerd } from "./dockerd.js";
import { startFaultProxy } from "./fault-proxy.js";
import { buildFixtures, fixtureInfo, pushFixtures, writeAuthFile } from "./fixtures.js";
import { ensurePackages } from "./packages.js";
import { startRegistry, type Registry } from "./registry.js";
import { startSshd } from "./sshd.js";
import { startSshRoutes } from "./ssh-routes.js";
import { startTokenService } from "./token-service.js";
import type { WorldInfo } from "./types.js";

export type { WorldInfo } from "./types.js";

export interface World {
  readonly info: WorldInfo;
  /** Stops everything and removes the state dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Also build and push the benchmark images: public/big:1 (4 × 64 MiB) and public/layers:1 (40 layers, ~71 MiB). */
  readonly big?: boolean;
}

const ISSUER = "pullback-world-token-service";
const SERVICES = {
  token: "pullback-token",
  tokenOtherRealm: "pullback-token-other-realm",
  tokenEmptyAccess: "pullback-token-empty-access",
} as const;

/** A sentinel password: random per world, recognisable in a leak scan. */
const secret = (who: string): string => `pbw-${who}-${randomBytes(12).toString("hex")}`;

/** Stop functions of what has started so far, run last-first. */
class Stack {
  private readonly stops: (() => Promise<void>)[] = [];

  async track<T extends { stop(): Promise<void> }>(started: Promise<T>): Promise<T> {
    const value = await started;
    this.stops.push(() => value.stop());
    return value;
  }

  async unwind(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop().catch(() => undefined);
  }
}

/** Waits for every promise (so each success is tracked), then rethrows the first failure. */
async function allStarted<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * Starts a world. Installs missing Debian packages first (as root).
 *
 * @example
 * const world = await startWorld();
 * try { console.log(world.info.registries.token.url); } finally { await world.stop(); }
 */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const startedAt = Date.now();
  await ensurePackages();
  const stateDir = await mkdtemp("/tmp/pullback-world-");
  const stack = new Stack();
  const stop = async (): Promise<void> => {
    await stack.unwind();
    await removeStateDir(stateDir);
  };
  try {
    const users = {
      alice: { username: "alice", password: secret("alice") },
      bob: { username: "bob", password: secret("bob") },
      wrongPassword: secret("wrong"),
    };
    const htpasswd = join(stateDir, "htpasswd");
    await writeFile(htpasswd, [users.alice, users.bob].map((u) => `${u.username}:${bcrypt.hashSync(u.password, 6)}\n`).join(""));
    const identity = await makeSigningIdentity(stateDir);
    const tokens = await stack.track(
      startTokenService({
        identity,
        issuer: ISSUER,
        services: { [SERVICES.token]: "standard", [SERVICES.tokenOtherRealm]: "standard", [SERVICES.tokenEmptyAccess]: "empty-access" },
        accounts: users,
      }),
    );
    const tokenStorage = join(stateDir, "storage", "token");
    const tokenRegistry = (name: keyof typeof SERVICES, realmBase: string): Promise<Registry> =>
      stack.track(
        startRegistry({
          name,
          stateDir,
          storageDir: tokenStorage,
          auth: { kind: "token", realm: `${realmBase}/token`, service: SERVICES[name], issuer: ISSUER, rootCertBundle: identity.certFile },
        }),
      );
    const [dockerd, token, tokenOtherRealm, tokenEmptyAccess, basic, open, built] = await allStarted<
      [
        Awaited<ReturnType<typeof startDockerd>>,
        Registry,
        Registry,
        Registry,
        Registry,
        Registry,
        Awaited<ReturnType<typeof buildFixtures>>,
      ]
    >([
      stack.track(startDockerd(stateDir)),
      tokenRegistry("token", tokens.url),
      tokenRegistry("tokenOtherRealm", tokens.otherHostUrl),
      tokenRegistry("tokenEmptyAccess", tokens.url),
      stack.track(
        startRegistry({
          name: "basic",
          stateDir,
          storageDir: join(stateDir, "storage", "basic"),
          auth: { kind: "htpasswd", realm: "pullback-world basic", path: htpasswd },
        }),
      ),
      stack.track(startRegistry({ name: "open", stateDir, storageDir: join(stateDir, "storage", "open"), auth: { kind: "none" } })),
      buildFixtures({ big: options.big ?? false }),
    ]);
    const authFile = join(stateDir, "push-auth.json");
    await writeAuthFile(authFile, [token.host, basic.host], users.alice);
    const [sshd, blobServer] = await allStarted<
      [Awaited<ReturnType<typeof startSshd>>, Awaited<ReturnType<typeof startBlobServer>>, void, void, void]
    >([
      stack.track(startSshd(stateDir, dockerd.dockerHost)),
      stack.track(startBlobServer(tokenStorage)),
      pushFixtures(built, token.host, authFile),
      pushFixtures(built, basic.host, authFile),
      pushFixtures(built, open.host, authFile),
    ]);
    const faultProxy = await stack.track(startFaultProxy({ upstream: token.host, blobServer: blobServer.info }));
    const sshRoutes = await stack.track(startSshRoutes(stateDir, dockerd.dockerHost, sshd.info));
    const endpoint = (r: Registry) => ({ host: r.host, url: r.url });
    const info: WorldInfo = {
      stateDir,
      dockerHost: dockerd.dockerHost,
      registries: {
        token: endpoint(token),
        tokenOtherRealm: endpoint(tokenOtherRealm),
        tokenEmptyAccess: endpoint(tokenEmptyAccess),
        basic: endpoint(basic),
        open: endpoint(open),
      },
      tokenService: { url: tokens.url, otherHostUrl: tokens.otherHostUrl },
      users,
      ssh: sshd.info,
      sshRoutes: sshRoutes.info,
      faultProxy: faultProxy.info,
      blobServer: blobServer.info,
      fixtures: fixtureInfo(built),
      startupMs: Date.now() - startedAt,
    };
    let stopped: Promise<void> | undefined;
    return { info, stop: () => (stopped ??= stop()) };
  } catch (error) {
    await stop();
    throw error;
  }
}
