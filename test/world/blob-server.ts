import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { close, listen, sendJson } from "./http-server.js";
import type { BlobRequestRecord, WorldInfo } from "./types.js";

export interface BlobServer {
  readonly info: WorldInfo["blobServer"];
  stop(): Promise<void>;
}

/** Where distribution's filesystem driver keeps a blob. */
function blobPath(storageDir: string, digest: string): string | null {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (match?.[1] === undefined) return null;
  return join(storageDir, "docker", "registry", "v2", "blobs", "sha256", match[1].slice(0, 2), match[1], "data");
}

/**
 * A stand-in for a blob CDN: serves `GET /blobs/<digest>` from a registry's
 * storage directory and records whether an Authorization header arrived (it
 * must not, after a redirect to another host).
 *
 * @example
 * const blobs = await startBlobServer(tokenStorageDir);
 */
export async function startBlobServer(storageDir: string): Promise<BlobServer> {
  const records: BlobRequestRecord[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://blobs.invalid");
    if (url.pathname === "/_requests") {
      if (req.method === "DELETE") records.length = 0;
      return sendJson(res, 200, req.method === "DELETE" ? { cleared: true } : records);
    }
    const record = (status: number): void => {
      records.push({
        method: req.method ?? "GET",
        path: url.pathname,
        host: req.headers.host ?? "",
        hasAuthorization: req.headers.authorization !== undefined,
        status,
      });
    };
    const digest = decodeURIComponent(url.pathname.replace(/^\/blobs\//, ""));
    const file = url.pathname.startsWith("/blobs/") ? blobPath(storageDir, digest) : null;
    const size =
      file === null
        ? null
        : await stat(file).then(
            (s) => s.size,
            () => null,
          );
    if (file === null || size === null) {
      record(404);
      return sendJson(res, 404, { errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] });
    }
    record(200);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size, "docker-content-digest": digest });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file).pipe(res);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const servers: Server[] = [createServer(onRequest), createServer(onRequest)];
  try {
    const port = await listen(servers[0]!, "127.0.0.1");
    const otherPort = await listen(servers[1]!, "127.0.0.3");
    return {
      info: { url: `http://127.0.0.1:${port}`, otherHostUrl: `http://127.0.0.3:${otherPort}` },
      stop: async () => {
        await Promise.all(servers.map(close));
      },
    };
  } catch (error) {
    await Promise.all(servers.map(close));
    throw error;
  }
}
