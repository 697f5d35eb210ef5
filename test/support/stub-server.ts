/**
 * A tiny HTTP server on 127.0.0.1 for the narrow cases the world does not cover:
 * a registry whose token realm is dead, hostile registries. Each test owns one.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StubServer {
  /** "127.0.0.1:PORT" */
  readonly host: string;
  close(): Promise<void>;
}

/**
 * @example
 * const stub = await startStub((req, res) => res.end("{}"));
 * try { … `${stub.host}/x/y:1` … } finally { await stub.close(); }
 */
export async function startStub(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A registry that is up and challenges for a Bearer token at a realm where nothing listens. */
export function deadRealmRegistry(realmPort: number): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.resume();
    res.writeHead(401, {
      "content-type": "application/json",
      "docker-distribution-api-version": "registry/2.0",
      "www-authenticate": `Bearer realm="http://127.0.0.1:${realmPort}/token",service="dead-realm"`,
    });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  };
}

/**
 * Forwards every request to `target` ("http://127.0.0.1:PORT") after `delayMs`,
 * rewriting a token challenge's realm with `rewriteRealm` (a registry whose realm is elsewhere).
 *
 * @example
 * const slowRealm = await startStub(forwarder(world.tokenService.url, { delayMs: 3_000 }));
 */
export function forwarder(
  target: string,
  options: { delayMs?: number; rewriteRealm?: (realm: string) => string } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const to = new URL(target);
  return (req, res) => {
    const forward = (): void => {
      const upstream = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
        (answer) => {
          const headers = { ...answer.headers };
          const challenge = headers["www-authenticate"];
          if (typeof challenge === "string" && options.rewriteRealm) {
            headers["www-authenticate"] = challenge.replace(
              /realm="([^"]*)"/,
              (_all, realm: string) => `realm="${options.rewriteRealm!(realm)}"`,
            );
          }
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (options.delayMs) setTimeout(forward, options.delayMs);
    else forward();
  };
}
