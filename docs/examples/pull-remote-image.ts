/**
 * Pull an image onto a remote Docker host over SSH — the variant that host
 * runs — and tag it under the name a deployment expects. The host is reached
 * with the system ssh, so a Host alias from ~/.ssh/config (its HostName, Port,
 * User, IdentityFile, ProxyJump, certificates) works as it does for `ssh`.
 *
 *   PULLBACK_EXAMPLE_SSH=ssh://build-1 PULLBACK_EXAMPLE_REGISTRY=ghcr.io npx tsx pull-remote-image.ts
 */
import { pullRemoteImage } from "pullback";

const host = process.env.PULLBACK_EXAMPLE_SSH ?? "ssh://build-1"; // an alias, or ssh://user@host:port
const registry = process.env.PULLBACK_EXAMPLE_REGISTRY ?? "ghcr.io";

const outcome = await pullRemoteImage(host, `${registry}/public/app:1`, {
  sshConfigFile: process.env.PULLBACK_EXAMPLE_SSH_CONFIG, // default ~/.ssh/config, as ssh reads it (ssh -F)
  identityFile: process.env.PULLBACK_EXAMPLE_SSH_KEY, // default: what the ssh config and the agent offer
  tagAs: "app:dev",
  onEvent: (event) => {
    if (event.type === "warning") console.warn(`${event.host ?? host}: ${event.message}`);
  },
});
console.log(`${outcome.image.tags.join(", ")} on ${host}: ${outcome.image.platform} ${outcome.image.id}`);
