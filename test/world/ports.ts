import { createServer } from "node:net";

/**
 * A TCP port that is free on `host` right now. A child process binds it a
 * moment later, so another world could race us for it: callers that spawn
 * children retry with a fresh port when the child reports "address in use".
 *
 * @example
 * const port = await freePort("127.0.0.1");
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no free port on ${host}`))));
    });
  });
}
