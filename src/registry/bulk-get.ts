/**
 * GETs and HEADs on direct routes, read without Node's HTTP client.
 *
 * Why: node:http copies every body chunk out of the socket's read buffer and
 * allocates a fresh 64 KiB buffer per read, so a 256 MiB blob costs ~8,000
 * allocations, a copy of every byte and ~30 MB of garbage awaiting GC. Here the
 * socket reads (`onread`) straight into the buffers the file writer hands out
 * (`BulkBody.readInto`): no copy, no allocation, reads as large as the buffer.
 * Measured on a 256 MiB / 4-layer pull: see bench row 1 and the commit message.
 * Pings, tokens and manifests come here too: a short command then never loads
 * node:http (~7 ms of its start-up), and they share kept-alive connections with blobs.
 *
 * http.ts decides what comes here; redirects, retries, auth, proxies and request
 * bodies stay there (the last two on node:http).
 */
import { connect as netConnect, isIP, type OnReadOpts, type Socket } from "node:net";
import type { ConnectionOptions, connect as tlsConnect } from "node:tls";
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

/** How to open TLS to an https origin: node:tls's connect, loaded with the origin's route (so a plain-HTTP run never loads it), and its trust. */
export interface BulkTls {
  readonly connect: typeof tlsConnect;
  readonly options: ConnectionOptions;
}

export interface BulkGetRequest {
  /** Default GET. A HEAD's answer has no body, whatever its Content-Length says. */
  readonly method?: "GET" | "HEAD" | undefined;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** For an https URL: how to connect, with its trust (CAs, client certificate, verification). */
  readonly tls: BulkTls | undefined;
  readonly connectTimeoutMs: number;
  /** Longest silence while waiting for the head or between body bytes. */
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** Where connections are kept alive between blobs of the same origin; none: one connection per GET. */
  readonly pool?: BulkPool | undefined;
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
 * Node asks for the next read's buffer even as the read before it pauses the socket. A sink that
 * said stop is not asked for one (it would sit idle, a whole batch, until the sink reads on): that
 * read goes here and is copied into the sink's buffer once it resumes. One for every body of the
 * process: a read and the callback that copies it out run with nothing in between.
 */
const STAND_IN = Buffer.allocUnsafe(HEAD_READ_BYTES);
/** An idle kept-alive connection is closed after this long (Go's transport keeps them 90 s). */
const POOL_IDLE_MS = 30_000;
/** Idle connections kept per origin: as many as blobs are fetched at once by default, and some. */
const POOL_PER_ORIGIN = 8;

/**
 * Send `GET url` and resolve with the response head; the body waits, unread, until it
 * is consumed as a stream or with `readInto`. A kept-alive connection from `pool` is
 * reused when there is one; a body read to its exact end gives its connection back.
 *
 * @example
 * const { status, body } = await bulkGet({ url, headers: {}, tls: undefined, connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, signal: undefined });
 */
export function bulkGet(request: BulkGetRequest): Promise<BulkResponse> {
  return new Promise((resolve, reject) => {
    const requestText = requestHead(request.method ?? "GET", request.url, request.headers, request.pool !== undefined);
    request.signal?.throwIfAborted();
    const key = originKey(request.url);
    const connection = request.pool?.take(key) ?? new BulkConnection(request.url, request.tls, request.connectTimeoutMs, key);
    connection.start(new Exchange(request, connection, resolve, reject), requestText);
  });
}

/** Kept-alive bulk connections by origin; one per HttpClient, destroyed with it. */
export class BulkPool {
  readonly #idle = new Map<string, BulkConnection[]>();

  /** @internal A live idle connection to `key`'s origin, if one is kept. */
  take(key: string): BulkConnection | undefined {
    const idle = this.#idle.get(key);
    for (let connection = idle?.pop(); connection; connection = idle?.pop()) if (connection.usable) return connection;
    return undefined;
  }

  /** @internal Keep `connection` for the next GET to its origin. */
  keep(connection: BulkConnection): void {
    const idle = this.#idle.get(connection.key) ?? [];
    if (idle.length >= POOL_PER_ORIGIN || !connection.usable) return connection.destroy();
    idle.push(connection);
    this.#idle.set(connection.key, idle);
    connection.idle(() => idle.splice(idle.indexOf(connection) >>> 0, 1));
  }

  destroy(): void {
    for (const idle of this.#idle.values()) for (const connection of idle.splice(0)) connection.destroy();
  }
}

function originKey(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** What reads from and events of a connection go to while a GET uses it. */
interface ExchangeEvents {
  nextReadBuffer(): Buffer;
  onRead(count: number, buffer: Buffer): boolean;
  onError(error: Error): void;
  onEnd(): void;
  onTimeout(): void;
}

/** @internal One socket, used by one GET at a time and kept in a pool between them. */
export class BulkConnection {
  readonly key: string;
  readonly #socket: Socket;
  #exchange: ExchangeEvents | undefined;
  #leavePool: (() => void) | undefined;
  readonly #headBuffer = Buffer.allocUnsafe(HEAD_READ_BYTES);

  constructor(url: URL, tls: BulkTls | undefined, connectTimeoutMs: number, key: string) {
    this.key = key;
    const onread: OnReadOpts = {
      buffer: () => this.#exchange?.nextReadBuffer() ?? this.#headBuffer,
      // The buffer is always one handed out above: a Buffer, whatever the type says. Bytes
      // while idle break the protocol: such a connection is not used again.
      callback: (count, buffer) => this.#exchange?.onRead(count, buffer as Buffer) ?? (this.destroy(), false),
    };
    this.#socket = connectTo(url, tls, onread);
    const timer = setTimeout(
      () => this.#exchange?.onError(timeoutError(`could not connect to ${url.host} within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    this.#socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(timer));
    this.#socket.once("close", () => {
      clearTimeout(timer);
      this.#leavePool?.();
      this.#exchange?.onEnd();
    });
    this.#socket.on("error", (error) => this.#exchange?.onError(error));
    this.#socket.on("end", () => this.#exchange?.onEnd());
    this.#socket.on("timeout", () => (this.#exchange ? this.#exchange.onTimeout() : this.destroy()));
  }

  /** Open, and not half-closed by the peer: worth sending a request on. */
  get usable(): boolean {
    return !this.#socket.destroyed && this.#socket.readable && this.#socket.writable;
  }

  /** @internal */
  get socket(): Socket {
    return this.#socket;
  }

  start(exchange: ExchangeEvents & { readonly idleTimeoutMs: number }, requestText: string): void {
    this.#leavePool = undefined;
    this.#exchange = exchange;
    this.#socket.ref();
    this.#socket.setTimeout(exchange.idleTimeoutMs);
    this.#socket.write(requestText);
    this.#socket.resume();
  }

  /** The GET is over: back to the pool when the body ended exactly where the framing said, else closed. */
  release(reusable: boolean, pool: BulkPool | undefined): void {
    this.#exchange = undefined;
    if (reusable && pool !== undefined) pool.keep(this);
    else this.destroy();
  }

  /** @internal Idle in the pool: it holds the process open no longer, and closes itself after a while. */
  idle(leave: () => void): void {
    this.#leavePool = leave;
    this.#socket.unref();
    this.#socket.setTimeout(POOL_IDLE_MS);
    // Reading while idle is how a close by the server is noticed; after the read that ended
    // the last body, which stops reading when it returns.
    setImmediate(() => {
      if (this.#leavePool !== undefined && !this.#socket.destroyed) this.#socket.resume();
    });
  }

  destroy(): void {
    this.#exchange = undefined;
    this.#socket.destroy();
  }

  /** @internal The buffer the head is read into. */
  headBuffer(): Buffer {
    return this.#headBuffer;
  }
}

/** One GET on a connection: reading the head, then handing reads to the body. */
class Exchange implements ExchangeEvents {
  readonly idleTimeoutMs: number;
  readonly #request: BulkGetRequest;
  readonly #connection: BulkConnection;
  readonly #resolve: (response: BulkResponse) => void;
  readonly #reject: (error: Error) => void;
  #head = "";
  #body: BulkBody | undefined;
  #over = false;
  readonly #aborted = (): void => this.onError(abortReason(this.#request.signal));

  /** @internal Its connection is internal: only bulkGet makes one. */
  constructor(
    request: BulkGetRequest,
    connection: BulkConnection,
    resolve: (response: BulkResponse) => void,
    reject: (error: Error) => void,
  ) {
    this.#request = request;
    this.idleTimeoutMs = request.idleTimeoutMs;
    this.#connection = connection;
    this.#resolve = resolve;
    this.#reject = reject;
    request.signal?.addEventListener("abort", this.#aborted, { once: true });
  }

  nextReadBuffer(): Buffer {
    return this.#body?.nextReadBuffer() ?? this.#connection.headBuffer();
  }

  onRead(count: number, buffer: Buffer): boolean {
    if (this.#body) return this.#body.onSocketRead(count, buffer);
    this.#head += buffer.toString("latin1", 0, count);
    for (;;) {
      const end = this.#head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (this.#head.length > MAX_HEAD_BYTES)
          this.onError(new MalformedResponseError(`a response head longer than ${MAX_HEAD_BYTES} bytes`));
        return this.#head.length <= MAX_HEAD_BYTES;
      }
      let head;
      try {
        head = parseResponseHead(this.#head.slice(0, end), this.#request.method ?? "GET");
      } catch (error) {
        this.onError(error as Error);
        return false;
      }
      this.#head = this.#head.slice(end + 4);
      if (head.status < 200) continue; // 100 Continue, 103 Early Hints: the answer comes after
      this.#body = new BulkBody(this, head.framing, Buffer.from(this.#head, "latin1"), this.#request.pool !== undefined && head.keepAlive);
      this.#resolve({ status: head.status, headers: head.headers, body: this.#body });
      return false; // not read on until the body is consumed
    }
  }

  onError(error: Error): void {
    if (this.#over) return;
    if (this.#body) return void this.#body.destroy(error);
    this.#end(false);
    this.#reject(error);
  }

  onEnd(): void {
    if (this.#over) return;
    if (this.#body) return this.#body.sourceEnded();
    // Closed before a whole head: what Node's client calls a hang-up (a kept-alive connection the server had closed, too).
    this.onError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
  }

  onTimeout(): void {
    const { host } = this.#request.url;
    const ms = this.idleTimeoutMs;
    this.onError(timeoutError(this.#body ? `no body bytes from ${host} for ${ms} ms` : `no response headers from ${host} within ${ms} ms`));
  }

  /** @internal For the body: read on. */
  resume(): void {
    if (!this.#over) this.#connection.socket.resume();
  }

  /** @internal For the body: it is over, whole (`reusable` when its end was exact) or not. */
  finish(reusable: boolean): void {
    this.#end(reusable);
  }

  #end(reusable: boolean): void {
    if (this.#over) return;
    this.#over = true;
    this.#request.signal?.removeEventListener("abort", this.#aborted);
    this.#connection.release(reusable, this.#request.pool);
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error("aborted");
}

function connectTo(url: URL, tls: BulkTls | undefined, onread: OnReadOpts): Socket {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "https:") return netConnect({ host, port: Number(url.port || 80), onread });
  if (tls === undefined) throw new Error(`bulkGet: no TLS settings for ${url.host}`);
  return tls.connect({
    ...tls.options,
    host,
    port: Number(url.port || 443),
    // SNI names a host, never an address (RFC 6066).
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ALPNProtocols: ["http/1.1"],
    onread,
  } as ConnectionOptions);
}

/** The request head; field values come from pullback itself, but a line break in one would split the request. */
function requestHead(method: string, url: URL, headers: Readonly<Record<string, string>>, keepAlive: boolean): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n\0]/.test(name + value))
      throw Object.assign(new TypeError(`invalid character in header ${name}`), { code: "ERR_INVALID_CHAR" });
    lines.push(`${name}: ${value}`);
  }
  lines.push(keepAlive ? "Connection: keep-alive" : "Connection: close");
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
  readonly #source: Exchange;
  readonly #framing: BodyFraming;
  /** The connection may serve another GET once this body has ended exactly where its framing says. */
  #reusable: boolean;
  readonly #decoder: ChunkedDecoder | undefined;
  #received = 0;
  #complete = false;
  /** Body bytes that came with the head, delivered first. */
  #early: Buffer | undefined;
  #sink: BodySink | undefined;
  #lastSpace: Buffer | undefined;
  /** The sink said stop and has not resumed reading. */
  #sinkStopped = false;

  /** @internal Made by the GET it answers (its connection is internal). */
  constructor(source: Exchange, framing: BodyFraming, early: Buffer, keepAlive: boolean) {
    super();
    this.#source = source;
    this.#framing = framing;
    this.#reusable = keepAlive && (framing.type === "length" || framing.type === "none");
    this.#decoder = framing.type === "chunked" ? new ChunkedDecoder() : undefined;
    this.#early = early.length > 0 ? early : undefined;
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
    this.#sinkStopped = false;
    if (!this.destroyed && !this.#complete) this.#source.resume();
    return this;
  }

  override _read(): void {
    if (this.#sink !== undefined) return; // read into the sink, not emitted
    const early = this.#early;
    this.#early = undefined;
    if (early && !this.#accept(early, early.length)) return;
    if (!this.#complete) this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#source.finish(false);
    callback(error);
  }

  /** @internal The connection ended (or closed): the end of a close-delimited body, else a break. */
  sourceEnded(): void {
    if (this.#complete) return;
    if (this.#framing.type === "close") this.#finish();
    else this.destroy(Object.assign(new Error("the connection closed before the end of the body"), { code: "ECONNRESET" }));
  }

  /** @internal The buffer for the socket's next read. */
  nextReadBuffer(): Buffer {
    if (this.#sink === undefined) return Buffer.allocUnsafe(STREAM_READ_BYTES);
    return this.#sinkStopped ? STAND_IN : this.#sinkSpace(this.#sink);
  }

  #sinkSpace(sink: BodySink): Buffer {
    this.#lastSpace = sink.space();
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
    if (this.#framing.type === "length") {
      length = Math.min(count, this.#framing.length - this.#received);
      if (length < count) this.#reusable = false; // bytes past the end: the connection is out of step
    } else if (this.#decoder) {
      try {
        length = this.#decoder.decode(buffer, 0, count);
      } catch (error) {
        this.destroy(error as Error);
        return false;
      }
    }
    this.#received += length;
    const more = length === 0 || (this.#sink ? this.#sink.arrived(length) : this.push(buffer.subarray(0, length)));
    if (this.#sink) this.#sinkStopped = !more;
    const ended = this.#framing.type === "length" ? this.#received >= this.#framing.length : this.#decoder?.done === true;
    if (ended) this.#finish();
    return more && !ended;
  }

  /** Copy `chunk` into the sink's buffers; false when the sink asked to stop reading. */
  #copyToSink(chunk: Buffer): boolean {
    const sink = this.#sink!;
    let more = true;
    for (let at = 0; at < chunk.length && !this.#complete && !this.destroyed;) {
      const space = this.#sinkSpace(sink);
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
    this.#source.finish(this.#reusable);
    if (this.#sink) this.#sink.end();
    else this.push(null);
  }
}
