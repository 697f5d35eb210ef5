/**
 * For row 7: ensure every image named on the command line with the library's
 * ensureImage over one connection; prints `{"ms":…,"present":N}` (the time of
 * the whole loop, connection included).
 *
 * @example
 * node --import tsx bench/many-images-child.ts unix:///tmp/w/docker.sock 127.0.0.1:5000/bench/many-0:1 …
 */
import { connectDocker, ensureImage } from "../src/index.js";

const [host, ...refs] = process.argv.slice(2);
if (host === undefined || refs.length === 0) throw new Error("usage: many-images-child DOCKER_HOST REF…");
const started = performance.now();
const docker = await connectDocker({ host });
let present = 0;
try {
  for (const ref of refs) {
    const outcome = await ensureImage(docker, ref, { credential: null });
    if (outcome.attempts.length === 0) present++;
  }
} finally {
  docker.close();
}
process.stdout.write(`${JSON.stringify({ ms: performance.now() - started, present })}\n`);
