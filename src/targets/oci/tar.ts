/**
 * A minimal ustar writer: regular files only, which is all a docker-archive
 * holds. One 512-byte header per entry, the content, zero padding to a block,
 * and two zero blocks at the end. Content streams through; nothing is buffered.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PullbackError } from "../../errors.js";

const BLOCK = 512;

/** One regular file of the archive: in-memory bytes, or `size` bytes of a file on disk (from `offset`, default 0). */
export type TarEntry =
  | { readonly name: string; readonly bytes: Uint8Array }
  | { readonly name: string; readonly file: string; readonly size: number; readonly offset?: number | undefined };

/**
 * The bytes of a tar archive holding `entries`, as a stream of chunks.
 *
 * @example
 * await pipeline(Readable.from(tarChunks([{ name: "manifest.json", bytes }])), createWriteStream("a.tar"));
 */
export async function* tarChunks(entries: Iterable<TarEntry>): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    const size = "bytes" in entry ? entry.bytes.length : entry.size;
    yield tarHeader(entry.name, size);
    if ("bytes" in entry) yield entry.bytes;
    else {
      let seen = 0;
      const start = entry.offset ?? 0;
      // A span of a bigger file (an entry of an earlier archive) ends where the entry does.
      const range = entry.offset === undefined ? {} : { start, end: start + size - 1 };
      for await (const chunk of (size === 0 && entry.offset !== undefined
        ? []
        : createReadStream(entry.file, range)) as AsyncIterable<Buffer>) {
        seen += chunk.length;
        yield chunk;
      }
      // A file that changed size under us would corrupt every entry after it.
      if (seen !== size)
        throw new PullbackError("io", `${entry.file} has ${seen} bytes, expected ${size}: it changed while the archive was written`);
    }
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/**
 * The ustar header of a regular file, mode 0644, owned by root, mtime 0 (so the
 * same image always gives the same archive).
 *
 * @example
 * tarHeader("manifest.json", 123).length // → 512
 */
export function tarHeader(name: string, size: number, mtime = 0): Buffer {
  const header = Buffer.alloc(BLOCK);
  const [prefix, base] = splitName(name);
  header.write(base, 0, 100, "utf8");
  writeOctal(header, 0o644, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  writeNumber(header, size, 124, 12);
  writeNumber(header, mtime, 136, 12);
  header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  header.write("0", 156, 1, "ascii");
  header.write("ustar\u000000", 257, 8, "ascii");
  header.write("root", 265, 32, "ascii");
  header.write("root", 297, 32, "ascii");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return header;
}

/** ustar keeps names up to 100 bytes, or 155 + "/" + 100 split at a slash. */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ["", name];
  for (let slash = name.indexOf("/"); slash !== -1; slash = name.indexOf("/", slash + 1)) {
    const prefix = name.slice(0, slash);
    const base = name.slice(slash + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base !== "") return [prefix, base];
  }
  throw new PullbackError("limit", `tar entry name too long for ustar: ${name}`);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  header.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "ascii");
}

/** Octal when it fits (8 GiB for sizes), else GNU base-256, which docker and containerd read. */
function writeNumber(header: Buffer, value: number, offset: number, length: number): void {
  if (value < 8 ** (length - 1)) return writeOctal(header, value, offset, length);
  let rest = BigInt(value);
  for (let i = offset + length - 1; i > offset; i--) {
    header[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  header[offset] = 0x80;
}

/**
 * The content of the first regular file named `name` in the tar at `file`, at most
 * `maxBytes`; undefined when the archive has no such entry or is not a tar. Reads
 * headers only, skipping every other entry's content.
 *
 * @example
 * const manifest = await readTarEntry("app.tar", "manifest.json", 1024 * 1024);
 */
export async function readTarEntry(file: string, name: string, maxBytes: number): Promise<Buffer | undefined> {
  const handle = await open(file, "r");
  try {
    const header = Buffer.alloc(BLOCK);
    for (let offset = 0; ;) {
      const { bytesRead } = await handle.read(header, 0, BLOCK, offset);
      if (bytesRead < BLOCK || header.every((byte) => byte === 0)) return undefined;
      const size = readNumber(header, 124, 12);
      if (size === undefined) return undefined;
      const prefix = cString(header, 345, 155);
      const entryName = prefix === "" ? cString(header, 0, 100) : `${prefix}/${cString(header, 0, 100)}`;
      if (entryName === name) {
        if (size > maxBytes) return undefined;
        const content = Buffer.alloc(size);
        await handle.read(content, 0, size, offset + BLOCK);
        return content;
      }
      offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    await handle.close();
  }
}

function cString(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

/** Octal, or GNU base-256 when the high bit is set; undefined when it is neither. */
function readNumber(header: Buffer, offset: number, length: number): number | undefined {
  if (((header[offset] ?? 0) & 0x80) !== 0) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + (header[i] ?? 0);
    return value;
  }
  const text = cString(header, offset, length).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}
