/** A tiny in-process HTTP server on a loopback address, recording requests, for narrow unit tests. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  readonly host: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface LocalServer {
  readonly host: string;
  readonly url: string;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler, address = "127.0.0.1"): Promise<LocalServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, host: address });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  const host = `${address}:${port}`;
  return {
    host,
    url: `http://${host}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
