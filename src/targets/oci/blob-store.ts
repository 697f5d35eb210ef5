/**
 * Content-addressed blobs on disk (`blobs/sha256/<hex>`), written so that a
 * file under its final name is always complete and verified: bytes stream into
 * `<hex>.partial`, are hashed as they are written, and the file is renamed into
 * place only when digest and size match. A partial left by an interrupted pull
 * is resumed with a Range request when the registry honours one.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { PullbackError, isPullbackError } from "../../errors.js";
import { ioStep } from "../../files/io-error.js";
import { withLock } from "../../files/lock.js";
import { makeDirectory } from "../../files/make-directory.js";
import { verifyBytes } from "./manifest.js";
import { BodyReadError, writeBody } from "./write-body.js";

/** What a blob must be: its digest and exact size. */
export interface BlobTarget {
  readonly digest: string;
  readonly size: number;
}

/** A blob body; starts at the offset asked for when `rangeHonoured`, otherwise at 0. */
export interface BlobBody {
  readonly body: Readable;
  readonly rangeHonoured: boolean;
}

/** Opens the blob's body from `offset` (0: the whole blob). */
export type OpenBlob = (offset: number) => Promise<BlobBody>;

/** A blob whose bytes are in and verified; `committed` settles once it is durable under its final name. */
export interface Transferred {
  readonly committed: Promise<void>;
}

/** Called as bytes of a blob arrive, with the count so far (including a resumed prefix). */
export type ProgressFn = (current: number) => void;

/**
 * The `blobs/sha256` directory of an OCI layout (or of a staging area).
 *
 * @example
 * const store = new BlobStore("/srv/layout");
 * if (!(await store.has(layer))) await store.ingest(layer, (offset) => client.getBlob(repo, layer.digest, { offset }));
 */
export class BlobStore {
  readonly dir: string;
  /** Ingests running in this process, by digest: images of a set that share a blob fetch it once. */
  readonly #ingesting = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.dir = join(root, "blobs", "sha256");
  }

  /** Where the verified blob lives. */
  path(digest: string): string {
    return join(this.dir, hexOf(digest));
  }

  /** Where an unverified, possibly incomplete blob is written. */
  partialPath(digest: string): string {
    return `${this.path(digest)}.partial`;
  }

  async init(): Promise<void> {
    await ioStep(() => makeDirectory(this.dir), `create ${this.dir}`, this.dir);
  }

  /**
   * True when the blob is present with the right size. Present blobs were verified
   * when written, so they are not hashed again (that is what makes re-pulls cheap).
   */
  async has(target: BlobTarget): Promise<boolean> {
    try {
      const info = await stat(this.path(target.digest));
      return info.isFile() && info.size === target.size;
    } catch {
      return false;
    }
  }

  /** Store small content already in memory (manifests, indexes), verified first. */
  async writeBytes(target: BlobTarget, bytes: Uint8Array, what: string): Promise<void> {
    verifyBytes(bytes, target.digest, what, target.size);
    if (await this.has(target)) return;
    const partial = this.partialPath(target.digest);
    // The partial is shared by every writer of this blob (so a later run can resume it): one at a time.
    await withLock(partial, () =>
      ioStep(
        async () => {
          if (await this.has(target)) return;
          const handle = await open(partial, "w");
          try {
            await handle.writeFile(bytes);
            await handle.datasync();
          } finally {
            await handle.close();
          }
          await rename(partial, this.path(target.digest));
        },
        `write ${this.path(target.digest)}`,
        this.dir,
      ),
    );
  }

  /**
   * Stream a blob into place, verifying digest and size on the way. Resumes a partial
   * left behind (hashing its prefix first); a body that does not match is removed and
   * rejected as `integrity`. A broken connection leaves the partial for the next try.
   */
  async ingest(target: BlobTarget, openBlob: OpenBlob, onProgress?: ProgressFn, what = target.digest): Promise<void> {
    await (
      await this.transfer(target, openBlob, onProgress, what)
    ).committed;
  }

  /**
   * `ingest`, resolved as soon as the blob's bytes are written and verified; `committed` settles
   * once the blob is durable under its final name. The caller's next transfer can start while
   * the disk flushes this one: a flush waits for a journal commit shared by every file being
   * flushed, and holding a transfer slot through it left the network idle (40 small layers).
   */
  async transfer(target: BlobTarget, openBlob: OpenBlob, onProgress?: ProgressFn, what = target.digest): Promise<Transferred> {
    // Another image of this run is fetching the same blob: wait for it (not for its lock file's poll), then
    // there is nothing left to do — or, when it failed (another identity, another repository), try ourselves.
    for (let running = this.#ingesting.get(target.digest); running; running = this.#ingesting.get(target.digest))
      await running.catch(() => undefined);
    let bytesIn = (): void => undefined;
    const transferred = new Promise<void>((resolve) => (bytesIn = resolve));
    // Another process may be writing the same partial: wait for it, then there may be nothing left to do.
    const committed = withLock(this.partialPath(target.digest), async () => {
      if (!(await this.has(target))) await this.#ingest(target, openBlob, onProgress, what, bytesIn);
    });
    this.#ingesting.set(target.digest, committed);
    const forget = (): void => {
      if (this.#ingesting.get(target.digest) === committed) this.#ingesting.delete(target.digest);
    };
    committed.then(forget, forget);
    await Promise.race([transferred, committed]);
    return { committed };
  }

  async #ingest(
    target: BlobTarget,
    openBlob: OpenBlob,
    onProgress: ProgressFn | undefined,
    what: string,
    bytesIn: () => void,
  ): Promise<void> {
    const partial = this.partialPath(target.digest);
    // Hashed inline, chunk by chunk as it arrives: OpenSSL's sha256 (SHA-NI) outruns
    // the network here, and a worker thread only added copies and memory (measured).
    let hasher = createHash("sha256");
    let offset = await this.#resumableLength(partial, target, hasher);
    if (offset === target.size) {
      // Complete but never renamed (interrupted between the last byte and the rename).
      if (digestOf(hasher) === target.digest) {
        const handle = await ioStep(() => open(partial, "r"), `open ${partial}`, partial);
        return this.#commit(handle, partial, target, bytesIn);
      }
      hasher = createHash("sha256");
      offset = 0;
    }
    let received = offset;
    const observer = {
      inspect: (chunk: Buffer): void => {
        received += chunk.length;
        if (received > target.size)
          throw integrityError(
            `${what} is longer than the ${target.size} bytes its descriptor promises; refusing it`,
            what,
            `${target.size} bytes`,
            `more than ${target.size} bytes`,
          );
        hasher.update(chunk);
        onProgress?.(received);
      },
    };
    // The file is open before the request goes out: a body that breaks while a file is being
    // opened loses what it had buffered, and the next try could not resume from it.
    const handle = await ioStep(() => open(partial, offset > 0 ? "r+" : "w"), `create ${partial}`, partial);
    try {
      const { body, rangeHonoured } = await openBlob(offset);
      if (offset > 0 && !rangeHonoured) {
        hasher = createHash("sha256"); // the body starts over at 0
        offset = 0;
        received = 0;
        await handle.truncate(0); // rare: the registry ignored Range, so the old prefix goes
      }
      await writeBody(body, handle, offset, observer);
      if (received !== target.size)
        throw integrityError(
          `${what} ended after ${received} bytes, but its descriptor promises ${target.size}; refusing it`,
          what,
          `${target.size} bytes`,
          `${received} bytes`,
        );
      const actual = digestOf(hasher);
      if (actual !== target.digest)
        throw integrityError(
          `${what} hashes to ${actual}, not the ${target.digest} its descriptor promises; refusing it`,
          what,
          target.digest,
          actual,
        );
    } catch (error) {
      await handle.close();
      if (isPullbackError(error, "integrity")) {
        await rm(partial, { force: true });
        throw error;
      }
      if (error instanceof BodyReadError) {
        throw new PullbackError("network", `Downloading ${what} broke off after ${received} of ${target.size} bytes: ${error.message}`, {
          cause: error.cause,
        });
      }
      throw error;
    }
    await this.#commit(handle, partial, target, bytesIn);
  }

  /**
   * Make a verified partial durable, then give it its final name: a crash must not leave a
   * short blob that looks complete. `bytesIn` is told first, so the flush overlaps other transfers.
   */
  async #commit(handle: FileHandle, partial: string, target: BlobTarget, bytesIn: () => void): Promise<void> {
    bytesIn();
    try {
      await ioStep(() => handle.datasync(), `flush ${partial}`, partial);
    } finally {
      await handle.close();
    }
    await ioStep(() => rename(partial, this.path(target.digest)), `move ${partial} into place`, partial);
  }

  /**
   * The length of a partial worth resuming, its bytes fed to `hash`; 0 (and the
   * partial gone) when there is none or it cannot be a prefix of the blob.
   */
  async #resumableLength(partial: string, target: BlobTarget, hasher: Hash): Promise<number> {
    let size: number;
    try {
      size = (await stat(partial)).size;
    } catch {
      return 0;
    }
    if (size === 0 || size > target.size) {
      await rm(partial, { force: true });
      return 0;
    }
    for await (const chunk of createReadStream(partial, { end: size - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>)
      hasher.update(chunk);
    return size;
  }
}

function digestOf(hash: Hash): string {
  return `sha256:${hash.digest("hex")}`;
}

/** The hex part of a sha256 digest (validated upstream; checked again because it becomes a path). */
export function hexOf(digest: string): string {
  const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!match?.[1]) throw new PullbackError("registry", `Unsupported digest ${JSON.stringify(digest)}: pullback stores sha256 blobs only`);
  return match[1];
}

/**
 * The registry sent bytes that are not the blob it promised. Worth one more run (a proxy or
 * a link may have corrupted the transfer); the same failure twice means the registry's copy is bad.
 */
function integrityError(message: string, what: string, expected: string, actual: string): PullbackError {
  return new PullbackError("integrity", message, {
    reason: "digest-mismatch",
    diagnosis: {
      summary: `The registry sent wrong bytes for ${what}`,
      explanation: `Expected ${expected}, received ${actual}. pullback removed the download and kept nothing of it; other blobs already stored are kept for the next run.`,
      steps: [
        { text: "Run the same command again: a transfer corrupted on the way (a proxy, a flaky link) usually arrives whole the next time" },
        { text: "If the same blob fails again, the registry stores a corrupt copy: tell its operators the digest above" },
      ],
      retryable: true,
    },
  });
}
