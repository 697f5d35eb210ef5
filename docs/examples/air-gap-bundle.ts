/**
 * Pull a set of images, with no daemon, into one docker-archive — the bundle an
 * air-gapped k3s node loads from its agent/images directory (or `docker load -i`,
 * `ctr images import`). A base layer the images share is fetched and stored once;
 * with keepGoing the bundle holds every image that succeeded and the rest are listed.
 *
 *   PULLBACK_EXAMPLE_REGISTRY=ghcr.io npx tsx air-gap-bundle.ts
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pullImages } from "pullback";

const registry = process.env.PULLBACK_EXAMPLE_REGISTRY ?? "ghcr.io";
const bundle = join(await mkdtemp(join(tmpdir(), "bundle-")), "images.tar");
const images = [1, 2, 3, 4].map((n) => `${registry}/public/set-${n}:1`);

const items = await pullImages(images, {
  to: `docker-archive:${bundle}`, // or "oci:DIR": each image named by its reference
  jobs: 4, // images at once
  keepGoing: true, // without it, one failure writes no bundle at all
  signal: AbortSignal.timeout(10 * 60_000),
});
for (const item of items) {
  if (item.ok) console.log(`${item.image}: ${item.outcome.image.digest}${item.outcome.fellBack ? " (anonymous fallback)" : ""}`);
  else console.error(`${item.image}: ${item.error.kind}${item.error.reason ? ` (${item.error.reason})` : ""}: ${item.error.message}`);
}
console.log(`${items.filter((item) => item.ok).length} of ${items.length} images in ${bundle}`);
process.exitCode = items.every((item) => item.ok) ? 0 : 1;
