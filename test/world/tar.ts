import { createCipheriv, createHash } from "node:crypto";

/** One entry of a layer: a directory, a file with fixed text, or seeded pseudo-random bytes. */
export type TarEntry =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "text"; readonly path: string; readonly text: string }
  | { readonly kind: "random"; readonly path: string; readonly size: number; readonly seed: string };

/** Fixed metadata so the bytes, and so the digests, never change. */
const MTIME = 1_700_000_000;

/**
 * `size` pseudo-random bytes determined by `seed`: the AES-128-CTR keystream,
 * fast enough for hundreds of MiB and identical on every machine.
 *
 * @example
 * seededBytes("public/app layer 1", 1024).length // 1024
 */
export function seededBytes(seed: string, size: number): Buffer {
  const digest = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-128-ctr", digest.subarray(0, 16), digest.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(path: string, size: number, type: "0" | "5"): Buffer {
  const block = Buffer.alloc(512);
  if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long for a plain ustar header: ${path}`);
  block.write(path, 0, 100, "utf8");
  block.write(octal(type === "5" ? 0o755 : 0o644, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(MTIME, 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write(type, 156, "ascii");
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  block.write("root", 265, "ascii");
  block.write("root", 297, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return block;
}

const padding = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

/**
 * A POSIX ustar archive of `entries`, byte-for-byte reproducible.
 *
 * @example
 * const tar = buildTar([{ kind: "dir", path: "etc/" }, { kind: "text", path: "etc/id", text: "x\n" }]);
 */
export function buildTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.kind === "dir") {
      parts.push(header(entry.path.endsWith("/") ? entry.path : `${entry.path}/`, 0, "5"));
      continue;
    }
    const data = entry.kind === "text" ? Buffer.from(entry.text, "utf8") : seededBytes(entry.seed, entry.size);
    parts.push(header(entry.path, data.length, "0"), data, padding(data.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
