/**
 * Verify a registry credential before a cluster gets it, then write k3s's
 * registries.yaml with only what the registry accepted. A refused credential in
 * registries.yaml would break every pull from that registry — public images too.
 *
 *   PULLBACK_REGISTRY_USERNAME=ci-bot PULLBACK_REGISTRY_TOKEN=… PULLBACK_EXAMPLE_REGISTRY=ghcr.io npx tsx verify-then-configure.ts
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveCredentials, verifyCredentials, writeRegistriesConfig } from "pullback";

const registry = process.env.PULLBACK_EXAMPLE_REGISTRY ?? "ghcr.io";
const credential = await resolveCredentials(registry); // env, then the Docker config

const check = await verifyCredentials(`${registry}/private/app:1`, credential);
console.log(`${credential?.describe() ?? "anonymous"} → ${check.verdict} (anonymous pull: ${check.anonymousPull})`);
if (check.verdict !== "accepted") {
  console.error(check.message);
  process.exit(1);
}

// writeRegistriesConfig verifies again, against the host that will receive the credential.
const path = join(await mkdtemp(join(tmpdir(), "k3s-")), "registries.yaml"); // on a node: /etc/rancher/k3s/registries.yaml
const result = await writeRegistriesConfig({
  path,
  // `insecure` writes a plain-HTTP mirror: only for a registry on loopback, as in pullback's own tests.
  registries: [
    { host: registry, verifyRepositories: ["private/app:1"], insecure: registry.startsWith("127."), ...(credential ? { credential } : {}) },
  ],
  strict: true, // an unreachable registry fails instead of keeping an unverified credential
});
for (const decision of result.decisions) console.log(`${decision.host}: ${decision.verdict}, auth written: ${decision.wroteAuth}`);
console.log(result.text); // secrets shown as ***; the file itself has them
