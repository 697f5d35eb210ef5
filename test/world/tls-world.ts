/**
 * The test world under real names, over TLS with a private CA, inside a network
 * namespace with nothing but loopback — nothing there can reach the real hosts:
 *
 * - registry-1.docker.io: distribution, token auth, realm https://auth.docker.io/token
 * - ghcr.io: token auth with the realm on https://ghcr.io/token, blobs redirected
 *   (307, signed query string) to https://pkg-containers.githubusercontent.com
 * - quay.io: distribution, no auth; basic.registry.test: htpasswd;
 *   mtls.registry.test:5443: requires a client certificate
 * - failure hosts: expired.registry.test (expired certificate), wrong-name.registry.test
 *   (certificate for another name), plain.registry.test (plain HTTP on 443)
 * - tinyproxy at proxy.test:3128 (open) and proxy.test:3129 (BasicAuth)
 *
 * /etc/docker/certs.d inside the namespace (from /etc/netns/NAME/docker) trusts the CA
 * for registry-1.docker.io, ghcr.io, auth.docker.io and the CDN; /etc/containers/certs.d
 * holds the CA and client certificate of mtls.registry.test:5443; quay.io and
 * basic.registry.test are trusted by nothing there (tests pass --cert-dir or NODE_EXTRA_CA_CERTS).
 * Registries share the storage of the main world's, so the fixtures are already there.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import type { Server } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { request, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { makeCa, type CertFiles } from "./ca.js";
import { httpOnSocket, pipeToTcp, startBridge } from "./netns-bridge.js";
import { createNetns } from "./netns.js";
import { startProcess, waitUntil, type ManagedProcess } from "./process.js";
import { startTinyproxy, type Tinyproxy } from "./tinyproxy.js";
import type { WorldInfo } from "./types.js";

const run = promisify(execFile);

/** Names served inside the namespace, and their addresses there. */
const ADDRESSES = {
  "ghcr.io": "127.0.10.1",
  "registry-1.docker.io": "127.0.10.2",
  "auth.docker.io": "127.0.10.3",
  "quay.io": "127.0.10.4",
  "basic.registry.test": "127.0.10.5",
  "mtls.registry.test": "127.0.10.6",
  "expired.registry.test": "127.0.10.7",
  "wrong-name.registry.test": "127.0.10.8",
  "plain.registry.test": "127.0.10.9",
  "pkg-containers.githubusercontent.com": "127.0.10.10",
  "proxy.test": "127.0.10.50",
} as const;
const CDN = "pkg-containers.githubusercontent.com";
const ISSUER = "pullback-world-token-service";
const SERVICE = "pullback-token";

export interface TlsWorldInfo {
  /** The namespace, and the argv prefix that runs a command in it. */
  readonly netns: string;
  readonly exec: readonly string[];
  readonly stateDir: string;
  readonly caFile: string;
  readonly clientCert: CertFiles;
  /** A --cert-dir with ca.crt only; and one with ca.crt + client.cert + client.key. */
  readonly certDir: string;
  readonly clientCertDir: string;
  readonly hosts: {
    readonly dockerHub: "registry-1.docker.io";
    readonly ghcr: "ghcr.io";
    readonly quay: "quay.io";
    readonly basic: "basic.registry.test";
    readonly mtls: "mtls.registry.test:5443";
    readonly expired: "expired.registry.test";
    readonly wrongName: "wrong-name.registry.test";
    readonly plain: "plain.registry.test";
    readonly cdn: typeof CDN;
  };
  readonly proxy: {
    /** "http://proxy.test:3128" */
    readonly url: string;
    /** "http://proxy.test:3129": BasicAuth required. */
    readonly authUrl: string;
    readonly user: string;
    readonly password: string;
    readonly logFile: string;
    readonly authLogFile: string;
  };
}

export interface TlsWorld {
  readonly info: TlsWorldInfo;
  stop(): Promise<void>;
}

interface RegistrySpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly storage: string;
  readonly cert: CertFiles;
  readonly auth?: Record<string, unknown>;
  readonly clientCa?: string;
}

/** distribution inside the namespace, serving TLS itself (Go's TLS stack, as real registries). */
async function startNetnsRegistry(exec: readonly string[], dir: string, spec: RegistrySpec): Promise<ManagedProcess> {
  const config = join(dir, `registry-${spec.name}.yml`);
  await writeFile(
    config,
    stringify({
      version: 0.1,
      log: { level: "info", formatter: "text" },
      storage: { filesystem: { rootdirectory: spec.storage }, maintenance: { uploadpurging: { enabled: false } } },
      http: {
        addr: `${spec.address}:${spec.port}`,
        secret: randomBytes(16).toString("hex"),
        tls: { certificate: spec.cert.cert, key: spec.cert.key, ...(spec.clientCa ? { clientcas: [spec.clientCa] } : {}) },
      },
      ...(spec.auth ? { auth: spec.auth } : {}),
    }),
  );
  const logFile = join(dir, `registry-${spec.name}.log`);
  const [command, ...args] = exec;
  const managed = startProcess(`registry ${spec.name}`, command!, [...args, "/usr/bin/docker-registry", "serve", config], logFile);
  await waitUntil(managed, async () => (await readFile(logFile, "utf8")).includes("listening on"), 20_000);
  return managed;
}

/** ghcr.io's front: realm on its own host, blobs redirected to the CDN with a signed query string. */
function ghcrFront(world: WorldInfo): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const registry = new URL(world.registries.token.url);
  const tokens = new URL(world.tokenService.url);
  return (req, res) =>
    new Promise((resolve) => {
      const url = new URL(req.url ?? "/", "https://ghcr.io");
      const target = url.pathname === "/token" ? tokens : registry;
      const headers = { ...req.headers, host: target.host };
      const upstream = request(
        {
          hostname: target.hostname,
          port: Number(target.port),
          method: req.method,
          path: url.pathname + url.search,
          headers,
          agent: false,
        },
        (answer) => {
          const status = answer.statusCode ?? 502;
          const blob = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname)?.[1];
          if (blob !== undefined && req.method === "GET" && status === 200) {
            answer.destroy();
            const signature = randomBytes(16).toString("hex");
            res.writeHead(307, {
              location: `https://${CDN}/blobs/${blob}?se=${Date.now() + 600_000}&sig=${signature}`,
              "content-length": 0,
            });
            res.end();
            return resolve();
          }
          const out = { ...answer.headers };
          const challenge = out["www-authenticate"];
          if (typeof challenge === "string")
            out["www-authenticate"] = challenge
              .replace(/realm="[^"]*"/, 'realm="https://ghcr.io/token"')
              .replace(/service="[^"]*"/, `service="${SERVICE}"`);
          res.writeHead(status, out);
          answer.pipe(res);
          answer.on("end", () => resolve());
        },
      );
      upstream.on("error", () => {
        res.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
}

/**
 * Starts the TLS world beside a running main world (its token service, blob server, storage and users).
 *
 * @example
 * const tls = await startTlsWorld(getWorld());
 * try { … runCli(["check", "quay.io"], { command: [...tls.info.exec, process.execPath, BIN] }) … } finally { await tls.stop(); }
 */
export async function startTlsWorld(world: WorldInfo): Promise<TlsWorld> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const fn of stops.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const dir = join(world.stateDir, `tls-${process.pid}-${randomBytes(3).toString("hex")}`);
    const sockets = join(dir, "s");
    await mkdir(sockets, { recursive: true });
    const ca = await makeCa(dir);
    const serverNames = ["ghcr.io", "registry-1.docker.io", "auth.docker.io", "quay.io", "basic.registry.test", "mtls.registry.test", CDN];
    const server = await ca.issue("server", { sans: serverNames });
    const expired = await ca.issue("expired", { sans: ["expired.registry.test"], days: -1 });
    const wrongName = await ca.issue("wrong-name", { sans: ["other.registry.test"] });
    const clientCert = await ca.issue("client", { sans: ["pullback-client"], client: true });

    const netns = await createNetns(Object.fromEntries(Object.entries(ADDRESSES).map(([name, ip]) => [ip, [name]])));
    stops.push(() => netns.stop());
    await trustInside(netns.etcDir, ca.cert, clientCert);

    const storage = (name: string): string => join(world.stateDir, "storage", name);
    const token = {
      token: {
        realm: "https://auth.docker.io/token",
        service: SERVICE,
        issuer: ISSUER,
        rootcertbundle: join(world.stateDir, "token-signing.crt"),
      },
    };
    const registries: RegistrySpec[] = [
      { name: "dockerhub", address: ADDRESSES["registry-1.docker.io"], port: 443, storage: storage("token"), cert: server, auth: token },
      { name: "quay", address: ADDRESSES["quay.io"], port: 443, storage: storage("open"), cert: server },
      {
        name: "basic",
        address: ADDRESSES["basic.registry.test"],
        port: 443,
        storage: storage("basic"),
        cert: server,
        auth: { htpasswd: { realm: "pullback-world basic", path: join(world.stateDir, "htpasswd") } },
      },
      { name: "mtls", address: ADDRESSES["mtls.registry.test"], port: 5443, storage: storage("open"), cert: server, clientCa: ca.cert },
    ];
    const started = await Promise.allSettled(registries.map((spec) => startNetnsRegistry(netns.exec, dir, spec)));
    for (const result of started) if (result.status === "fulfilled") stops.push(() => result.value.stop());
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;

    const sock = (name: string): string => join(sockets, `${name}.sock`);
    const rootSide: Server[] = [
      await pipeToTcp(sock("tokens"), new URL(world.tokenService.url).host),
      await pipeToTcp(sock("blobs"), new URL(world.blobServer.url).host),
      await pipeToTcp(sock("open"), world.registries.open.host),
      await httpOnSocket(sock("ghcr"), ghcrFront(world)),
    ];
    stops.push(async () => {
      // The bridge stopped first, so their connections are gone; do not wait long for stragglers.
      await Promise.race([Promise.all(rootSide.map((s) => new Promise((resolve) => s.close(resolve)))), sleep(2_000)]);
    });
    const bridge = await startBridge(netns.exec, dir, [
      { host: ADDRESSES["ghcr.io"], port: 443, socket: sock("ghcr"), tls: server },
      { host: ADDRESSES["auth.docker.io"], port: 443, socket: sock("tokens"), tls: server },
      { host: ADDRESSES[CDN], port: 443, socket: sock("blobs"), tls: server },
      { host: ADDRESSES["expired.registry.test"], port: 443, socket: sock("open"), tls: expired },
      { host: ADDRESSES["wrong-name.registry.test"], port: 443, socket: sock("open"), tls: wrongName },
      { host: ADDRESSES["plain.registry.test"], port: 443, socket: sock("open") },
    ]);
    stops.push(() => bridge.stop());

    const proxyUser = "pbw-proxy";
    const proxyPassword = `pbw-proxypw-${randomBytes(12).toString("hex")}`;
    const proxies: Tinyproxy[] = [
      await startTinyproxy({ name: "open", dir, exec: netns.exec, listen: ADDRESSES["proxy.test"], port: 3128 }),
      await startTinyproxy({
        name: "auth",
        dir,
        exec: netns.exec,
        listen: ADDRESSES["proxy.test"],
        port: 3129,
        basicAuth: { user: proxyUser, password: proxyPassword },
      }),
    ];
    for (const proxy of proxies) stops.push(() => proxy.stop());

    const certDir = join(dir, "cert-dir");
    const clientCertDir = join(dir, "client-cert-dir");
    await mkdir(certDir);
    await mkdir(clientCertDir);
    await copyFile(ca.cert, join(certDir, "ca.crt"));
    await copyFile(ca.cert, join(clientCertDir, "ca.crt"));
    await copyFile(clientCert.cert, join(clientCertDir, "client.cert"));
    await copyFile(clientCert.key, join(clientCertDir, "client.key"));
    await addAlpine(world);

    const info: TlsWorldInfo = {
      netns: netns.name,
      exec: netns.exec,
      stateDir: dir,
      caFile: ca.cert,
      clientCert,
      certDir,
      clientCertDir,
      hosts: {
        dockerHub: "registry-1.docker.io",
        ghcr: "ghcr.io",
        quay: "quay.io",
        basic: "basic.registry.test",
        mtls: "mtls.registry.test:5443",
        expired: "expired.registry.test",
        wrongName: "wrong-name.registry.test",
        plain: "plain.registry.test",
        cdn: CDN,
      },
      proxy: {
        url: "http://proxy.test:3128",
        authUrl: "http://proxy.test:3129",
        user: proxyUser,
        password: proxyPassword,
        logFile: proxies[0]!.logFile,
        authLogFile: proxies[1]!.logFile,
      },
    };
    let stopped: Promise<void> | undefined;
    return { info, stop: () => (stopped ??= stop()) };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** certs.d as docker and containers lay it out, in the namespace's own /etc. */
async function trustInside(etcDir: string, caFile: string, client: CertFiles): Promise<void> {
  for (const host of ["registry-1.docker.io", "docker.io", "ghcr.io", "auth.docker.io", CDN]) {
    const hostDir = join(etcDir, "docker", "certs.d", host);
    await mkdir(hostDir, { recursive: true });
    await copyFile(caFile, join(hostDir, "ca.crt"));
  }
  const mtls = join(etcDir, "containers", "certs.d", "mtls.registry.test:5443");
  await mkdir(mtls, { recursive: true });
  await copyFile(caFile, join(mtls, "ca.crt"));
  await copyFile(client.cert, join(mtls, "client.cert"));
  await copyFile(client.key, join(mtls, "client.key"));
}

/** docker.io/library/alpine: the public fixture under Docker Hub's official name (copied once; cheap when present). */
async function addAlpine(world: WorldInfo): Promise<void> {
  const app = world.fixtures.publicApp;
  await run(
    "/usr/bin/skopeo",
    [
      "copy",
      "--preserve-digests",
      "--quiet",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--dest-authfile",
      join(world.stateDir, "push-auth.json"),
      `docker://${world.registries.token.host}/${app.repository}:${app.tag}`,
      `docker://${world.registries.token.host}/library/alpine:latest`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
}
