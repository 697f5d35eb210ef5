/**
 * A disk that fills up during a pull, explained with what only the pull knows:
 * how many bytes the image still needs, how much room the filesystem has, and
 * that the `.partial` files were kept so the next run resumes instead of starting over.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { PullbackError, isPullbackError } from "../../errors.js";
import { describeSpace, formatBytes, spaceAt } from "../../files/io-error.js";
import type { BlobStore, BlobTarget } from "./blob-store.js";

/**
 * Run `step` (a download into `store`); a full disk becomes an `io` error with the figures.
 *
 * @example
 * await explainDiskFull(() => downloadBlobs(store, jobs, options), store, jobs);
 */
export async function explainDiskFull<T>(step: () => Promise<T>, store: BlobStore, jobs: readonly BlobTarget[]): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!isPullbackError(error, "io") || error.reason !== "disk-full") throw error;
    throw await diskFullError(error, store, jobs);
  }
}

async function diskFullError(error: PullbackError, store: BlobStore, jobs: readonly BlobTarget[]): Promise<PullbackError> {
  const partials = await partialFiles(store.dir);
  const kept = partials.reduce((sum, p) => sum + p.size, 0);
  let needed = 0;
  for (const job of new Map(jobs.map((j) => [j.digest, j])).values()) if (!(await store.has(job))) needed += job.size;
  needed = Math.max(0, needed - kept);
  const space = await spaceAt(store.dir);
  const summary = `No space left on the filesystem holding ${store.dir}`;
  const explanation = [
    `${error.message}.`,
    `The image still needs ${formatBytes(needed)} (${needed} bytes) more.`,
    space ? `${describeSpace(space)}.` : "",
    partials.length > 0
      ? `${partials.length} partly downloaded blob${partials.length === 1 ? " was" : "s were"} kept (${formatBytes(kept)} in ${store.dir}, *.partial): the next run resumes ${partials.length === 1 ? "it" : "them"} instead of starting over.`
      : "",
  ]
    .filter(Boolean)
    .join(" ");
  return new PullbackError("io", `${summary}: ${error.message}`, {
    cause: error,
    reason: "disk-full",
    diagnosis: {
      summary,
      explanation,
      steps: [
        { text: `Free at least ${formatBytes(needed)} on that filesystem`, command: `df -h ${store.dir}` },
        { text: "Run the same command again: it resumes from the kept partial files" },
        { text: "Or pull somewhere with more room (another --to directory or file)" },
      ],
      retryable: false,
    },
  });
}

async function partialFiles(dir: string): Promise<{ name: string; size: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const partials = names.filter((name) => name.endsWith(".partial"));
  return Promise.all(partials.map(async (name) => ({ name, size: (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size })));
}
