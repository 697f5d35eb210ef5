/**
 * The head of an HTTP/1.1 response — status line and header fields — as a blob
 * GET on its own connection reads it (see bulk-get.ts). Strict where leniency
 * would let a body be misread: one Content-Length, no folded lines.
 */

/** How the body that follows the head is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { readonly type: "length"; readonly length: number }
  | { readonly type: "chunked" }
  | { readonly type: "close" }
  | { readonly type: "none" };

export interface ResponseHead {
  readonly status: number;
  /** Lower-cased names, every value in the order it came. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly framing: BodyFraming;
  /** The server will take another request on this connection (HTTP/1.1 unless it says close; 1.0 only if it says keep-alive). */
  readonly keepAlive: boolean;
}

/** A head larger than this is refused (Node's own limit is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;

/** A response that is not HTTP/1.x as we can read it; code as Node's parser names such errors. */
export class MalformedResponseError extends Error {
  override readonly name = "MalformedResponseError";
  readonly code = "HPE_INVALID_RESPONSE";
}

/**
 * Parse a head (everything before the blank line, without it).
 *
 * @example
 * parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 5", "GET").framing // → { type: "length", length: 5 }
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const lines = text.split("\r\n");
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
  if (!statusLine?.[1] || !statusLine[2])
    throw new MalformedResponseError(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  const status = Number(statusLine[2]);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const field = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!field?.[1] || field[2] === undefined) throw new MalformedResponseError(`not a header field: ${JSON.stringify(line.slice(0, 80))}`);
    const name = field[1].toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), field[2]]);
  }
  const connection = (headers.get("connection") ?? []).join(",").toLowerCase();
  const keepAlive = statusLine[1] === "1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { status, headers, framing: framingOf(status, headers, method), keepAlive };
}

function framingOf(status: number, headers: ReadonlyMap<string, readonly string[]>, method: string): BodyFraming {
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) return { type: "none" };
  const coding = headers.get("transfer-encoding");
  if (coding !== undefined) {
    const last = coding.join(",").split(",").at(-1)?.trim().toLowerCase();
    return last === "chunked" ? { type: "chunked" } : { type: "close" };
  }
  const lengths = new Set((headers.get("content-length") ?? []).flatMap((value) => value.split(",").map((part) => part.trim())));
  if (lengths.size === 0) return { type: "close" };
  const [length] = lengths;
  if (lengths.size > 1 || length === undefined || !/^\d{1,15}$/.test(length)) {
    throw new MalformedResponseError(`an unusable Content-Length: ${JSON.stringify([...lengths].join(", "))}`);
  }
  return { type: "length", length: Number(length) };
}
