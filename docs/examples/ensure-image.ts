/**
 * Make sure an image is on the local Docker daemon. Credentials come from
 * PULLBACK_REGISTRY_USERNAME / PULLBACK_REGISTRY_TOKEN or the Docker config; when
 * the registry refuses them, pullback pulls anonymously and says so.
 *
 *   DOCKER_HOST=unix:///var/run/docker.sock PULLBACK_EXAMPLE_REGISTRY=ghcr.io npx tsx ensure-image.ts
 */
import { connectDocker, ensureImage, PullError, type PullEvent } from "pullback";

const registry = process.env.PULLBACK_EXAMPLE_REGISTRY ?? "ghcr.io";
const image = `${registry}/public/app:1`;

function report(event: PullEvent): void {
  if (event.type === "warning") console.warn(`warning [${event.code}]: ${event.message}`);
  if (event.type === "attempt-failed")
    console.warn(`attempt ${event.attempt} failed (${event.kind}); retrying anonymously: ${event.willRetryAnonymously}`);
}

const docker = await connectDocker(); // DOCKER_HOST, the Docker context, or /var/run/docker.sock
try {
  const outcome = await ensureImage(docker, image, { onEvent: report });
  if (outcome.fellBack) {
    // The image is there, but the credentials are broken: fix them before a private image needs them.
    console.warn(`fell back to an anonymous pull: ${outcome.warnings.join("; ")}`);
  }
  console.log(`ready: ${image} ${outcome.image.digest ?? outcome.image.id} (attempts: ${outcome.attempts.length})`);
} catch (error) {
  if (error instanceof PullError) {
    console.error(`${error.kind}: ${error.diagnosis.summary}`);
    error.diagnosis.steps.forEach((step, i) => console.error(`  ${i + 1}. ${step.text}${step.command ? `: ${step.command}` : ""}`));
    process.exitCode = 1;
  } else {
    throw error;
  }
} finally {
  docker.close();
}
