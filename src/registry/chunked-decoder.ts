/**
 * `Transfer-Encoding: chunked` undone in place: the data bytes of a buffer are
 * moved down over the framing, so a body read straight into a caller's buffer
 * stays there (no copy into another one). Chunk extensions and trailers are skipped.
 */
import { MalformedResponseError } from "./response-head.js";

type State = "size" | "extension" | "data" | "data-end" | "trailer-start" | "trailer" | "done";

const CR = 0x0d;
const LF = 0x0a;

export class ChunkedDecoder {
  #state: State = "size";
  #size = 0;
  #digits = 0;
  #remaining = 0;
  /** The CR of a data chunk's closing CRLF was seen. */
  #sawCr = false;

  /** The last chunk and the trailers have been read: the body is complete. */
  get done(): boolean {
    return this.#state === "done";
  }

  /**
   * Decode `buffer[start, end)` in place; returns where the data now ends (data in `[start, returned)`).
   * Bytes after the end of the body are ignored.
   *
   * @example
   * const decoder = new ChunkedDecoder();
   * const buffer = Buffer.from("3\r\nabc\r\n0\r\n\r\n");
   * buffer.subarray(0, decoder.decode(buffer, 0, buffer.length)).toString() // → "abc"
   */
  decode(buffer: Buffer, start: number, end: number): number {
    let out = start;
    let at = start;
    while (at < end && this.#state !== "done") {
      if (this.#state === "data") {
        const take = Math.min(this.#remaining, end - at);
        if (out !== at) buffer.copyWithin(out, at, at + take);
        out += take;
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = "data-end";
        continue;
      }
      this.#step(buffer[at] ?? 0);
      at++;
    }
    return out;
  }

  #step(byte: number): void {
    switch (this.#state) {
      case "size":
        return this.#sizeByte(byte);
      case "extension":
        if (byte === LF) this.#endSizeLine();
        return;
      case "data-end":
        if (byte === CR && !this.#sawCr) {
          this.#sawCr = true;
          return;
        }
        if (byte !== LF) throw new MalformedResponseError("a chunk is not followed by CRLF");
        this.#sawCr = false;
        this.#state = "size";
        return;
      case "trailer-start":
        if (byte === LF) this.#state = "done";
        else if (byte !== CR) this.#state = "trailer";
        return;
      case "trailer":
        if (byte === LF) this.#state = "trailer-start";
        return;
      default:
        return;
    }
  }

  #sizeByte(byte: number): void {
    const digit = hexValue(byte);
    if (digit !== undefined) {
      if (++this.#digits > 12) throw new MalformedResponseError("a chunk size with more than 12 hex digits");
      this.#size = this.#size * 16 + digit;
      return;
    }
    if (this.#digits === 0) throw new MalformedResponseError("a chunk without a size");
    if (byte === LF) this.#endSizeLine();
    else this.#state = "extension"; // ";name=value", whitespace or the CR: skipped up to the LF
  }

  #endSizeLine(): void {
    this.#remaining = this.#size;
    this.#state = this.#size === 0 ? "trailer-start" : "data";
    this.#size = 0;
    this.#digits = 0;
  }
}

function hexValue(byte: number): number | undefined {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return undefined;
}
