import { afterEach, describe, expect, it } from "vitest";
import { PullbackError } from "../../src/errors.js";
import { HttpClient, type Exchange } from "../../src/registry/http.js";
import { RegistryResponseError } from "../../src/registry/registry-error.js";
import { startServer, type LocalServer } from "./local-server.js";

const servers: LocalServer[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(...args: Parameters<typeof startServer>): Promise<LocalServer> {
  const started = await startServer(...args);
  servers.push(started);
  return started;
}
function client(options: ConstructorParameters<typeof HttpClient>[0] = {}): HttpClient {
  const made = new HttpClient({ retries: 0, retryDelayMs: 1, ...options });
  clients.push(made);
  return made;
}
async function text(response: { body: NodeJS.ReadableStream }): Promise<string> {
  let out = "";
  for await (const chunk of response.body) out += String(chunk);
  return out;
}

describe("HttpClient redirects", () => {
  it("keeps Authorization on the same host and drops it when the host changes", async () => {
    const cdn = await server((_req, res) => res.end("blob"), "127.0.0.2");
    const registry = await server((req, res) => {
      if (req.url === "/v2/a/blobs/x") res.writeHead(307, { location: "/v2/a/blobs/x-here" }).end();
      else res.writeHead(302, { location: `${cdn.url}/data?sig=abc` }).end();
    });
    const response = await client().send({
      method: "GET",
      url: `${registry.url}/v2/a/blobs/x`,
      headers: { Authorization: "Bearer secret-token" },
      credentialed: true,
    });
    expect(response.status).toBe(200);
    expect(await text(response)).toBe("blob");
    expect(registry.requests.map((r) => r.headers.authorization)).toEqual(["Bearer secret-token", "Bearer secret-token"]);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]!.headers.authorization).toBeUndefined();
    expect(response.url.host).toBe(cdn.host);
  });

  it("gives up after 5 redirects with a registry error", async () => {
    const loop = await server((req, res) => res.writeHead(302, { location: `/r${req.url ?? ""}` }).end());
    const error = await client()
      .send({ method: "GET", url: `${loop.url}/start` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullbackError);
    expect((error as PullbackError).kind).toBe("registry");
    expect(loop.requests).toHaveLength(6);
  });

  it("refuses a redirect to plain HTTP on a non-loopback host", async () => {
    const registry = await server((_req, res) => res.writeHead(302, { location: "http://blobs.example.com/x" }).end());
    const error = await client()
      .send({ method: "GET", url: `${registry.url}/v2/` })
      .catch((e: unknown) => e);
    expect((error as PullbackError).kind).toBe("usage");
    expect((error as Error).message).toMatch(/plain HTTP to blobs\.example\.com/);
  });
});

describe("HttpClient plain HTTP policy", () => {
  it("refuses plain HTTP to a non-loopback host unless marked insecure", async () => {
    const error = await client()
      .send({ method: "GET", url: "http://registry.example.com/v2/" })
      .catch((e: unknown) => e);
    expect((error as PullbackError).kind).toBe("usage");
    expect(client({ insecureHosts: ["registry.example.com"] }).allowsPlainHttp("registry.example.com")).toBe(true);
    expect(client().allowsPlainHttp("127.0.0.5:5000")).toBe(true);
  });

  it("never sends credentials over plain HTTP off loopback, even to an insecure host", async () => {
    const http = client({ insecureHosts: ["registry.example.com"] });
    const error = await http
      .send({ method: "GET", url: "http://registry.example.com/v2/", headers: { authorization: "Basic c2VjcmV0" }, credentialed: true })
      .catch((e: unknown) => e);
    expect((error as PullbackError).kind).toBe("usage");
    expect((error as Error).message).toMatch(/refusing to send credentials over plain HTTP/);
    expect((error as Error).message).not.toContain("c2VjcmV0");
  });
});

describe("HttpClient retries and errors", () => {
  it("retries a 5xx and then succeeds, reporting each exchange with a redacted URL", async () => {
    let calls = 0;
    const flaky = await server((_req, res) => (++calls < 3 ? res.writeHead(503).end("down") : res.end("ok")));
    const exchanges: Exchange[] = [];
    const response = await client({ retries: 2, onExchange: (e) => exchanges.push(e) }).send({
      method: "GET",
      url: `${flaky.url}/t?password=hunter2`,
    });
    expect(await text(response)).toBe("ok");
    expect(exchanges.map((e) => e.status)).toEqual([503, 503, 200]);
    expect(exchanges.every((e) => !e.url.includes("hunter2"))).toBe(true);
  });

  it("fails with a registry error carrying status and a non-JSON body, after the retries", async () => {
    const broken = await server((_req, res) =>
      res.writeHead(502, { "content-type": "text/html" }).end("<html><h1>Bad Gateway</h1></html>"),
    );
    const error = await client({ retries: 1 })
      .send({ method: "GET", url: `${broken.url}/v2/` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryResponseError);
    expect(error).toMatchObject({ kind: "registry", status: 502, registryMessage: "Bad Gateway" });
    expect(broken.requests).toHaveLength(2);
  });

  it("caps an enormous error body", async () => {
    const huge = await server((_req, res) => res.writeHead(500).end("x".repeat(5 * 1024 * 1024)));
    const error = (await client()
      .send({ method: "GET", url: `${huge.url}/` })
      .catch((e: unknown) => e)) as RegistryResponseError;
    expect(error.status).toBe(500);
    expect(error.message.length).toBeLessThan(1_000);
  });

  it("honours a short Retry-After on 429, then fails rate-limited when it asks too long", async () => {
    let calls = 0;
    const limited = await server((_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429, { "retry-after": "0" }).end();
      else if (calls === 2) res.end("ok");
      else res.writeHead(429, { "retry-after": "3600" }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
    });
    const http = client({ retries: 2 });
    expect((await http.send({ method: "GET", url: `${limited.url}/a` })).status).toBe(200);
    const started = Date.now();
    const error = await http.send({ method: "GET", url: `${limited.url}/b` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "rate-limited", status: 429, codes: ["TOOMANYREQUESTS"] });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("returns 4xx answers to the caller instead of throwing", async () => {
    const denied = await server((_req, res) =>
      res.writeHead(401, { "www-authenticate": ['Basic realm="a"', 'Bearer realm="https://x/t"'] }).end(),
    );
    const response = await client().send({ method: "GET", url: `${denied.url}/v2/` });
    expect(response.status).toBe(401);
    expect(response.headerValues("WWW-Authenticate")).toEqual(['Basic realm="a"', 'Bearer realm="https://x/t"']);
    response.body.destroy();
  });

  it("times out an idle server as a network error, keeping the cause", async () => {
    const silent = await server(() => undefined);
    const error = await client({ idleTimeoutMs: 200 })
      .send({ method: "GET", url: `${silent.url}/v2/` })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "network" });
    expect((error as Error).message).toMatch(/ETIMEDOUT: no response headers/);
    expect((error as Error).cause).toBeDefined();
  });

  it("reports a closed port as a network error without retrying", async () => {
    const gone = await server(() => undefined);
    await gone.close();
    servers.splice(servers.indexOf(gone), 1);
    const exchanges: Exchange[] = [];
    const error = await client({ retries: 3, onExchange: (e) => exchanges.push(e) })
      .send({ method: "GET", url: `${gone.url}/v2/` })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "network" });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(exchanges).toHaveLength(1);
  });
});

describe("HttpClient cancelling", () => {
  it("gives up a request whose answer has not come, with the signal's reason, and tries no more", async () => {
    // Headers never come: only the signal can end the exchange.
    const registry = await server(() => undefined);
    const controller = new AbortController();
    const reason = new Error("the caller gave up");
    setTimeout(() => controller.abort(reason), 50);
    const error = await client({ retries: 2 })
      .send({ method: "GET", url: `${registry.url}/v2/`, signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(registry.requests).toHaveLength(1);
  });

  it("stops a body being read", async () => {
    const registry = await server((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write("x".repeat(10)); // and nothing more
    });
    const controller = new AbortController();
    const response = await client().send({ method: "GET", url: `${registry.url}/v2/`, signal: controller.signal });
    controller.abort(new Error("the caller gave up"));
    const error = await text(response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
  });
});
