/**
 * Pull an image onto a remote Docker host over SSH — the variant that host
 * runs — and tag it under the name a deployment expects.
 *
 *   PULLBACK_EXAMPLE_SSH=ssh://deploy@build-1 PULLBACK_EXAMPLE_SSH_KEY=~/.ssh/id_ed25519 \
 *   PULLBACK_EXAMPLE_REGISTRY=ghcr.io npx tsx pull-remote-image.ts
 */
import { pullRemoteImage } from "pullback";

const host = process.env.PULLBACK_EXAMPLE_SSH ?? "ssh://deploy@build-1";
const registry = process.env.PULLBACK_EXAMPLE_REGISTRY ?? "ghcr.io";

const outcome = await pullRemoteImage(host, `${registry}/public/app:1`, {
  identityFile: process.env.PULLBACK_EXAMPLE_SSH_KEY, // default: the ssh-agent, then ~/.ssh/id_*
  knownHostsFile: process.env.PULLBACK_EXAMPLE_KNOWN_HOSTS, // default ~/.ssh/known_hosts; unknown hosts are refused
  tagAs: "app:dev",
  onEvent: (event) => {
    if (event.type === "warning") console.warn(`${event.host ?? host}: ${event.message}`);
  },
});
console.log(`${outcome.image.tags.join(", ")} on ${host}: ${outcome.image.platform} ${outcome.image.id}`);
