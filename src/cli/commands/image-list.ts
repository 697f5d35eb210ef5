/**
 * `pullback pull --file FILE`: one image reference per line, blank lines and `#` comments
 * allowed. Every bad line is reported, by its number, before anything is pulled.
 */
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { PullbackError, messageOf } from "../../errors.js";
import { parseReference } from "../../reference/parse-reference.js";

/** The references of a list, in order, and lines that named an image already listed. */
export interface ImageList {
  readonly images: readonly string[];
  /** "line 7 repeats line 2 (docker.io/library/nginx:latest)": left out, said once. */
  readonly repeats: readonly string[];
}

/**
 * Parse the text of an image list; `source` names it in messages ("images.txt", "stdin").
 * Throws one `usage` error listing every bad line.
 *
 * @example
 * parseImageList("# web\nnginx:1.27\n\nghcr.io/acme/app:1 # the app\n", "images.txt").images // → ["nginx:1.27", "ghcr.io/acme/app:1"]
 */
export function parseImageList(text: string, source: string): ImageList {
  const images: string[] = [];
  const repeats: string[] = [];
  const problems: string[] = [];
  const firstLine = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    // A reference never holds "#": everything from it on is a comment.
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    if (/\s/.test(line)) {
      problems.push(`${source}:${number}: "${line}" holds more than one word; give one image reference per line`);
      return;
    }
    let canonical: string;
    try {
      canonical = parseReference(line).toString();
    } catch (error) {
      problems.push(`${source}:${number}: ${messageOf(error)}`);
      return;
    }
    const first = firstLine.get(canonical);
    if (first !== undefined) {
      repeats.push(`${source}:${number} repeats line ${first} (${canonical})`);
      return;
    }
    firstLine.set(canonical, number);
    images.push(line);
  });
  if (problems.length > 0) {
    const noun = problems.length === 1 ? "a line that is" : `${problems.length} lines that are`;
    throw new PullbackError("usage", `${source} has ${noun} not an image reference; nothing was pulled:\n  ${problems.join("\n  ")}`);
  }
  return { images, repeats };
}

/**
 * Read --file: a path, or `-` for stdin.
 *
 * @example
 * const list = await readImageList("images.txt", io.stdin);
 */
export async function readImageList(file: string, stdin: Readable): Promise<ImageList> {
  if (file === "-") return parseImageList(await readAll(stdin), "stdin");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PullbackError("usage", `cannot read --file ${file}: ${messageOf(error)}`, { cause: error });
  }
  return parseImageList(text, file);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Arguments first, then the list; an image named twice (by any spelling) is pulled once.
 * A reference that does not parse is kept: it fails where it is used, naming itself.
 *
 * @example
 * joinImages(["nginx"], { images: ["docker.io/library/nginx:latest", "alpine:3"], repeats: [] }).images // → ["nginx", "alpine:3"]
 */
export function joinImages(args: readonly string[], list: ImageList | undefined): ImageList {
  const seen = new Set<string>();
  const images: string[] = [];
  const repeats = [...(list?.repeats ?? [])];
  for (const image of [...args, ...(list?.images ?? [])]) {
    const canonical = canonicalOrSelf(image);
    if (seen.has(canonical)) repeats.push(`${image} is named twice (${canonical})`);
    else images.push(image);
    seen.add(canonical);
  }
  return { images, repeats };
}

function canonicalOrSelf(image: string): string {
  try {
    return parseReference(image).toString();
  } catch {
    return image;
  }
}
