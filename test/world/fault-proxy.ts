import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { close, listen, readBody, sendJson } from "./http-server.js";
import { isAuthenticated, takeMatch, validateRules, type ArmedRule } from "./fault-rules.js";
import type { FaultAction, ProxyRequestRecord, WorldInfo } from "./types.js";

export interface FaultProxy {
  readonly info: WorldInfo["faultProxy"];
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  /** "127.0.0.1:PORT" of the registry behind the proxy. */
  readonly upstream: string;
  readonly blobServer: WorldInfo["blobServer"];
}

/** Body transforms a fault applies while forwarding. */
type StreamFault = Extract<FaultAction, { type: "reset" | "corrupt" | "throttle" }> | null;

function forward(req: IncomingMessage, res: ServerResponse, upstream: string, fault: StreamFault): Promise<number> {
  return new Promise((resolve) => {
    const [hostname, port] = upstream.split(":");
    // Host stays the proxy's, so the registry builds Location headers that point back through us.
    const proxied = request(
      { hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers, agent: false },
      (upstreamRes) => {
        const status = upstreamRes.statusCode ?? 502;
        res.writeHead(status, upstreamRes.headers);
        let sent = 0;
        let throttled: NodeJS.Timeout | undefined;
        upstreamRes.on("data", (chunk: Buffer) => {
          if (fault?.type === "corrupt") {
            const offset = (fault.offset ?? 0) - sent;
            if (offset >= 0 && offset < chunk.length) {
              chunk = Buffer.from(chunk);
              chunk[offset] = (chunk[offset] ?? 0) ^ 0xff;
            }
          }
          if (fault?.type === "reset" && sent + chunk.length >= fault.afterBytes) {
            res.write(chunk.subarray(0, Math.max(0, fault.afterBytes - sent)));
            sent = fault.afterBytes;
            upstreamRes.destroy();
            // Let the partial bytes leave before the reset.
            setImmediate(() => res.socket?.resetAndDestroy());
            return;
          }
          sent += chunk.length;
          res.write(chunk);
          if (fault?.type === "throttle") {
            upstreamRes.pause();
            throttled = setTimeout(() => upstreamRes.resume(), Math.ceil((chunk.length / fault.bytesPerSecond) * 1000));
          }
        });
        // A client that goes away stops the transfer behind it.
        res.once("close", () => {
          clearTimeout(throttled);
          upstreamRes.destroy();
        });
        upstreamRes.on("end", () => res.end());
        upstreamRes.on("error", () => res.destroy());
        resolve(status);
      },
    );
    proxied.on("error", () => {
      if (!res.headersSent) sendJson(res, 502, { errors: [{ code: "UNAVAILABLE", message: "fault proxy: upstream unreachable" }] });
      else res.destroy();
      resolve(502);
    });
    req.pipe(proxied);
  });
}

/**
 * A reverse proxy in front of the token registry whose misbehaviour tests
 * program at runtime: POST /_faults (rules), DELETE /_faults, GET/DELETE /_requests.
 *
 * @example
 * const proxy = await startFaultProxy({ upstream: registries.token.host, blobServer });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let rules: ArmedRule[] = [];
  const records: ProxyRequestRecord[] = [];

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === "/_faults" && req.method === "POST") {
      rules = validateRules(JSON.parse((await readBody(req)).toString("utf8"))).map((rule) => ({
        rule,
        remaining: rule.times ?? Infinity,
      }));
      return sendJson(res, 200, { rules: rules.length });
    }
    if (path === "/_faults" && req.method === "GET")
      return sendJson(
        res,
        200,
        rules.map((r) => ({ ...r.rule, remaining: r.remaining })),
      );
    if (path === "/_faults" && req.method === "DELETE") rules = [];
    if (path === "/_requests" && req.method === "DELETE") records.length = 0;
    if (req.method === "DELETE") return sendJson(res, 200, { cleared: true });
    return sendJson(res, 200, records);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "/";
    if (path === "/_faults" || path === "/_requests") return control(req, res, path);
    const method = req.method ?? "GET";
    const authenticated = isAuthenticated(req.headers.authorization);
    const hit = takeMatch(rules, { method, path, authenticated });
    const action = hit?.rule.action;
    let status: number;
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path.split("?")[0] ?? "");
    if (action?.type === "respond") {
      res.writeHead(action.status, action.headers ?? {});
      res.end(action.body ?? "");
      status = action.status;
    } else if (action?.type === "redirect" && blob?.[1] !== undefined && (method === "GET" || method === "HEAD")) {
      const base = action.to === "other-host" ? options.blobServer.otherHostUrl : options.blobServer.url;
      res.writeHead(302, { location: `${base}/blobs/${blob[1]}`, "content-length": 0 });
      res.end();
      status = 302;
    } else {
      if (action?.type === "delay") {
        const gone = new AbortController();
        res.once("close", () => gone.abort());
        await sleep(action.ms, undefined, { signal: gone.signal }).catch(() => undefined);
      }
      const streamFault = action?.type === "reset" || action?.type === "corrupt" || action?.type === "throttle" ? action : null;
      // 499, as nginx logs it: the client closed the request before it was answered.
      status = res.destroyed ? 499 : await forward(req, res, options.upstream, streamFault);
    }
    records.push({
      method,
      path,
      hasAuthorization: req.headers.authorization !== undefined,
      authenticated,
      status,
      fault: hit?.index ?? null,
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  const port = await listen(server, "127.0.0.1");
  return { info: { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` }, stop: () => close(server) };
}
