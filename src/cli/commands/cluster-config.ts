/**
 * `pullback cluster-config`: registries.yaml for k3s/RKE2, or a Kubernetes pull
 * secret, holding only the credentials the registry accepted. The credentials
 * (flags, environment or Docker config) apply to the registries given.
 */
import { writeFile } from "node:fs/promises";
import { resolveCredentials } from "../../credentials/resolve-credentials.js";
import { PullbackError } from "../../errors.js";
import { renderPullSecret } from "../../targets/cluster/k8s-pull-secret.js";
import { writeRegistriesConfig, type ClusterRegistry, type RegistryDecision } from "../../targets/cluster/write-registries-config.js";
import type { CliIo, GlobalFlags } from "../cli-io.js";
import { credentialRequest, type CredentialFlags } from "../credential-flags.js";
import { exitCodeFor } from "../exit-codes.js";
import { createReporter, type Reporter } from "../output/reporter.js";
import { planClusterConfig, type ClusterConfigFlags } from "./cluster-config-plan.js";

export type ClusterConfigCommandFlags = ClusterConfigFlags & CredentialFlags & GlobalFlags;

/**
 * @example
 * const code = await runClusterConfig({ registry: ["ghcr.io"], verifyRepo: ["acme/app"], dryRun: true }, io);
 */
export async function runClusterConfig(flags: ClusterConfigCommandFlags, io: CliIo): Promise<number> {
  const reporter = createReporter(io, flags);
  try {
    const plan = planClusterConfig(flags);
    const request = await credentialRequest(flags, io);
    const registries: ClusterRegistry[] = [];
    for (const registry of plan.registries) {
      const credential = await resolveCredentials(registry.host, request);
      registries.push(credential ? { ...registry, credential } : registry);
    }
    if (plan.format === "k3s") {
      const result = await writeRegistriesConfig({ registries, path: plan.output, strict: plan.strict, dryRun: plan.dryRun });
      reportDecisions(reporter, result.decisions, result.warnings, plan.explain);
      if (result.nothingToWrite)
        reporter.info(
          `Nothing to write: no registry needs a mirror, TLS settings or credentials${plan.dryRun ? "." : `, so ${result.path} was not created.`}`,
        );
      else if (!plan.dryRun) reporter.info(`Wrote ${result.path}`);
      const json = {
        format: "k3s",
        path: result.path,
        written: result.written,
        nothingToWrite: result.nothingToWrite,
        decisions: result.decisions,
        warnings: result.warnings,
        text: result.text,
      };
      reporter.result(json, plan.dryRun && !result.nothingToWrite ? [result.text.trimEnd()] : []);
      return 0;
    }
    const secret = await renderPullSecret({
      name: plan.secretName,
      registries,
      strict: plan.strict,
      ...(plan.namespace === undefined ? {} : { namespace: plan.namespace }),
    });
    reportDecisions(reporter, secret.decisions, secret.warnings, plan.explain);
    const json = { format: "k8s-secret", name: plan.secretName, decisions: secret.decisions, warnings: secret.warnings };
    if (plan.dryRun) {
      reporter.info("--dry-run: the Secret is not shown, because it holds the accepted credentials");
      reporter.result({ ...json, written: false }, []);
    } else if (plan.output === "-") {
      if (flags.json) throw new PullbackError("usage", "--json keeps stdout for JSON lines: give --output FILE for the Secret");
      reporter.result(json, [secret.manifest.trimEnd()]);
    } else {
      // The Secret holds credentials: readable by its owner only.
      await writeFile(plan.output, secret.manifest, { mode: 0o600 });
      reporter.info(`Wrote ${plan.output}`);
      reporter.result({ ...json, path: plan.output, written: true }, []);
    }
    return 0;
  } catch (error) {
    reporter.fail(error);
    return exitCodeFor(error);
  } finally {
    reporter.close();
  }
}

function reportDecisions(reporter: Reporter, decisions: readonly RegistryDecision[], warnings: readonly string[], explain: boolean): void {
  for (const decision of decisions) {
    const via = decision.authHost === decision.host ? "" : ` (via ${decision.authHost})`;
    reporter.info(`${decision.host}${via}: ${decision.verdict} — ${authOutcome(decision)}`);
    if (explain) reporter.info(`  ${decision.explanation}`);
  }
  for (const warning of warnings) reporter.warn(warning);
}

function authOutcome(decision: RegistryDecision): string {
  switch (decision.existingAuth) {
    case "kept":
      return "the credentials already in the file kept";
    case "replaced":
      return "credentials written, replacing the ones in the file";
    case "removed":
      return "the credentials in the file removed (refused)";
    default:
      return decision.wroteAuth ? "credentials kept" : "no credentials written";
  }
}
