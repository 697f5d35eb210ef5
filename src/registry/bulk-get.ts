/**
 * A blob GET on a connection of its own, read without Node's HTTP client.
 *
 * Why: node:http copies every body chunk out of the socket's read buffer and
 * allocates a fresh 64 KiB buffer per read, so a 256 MiB blob costs ~8,000
 * allocations, a copy of every byte and ~30 MB of garbage awaiting GC. Here the
 * socket reads (`onread`) straight into the buffers the file writer hands out
 * (`BulkBody.readInto`): no copy, no allocation, reads as large as the buffer.
 * Measured on a 256 MiB / 4-layer pull: see bench row 1 and the commit message.
 *
 * Only GETs on direct routes come here (http.ts decides); the rest of HTTP —
 * redirects, retries, auth, proxies — stays in http.ts and node:http.
 */
import { connect as netConnect, isIP, type OnReadOpts, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { Readable } from "node:stream";
import { ChunkedDecoder } from "./chunked-decoder.js";
import { MAX_HEAD_BYTES, MalformedResponseError, parseResponseHead, type BodyFraming } from "./response-head.js";

/** Where a body is read to when its reader asks for it (`BulkBody.readInto`). */
export interface BodySink {
  /** The buffer the next bytes go to; left untouched by the sink until `arrived` is called for it. */
  space(): Buffer;
  /** `count` body bytes now start the buffer `space()` last returned. False: stop reading until `resume()`. */
  arrived(count: number): boolean;
  /** The whole body has arrived. */
  end(): void;
}

export interface BulkGetRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Trust for an https URL (CAs, client certificate, verification). */
  readonly tls: ConnectionOptions | undefined;
  readonly connectTimeoutMs: number;
  /** Longest silence while waiting for the head or between body bytes. */
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

export interface BulkResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: BulkBody;
}

/** Reads from the socket into fresh buffers of this size when the body is consumed as a stream. */
const STREAM_READ_BYTES = 64 * 1024;
/** The head is read in pieces of this size. */
const HEAD_READ_BYTES = 16 * 1024;

/**
 * Send `GET url` on a new connection and resolve with the response head; the body
 * waits, unread, until it is consumed as a stream or with `readInto`.
 *
 * @example
 * const { status, body } = await bulkGet({ url, headers: {}, tls: undefined, connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, signal: undefined });
 */
export function bulkGet(request: BulkGetRequest): Promise<BulkResponse> {
  return new Promise((resolve, reject) => {
    const { url, signal } = request;
    const requestText = requestHead(url, request.headers);
    let head = "";
    let body: BulkBody | undefined;
    const headBuffer = Buffer.allocUnsafe(HEAD_READ_BYTES);
    const onread: OnReadOpts = {
      buffer: () => body?.nextReadBuffer() ?? headBuffer,
      // The buffer is always one handed out above: a Buffer, whatever the type says.
      callback: (count, buffer) => (body ? body.onSocketRead(count, buffer as Buffer) : readHead(headBuffer.toString("latin1", 0, count))),
    };
    const socket = connectTo(url, request.tls, onread);
    const fail = (error: Error): void => {
      if (body) body.destroy(error);
      else {
        socket.destroy();
        reject(error);
      }
    };
    const readHead = (text: string): boolean => {
      head += text;
      for (;;) {
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_HEAD_BYTES) fail(new MalformedResponseError(`a response head longer than ${MAX_HEAD_BYTES} bytes`));
          return true;
        }
        let parsed;
        try {
          parsed = parseResponseHead(head.slice(0, end), "GET");
        } catch (error) {
          fail(error as Error);
          return false;
        }
        head = head.slice(end + 4);
        if (parsed.status < 200) continue; // 100 Continue, 103 Early Hints: the answer comes after
        body = new BulkBody(socket, parsed.framing, Buffer.from(head, "latin1"));
        resolve({ status: parsed.status, headers: parsed.headers, body });
        return false; // not read on until the body is consumed
      }
    };
    const aborted = (): void => fail(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    if (signal?.aborted) return aborted();
    signal?.addEventListener("abort", aborted, { once: true });
    socket.once("close", () => signal?.removeEventListener("abort", aborted));
    const connectTimer = setTimeout(
      () => fail(timeoutError(`could not connect to ${url.host} within ${request.connectTimeoutMs} ms`)),
      request.connectTimeoutMs,
    );
    socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
    socket.once("close", () => clearTimeout(connectTimer));
    socket.setTimeout(request.idleTimeoutMs, () =>
      fail(
        timeoutError(
          body
            ? `no body bytes from ${url.host} for ${request.idleTimeoutMs} ms`
            : `no response headers from ${url.host} within ${request.idleTimeoutMs} ms`,
        ),
      ),
    );
    socket.on("error", (error) => fail(error));
    // Closed before a whole head: what Node's client calls a hang-up.
    socket.once("end", () => {
      if (!body) fail(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    });
    socket.write(requestText);
  });
}

function connectTo(url: URL, tls: ConnectionOptions | undefined, onread: OnReadOpts): Socket {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "https:") return netConnect({ host, port: Number(url.port || 80), onread });
  return tlsConnect({
    ...tls,
    host,
    port: Number(url.port || 443),
    // SNI names a host, never an address (RFC 6066).
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ALPNProtocols: ["http/1.1"],
    onread,
  } as ConnectionOptions);
}

/** The request head; field values come from pullback itself, but a line break in one would split the request. */
function requestHead(url: URL, headers: Readonly<Record<string, string>>): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n\0]/.test(name + value))
      throw Object.assign(new TypeError(`invalid character in header ${name}`), { code: "ERR_INVALID_CHAR" });
    lines.push(`${name}: ${value}`);
  }
  // One blob per connection: nothing to keep alive, and the end of the body is never ambiguous.
  lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** A timeout as a transport error with the code Node gives its own (retryable, classified `network`). */
function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: "ETIMEDOUT" });
}

/**
 * A response body read from its socket: an ordinary Readable for whoever reads it as a
 * stream, or — after `readInto` — bytes placed straight into a sink's buffers.
 */
export class BulkBody extends Readable {
  readonly #socket: Socket;
  readonly #framing: BodyFraming;
  readonly #decoder: ChunkedDecoder | undefined;
  #received = 0;
  #complete = false;
  /** Body bytes that came with the head, delivered first. */
  #early: Buffer | undefined;
  #sink: BodySink | undefined;
  #lastSpace: Buffer | undefined;

  constructor(socket: Socket, framing: BodyFraming, early: Buffer) {
    super();
    this.#socket = socket;
    this.#framing = framing;
    this.#decoder = framing.type === "chunked" ? new ChunkedDecoder() : undefined;
    this.#early = early.length > 0 ? early : undefined;
    socket.once("end", () => {
      if (this.#complete) return;
      if (this.#framing.type === "close") this.#finish();
      else this.destroy(Object.assign(new Error("the connection closed before the end of the body"), { code: "ECONNRESET" }));
    });
    socket.once("close", () => {
      if (!this.#complete)
        this.destroy(Object.assign(new Error("the connection closed before the end of the body"), { code: "ECONNRESET" }));
    });
    if (framing.type === "none" || (framing.type === "length" && framing.length === 0)) this.#finish();
  }

  /**
   * Read the rest of the body into `sink`'s buffers instead of emitting it. Errors still
   * destroy the body (listen for `error`/`close`); the sink hears of the end.
   */
  readInto(sink: BodySink): void {
    this.#sink = sink;
    const completeBefore = this.#complete;
    // Whatever was read before (the head's tail, stream reads nobody took) is copied over once.
    let more = true;
    for (let chunk = this.#takeEarly(); chunk !== undefined; chunk = this.#takeEarly()) more = this.#copyToSink(chunk) && more;
    if (completeBefore) sink.end();
    else if (more) this.resume();
  }

  /** Read on after the sink said stop. */
  override resume(): this {
    if (this.#sink === undefined) return super.resume();
    if (!this.destroyed && !this.#complete) this.#socket.resume();
    return this;
  }

  override _read(): void {
    if (this.#sink !== undefined) return; // read into the sink, not emitted
    const early = this.#early;
    this.#early = undefined;
    if (early && !this.#accept(early, early.length)) return;
    if (!this.#complete) this.#socket.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }

  /** @internal The buffer for the socket's next read. */
  nextReadBuffer(): Buffer {
    if (this.#sink === undefined) return Buffer.allocUnsafe(STREAM_READ_BYTES);
    this.#lastSpace = this.#sink.space();
    return this.#lastSpace;
  }

  /** @internal `count` bytes were read into `buffer`; false pauses the socket. */
  onSocketRead(count: number, buffer: Buffer): boolean {
    if (this.#complete || this.destroyed) return false;
    // Read into a buffer given out before the sink came: its bytes are copied into the sink's.
    if (this.#sink !== undefined && buffer !== this.#lastSpace) return this.#copyToSink(buffer.subarray(0, count));
    return this.#accept(buffer, count);
  }

  /** Unframe `buffer[0, count)` in place and pass the body bytes on; false: stop reading for now. */
  #accept(buffer: Buffer, count: number): boolean {
    let length = count;
    if (this.#framing.type === "length") length = Math.min(count, this.#framing.length - this.#received);
    else if (this.#decoder) {
      try {
        length = this.#decoder.decode(buffer, 0, count);
      } catch (error) {
        this.destroy(error as Error);
        return false;
      }
    }
    this.#received += length;
    const more = length === 0 || (this.#sink ? this.#sink.arrived(length) : this.push(buffer.subarray(0, length)));
    const ended = this.#framing.type === "length" ? this.#received >= this.#framing.length : this.#decoder?.done === true;
    if (ended) this.#finish();
    return more && !ended;
  }

  /** Copy `chunk` into the sink's buffers; false when the sink asked to stop reading. */
  #copyToSink(chunk: Buffer): boolean {
    let more = true;
    for (let at = 0; at < chunk.length && !this.#complete && !this.destroyed;) {
      const space = this.nextReadBuffer();
      const count = Math.min(space.length, chunk.length - at);
      chunk.copy(space, 0, at, at + count);
      at += count;
      more = this.#accept(space, count);
    }
    return more && !this.#complete;
  }

  #takeEarly(): Buffer | undefined {
    const early = this.#early;
    this.#early = undefined;
    if (early !== undefined) return early;
    const buffered: unknown = super.read();
    return buffered instanceof Buffer ? buffered : undefined;
  }

  #finish(): void {
    if (this.#complete) return;
    this.#complete = true;
    this.#socket.destroy();
    if (this.#sink) this.#sink.end();
    else this.push(null);
  }
}
