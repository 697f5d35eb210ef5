/**
 * Servers in the root namespace, reachable under real names inside the test
 * namespace: a small Node process started with `ip netns exec` listens on the
 * name's address (terminating TLS with the name's certificate, or passing bytes
 * through) and pipes each connection to a unix socket, which is visible from both
 * namespaces; on the root side a pipe (or an HTTP server) answers on that socket.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, createServer, type Server } from "node:net";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startProcess, waitUntil, type ManagedProcess } from "./process.js";

/** One name served inside the namespace. */
export interface BridgeRoute {
  readonly host: string;
  readonly port: number;
  /** Unix socket the connection is piped to. */
  readonly socket: string;
  /** Terminate TLS with this certificate; absent: pass the bytes through as they are. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

// Plain JS run by `node -e` inside the namespace (no TypeScript loader there).
const BRIDGE_SOURCE = `
const net = require("node:net"), tls = require("node:tls"), fs = require("node:fs");
const routes = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
let listening = 0;
for (const r of routes) {
  const pipe = (client) => {
    const up = net.connect(r.socket);
    client.on("error", () => up.destroy());
    up.on("error", () => client.destroy());
    client.pipe(up).pipe(client);
  };
  const server = r.tls
    ? tls.createServer({ cert: fs.readFileSync(r.tls.cert), key: fs.readFileSync(r.tls.key) }, pipe)
    : net.createServer(pipe);
  server.on("tlsClientError", () => {});
  server.listen(r.port, r.host, () => { if (++listening === routes.length) console.log("bridge ready"); });
}
`;

/**
 * Starts the in-namespace half for `routes`.
 *
 * @example
 * const bridge = await startBridge(ns.exec, dir, [{ host: "127.0.10.3", port: 443, socket, tls: cert }]);
 */
export async function startBridge(exec: readonly string[], dir: string, routes: readonly BridgeRoute[]): Promise<ManagedProcess> {
  const config = join(dir, "bridge.json");
  await writeFile(config, JSON.stringify(routes));
  const logFile = join(dir, "bridge.log");
  const [command, ...args] = exec;
  const managed = startProcess("netns bridge", command!, [...args, process.execPath, "-e", BRIDGE_SOURCE, config], logFile);
  await waitUntil(managed, async () => (await readFile(logFile, "utf8")).includes("bridge ready"), 15_000);
  return managed;
}

/** A unix socket whose connections are piped to `host:port` in the root namespace. */
export async function pipeToTcp(socket: string, target: string): Promise<Server> {
  const url = new URL(/^[a-z]+:\/\//.test(target) ? target : `tcp://${target}`);
  const server = createServer((client) => {
    const up = connect(Number(url.port), url.hostname);
    client.on("error", () => up.destroy());
    up.on("error", () => client.destroy());
    client.pipe(up).pipe(client);
  });
  await listenOn(server, socket);
  return server;
}

/** An HTTP server on a unix socket. */
export async function httpOnSocket(socket: string, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createHttpServer((req, res) => {
    handler(req, res).catch(() => res.destroy());
  });
  await listenOn(server, socket);
  return server;
}

function listenOn(server: Server, socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => resolve());
  });
}
