/**
 * Pull into an OCI image layout with no daemon, showing progress per layer.
 * The layout can be copied with skopeo, imported by containerd, or served.
 *
 *   PULLBACK_EXAMPLE_REGISTRY=ghcr.io npx tsx oci-layout-progress.ts
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDestination, pullImage, type PullEvent } from "pullback";

const registry = process.env.PULLBACK_EXAMPLE_REGISTRY ?? "ghcr.io";
const dir = await mkdtemp(join(tmpdir(), "layout-"));

const finished = new Set<string>();
function progress(event: PullEvent): void {
  switch (event.type) {
    case "attempt-started":
      console.log(`pulling ${event.image} ${event.identity.anonymous ? "anonymously" : `with ${event.identity.source}`}`);
      break;
    case "layer":
      if (event.status === "done" && !finished.has(event.id)) {
        finished.add(event.id);
        console.log(`  ${event.id.slice(0, 19)} ${event.total ?? "?"} bytes`);
      }
      break;
    case "warning":
      console.warn(`warning: ${event.message}`);
      break;
    case "done":
      console.log(`done: ${event.digest ?? event.image}`);
      break;
  }
}

const { image } = await pullImage(`${registry}/public/app:1`, {
  to: parseDestination(`oci:${dir}:app-1`), // or "docker-archive:app.tar"; the platform defaults to this machine's
  onEvent: progress,
});
console.log(`${image.destination}: ${image.platform}, ${image.layers} layers, ${image.bytes} bytes, ${image.digest}`);
