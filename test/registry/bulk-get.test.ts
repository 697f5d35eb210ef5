/**
 * The blob GET that reads into the writer's buffers: framing, bytes that arrive with
 * the head, and breaks — against raw TCP servers that answer byte for byte as told.
 * (Pulls over it are proven against the world: fault matrix, TLS world, pull tests.)
 */
import { createServer, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BulkPool, bulkGet, type BodySink, type BulkResponse } from "../../src/registry/bulk-get.js";
import { ChunkedDecoder } from "../../src/registry/chunked-decoder.js";
import { parseResponseHead } from "../../src/registry/response-head.js";

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server that writes `pieces` one by one (a pause between them), then ends unless told not to. */
async function rawServer(pieces: readonly (string | Buffer)[], options: { end?: boolean; requests?: string[] } = {}): Promise<URL> {
  const server = createServer((socket: Socket) => {
    socket.once("data", (request: Buffer) => {
      options.requests?.push(request.toString("latin1"));
      void answer(socket, pieces, options.end !== false);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/app/blobs/sha256:abc?x=1`);
}

async function answer(socket: Socket, pieces: readonly (string | Buffer)[], end: boolean): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (end) socket.end();
  else socket.destroy();
}

function get(url: URL, headers: Record<string, string> = {}, signal?: AbortSignal, pool?: BulkPool): Promise<BulkResponse> {
  return bulkGet({ url, headers, tls: undefined, connectTimeoutMs: 2000, idleTimeoutMs: 2000, signal, pool });
}

/** A keep-alive server answering each request with `body`; counts connections and requests; closes idle ones after `closeIdleMs`. */
async function keepAliveServer(body: string, closeIdleMs?: number): Promise<{ url: URL; connections: number; requests: number }> {
  const counts = { url: new URL("http://127.0.0.1/"), connections: 0, requests: 0 };
  const server = createServer((socket: Socket) => {
    counts.connections++;
    let pending = "";
    socket.on("data", (data: Buffer) => {
      pending += data.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        pending = pending.slice(end + 4);
        counts.requests++;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        if (closeIdleMs !== undefined) setTimeout(() => socket.end(), closeIdleMs);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  counts.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/app/blobs/sha256:abc`);
  return counts;
}

async function asStream(response: BulkResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("latin1");
}

/** Read with `readInto`, into small buffers the test owns; resolves with the text or rejects with the body's error. */
function intoSink(response: BulkResponse, bufferSize = 7): Promise<{ text: string; buffers: number }> {
  return new Promise((resolve, reject) => {
    let text = "";
    let buffers = 0;
    let last = Buffer.alloc(0);
    const sink: BodySink = {
      space: () => {
        buffers++;
        last = Buffer.alloc(bufferSize);
        return last;
      },
      arrived: (count) => {
        text += last.toString("latin1", 0, count);
        return true;
      },
      end: () => resolve({ text, buffers }),
    };
    response.body.once("error", reject);
    response.body.readInto(sink);
  });
}

const head = (fields: string): string => `HTTP/1.1 200 OK\r\n${fields}\r\n\r\n`;

describe("bulkGet", () => {
  it("sends a GET with its headers and Connection: close, and reads a Content-Length body as a stream", async () => {
    const requests: string[] = [];
    const url = await rawServer([head("Content-Length: 11\r\nX-Two: a\r\nx-two: b"), "hello", " world", "ignored extra"], { requests });
    const response = await get(url, { authorization: "Bearer t", range: "bytes=3-" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-two")).toEqual(["a", "b"]);
    expect(await asStream(response)).toBe("hello world");
    expect(requests[0]).toBe(
      `GET /v2/app/blobs/sha256:abc?x=1 HTTP/1.1\r\nHost: ${url.host}\r\nauthorization: Bearer t\r\nrange: bytes=3-\r\nConnection: close\r\n\r\n`,
    );
  });

  it("puts bytes that came with the head, and the rest, into the sink's buffers", async () => {
    const url = await rawServer([head("Content-Length: 26") + "abcdefghij", "klmnopqrstuvwxyz"]);
    const { text, buffers } = await intoSink(await get(url));
    expect(text).toBe("abcdefghijklmnopqrstuvwxyz");
    expect(buffers).toBeGreaterThan(3); // 7-byte buffers: the body really went through the sink's
  });

  it("undoes chunked framing split anywhere, in both modes", async () => {
    const body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    const pieces = [head("Transfer-Encoding: chunked"), ...body.match(/.{1,3}/gs)!];
    expect(await asStream(await get(await rawServer(pieces)))).toBe("hello world");
    expect((await intoSink(await get(await rawServer(pieces)))).text).toBe("hello world");
  });

  it("reads to the close when the response names no length", async () => {
    const url = await rawServer([head("Server: old"), "until ", "the end"]);
    expect((await intoSink(await get(url))).text).toBe("until the end");
  });

  it("skips a 100 Continue and answers the final status", async () => {
    const url = await rawServer(["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"]);
    const response = await get(url);
    expect(response.status).toBe(404);
    expect(await asStream(response)).toBe("no");
  });

  it("fails the body with ECONNRESET when the connection closes before Content-Length is reached", async () => {
    const url = await rawServer([head("Content-Length: 100"), "only this"], { end: false });
    await expect(intoSink(await get(url))).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("rejects a hang-up before the head and a response that is not HTTP", async () => {
    await expect(get(await rawServer(["HTTP/1.1 200"]))).rejects.toMatchObject({ code: "ECONNRESET", message: "socket hang up" });
    await expect(get(await rawServer(["SSH-2.0-OpenSSH\r\n\r\n"]))).rejects.toMatchObject({ code: "HPE_INVALID_RESPONSE" });
    await expect(get(await rawServer([head("Content-Length: 1\r\nContent-Length: 2")]))).rejects.toThrow(/Content-Length/);
  });

  it("gives up when the signal fires, with its reason", async () => {
    const url = await rawServer([head("Content-Length: 100"), "slow"], { end: false });
    const controller = new AbortController();
    const response = await get(url, {}, controller.signal);
    const reading = intoSink(response);
    controller.abort(new Error("stop now"));
    await expect(reading).rejects.toThrow("stop now");
  });

  it("refuses a header value that would split the request", async () => {
    const url = await rawServer([head("Content-Length: 0")]);
    await expect(get(url, { range: "bytes=1-\r\nEvil: 1" })).rejects.toMatchObject({ code: "ERR_INVALID_CHAR" });
  });
});

describe("bulkGet with a pool", () => {
  it("sends GETs one after another on one kept-alive connection", async () => {
    const server = await keepAliveServer("layer bytes");
    const pool = new BulkPool();
    try {
      for (let i = 0; i < 3; i++) expect((await intoSink(await get(server.url, {}, undefined, pool))).text).toBe("layer bytes");
      expect(await asStream(await get(server.url, {}, undefined, pool))).toBe("layer bytes");
      expect(server).toMatchObject({ connections: 1, requests: 4 });
    } finally {
      pool.destroy();
    }
  });

  it("notices a kept-alive connection the server closed, and opens a new one", async () => {
    const server = await keepAliveServer("x", 10);
    const pool = new BulkPool();
    try {
      expect((await intoSink(await get(server.url, {}, undefined, pool))).text).toBe("x");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await intoSink(await get(server.url, {}, undefined, pool))).text).toBe("x");
      expect(server).toMatchObject({ connections: 2, requests: 2 });
    } finally {
      pool.destroy();
    }
  });

  it("does not keep a connection whose body broke off", async () => {
    const requests: string[] = [];
    const url = await rawServer([head("Content-Length: 100"), "short"], { end: false, requests });
    const pool = new BulkPool();
    await expect(intoSink(await get(url, {}, undefined, pool))).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(pool.take(`http://${url.host}`)).toBeUndefined();
    expect(requests[0]).toContain("Connection: keep-alive");
  });
});

describe("parseResponseHead and ChunkedDecoder", () => {
  it("chooses the framing the way RFC 9112 orders it", () => {
    expect(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 5, 5", "GET").framing).toEqual({ type: "length", length: 5 });
    expect(parseResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5", "GET").framing).toEqual({
      type: "chunked",
    });
    expect(parseResponseHead("HTTP/1.0 204 No Content", "GET").framing).toEqual({ type: "none" });
    expect(parseResponseHead("HTTP/1.0 200 OK\r\nContent-Length: 1", "GET").keepAlive).toBe(false);
    expect(parseResponseHead("HTTP/1.0 200 OK\r\nConnection: Keep-Alive", "GET").keepAlive).toBe(true);
    expect(parseResponseHead("HTTP/1.1 200 OK\r\nConnection: close", "GET").keepAlive).toBe(false);
    expect(parseResponseHead("HTTP/1.1 200 OK", "GET").keepAlive).toBe(true);
    expect(() => parseResponseHead("HTTP/1.1 200 OK\r\n folded", "GET")).toThrow(/not a header field/);
  });

  it("decodes in place and stops at the last chunk", () => {
    const decoder = new ChunkedDecoder();
    const buffer = Buffer.from("3\r\nabc\r\n0\r\n\r\nafter");
    const end = decoder.decode(buffer, 0, buffer.length);
    expect(buffer.toString("latin1", 0, end)).toBe("abc");
    expect(decoder.done).toBe(true);
    expect(() => new ChunkedDecoder().decode(Buffer.from("zz\r\n"), 0, 4)).toThrow(/without a size/);
    expect(() => new ChunkedDecoder().decode(Buffer.from("1\r\nab"), 0, 5)).toThrow(/CRLF/);
  });
});
