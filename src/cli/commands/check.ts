/**
 * `pullback check IMAGE|REGISTRY…`: which credentials would be used, does the
 * registry accept them, and would an anonymous pull work. One verdict line per target.
 */
import { resolveCredentials } from "../../credentials/resolve-credentials.js";
import { PullbackError } from "../../errors.js";
import { parseReference, registryHostProblem } from "../../reference/parse-reference.js";
import type { Exchange } from "../../registry/http.js";
import { isBareRegistryHost, verifyCredentials, type Verification } from "../../registry/verify-credentials.js";
import { describeExchange } from "../output/format-exchange.js";
import type { CliIo, GlobalFlags } from "../cli-io.js";
import { credentialRequest, type CredentialFlags } from "../credential-flags.js";
import { ExitCode, exitCodeFor, type ExitCodeValue } from "../exit-codes.js";
import { createReporter } from "../output/reporter.js";

export type CheckCommandFlags = CredentialFlags &
  GlobalFlags & { readonly insecure?: boolean | undefined; readonly certDir?: string | undefined };

/**
 * @example
 * const code = await runCheck(["ghcr.io/acme/app:1"], {}, io); // 0 when the credentials are accepted
 */
export async function runCheck(targets: readonly string[], flags: CheckCommandFlags, io: CliIo): Promise<number> {
  const reporter = createReporter(io, flags);
  try {
    const request = await credentialRequest(flags, io);
    const verifications: Verification[] = [];
    for (const target of targets) {
      const registry = isBareRegistryHost(target) ? checkedHost(target) : parseReference(target).registry;
      const credential = await resolveCredentials(registry, request);
      reporter.debug(`${target}: checking ${credential ? credential.describe() : "anonymous access (no credentials configured)"}`);
      const onExchange = (exchange: Exchange): void => reporter.debug(describeExchange(exchange));
      verifications.push(
        await verifyCredentials(target, credential, {
          onExchange,
          env: io.env,
          onWarning: (message) => reporter.warn(message),
          ...(flags.insecure ? { insecure: true } : {}),
          ...(flags.certDir === undefined ? {} : { tls: { certDir: flags.certDir } }),
        }),
      );
    }
    const codes = verifications.map(exitCodeForVerification);
    const code = codes.find((c) => c !== ExitCode.success) ?? ExitCode.success;
    reporter.result({ ok: code === ExitCode.success, verifications }, verifications.flatMap(verdictLines));
    return code;
  } catch (error) {
    reporter.fail(error);
    return exitCodeFor(error);
  } finally {
    reporter.close();
  }
}

/**
 * 0 only for accepted credentials, or — with none configured — an anonymous pull that works.
 *
 * @example
 * exitCodeForVerification({ verdict: "rejected", … }) // → 3
 */
export function exitCodeForVerification(v: Pick<Verification, "verdict" | "credentialSource" | "anonymousPull" | "found">): ExitCodeValue {
  if (v.verdict === "unreachable") return ExitCode.unreachable;
  // The registry let the caller ask and said the image does not exist: a not-found, whatever the credentials.
  if (v.verdict === "accepted" && v.found === false) return ExitCode.notFound;
  if (v.credentialSource === undefined) {
    // Without credentials the question is whether anonymous access works.
    if (v.anonymousPull === true || (v.anonymousPull === undefined && v.verdict === "accepted")) return ExitCode.success;
    return ExitCode.auth;
  }
  return v.verdict === "accepted" ? ExitCode.success : ExitCode.auth;
}

/** The verdict line, then for a transport failure its diagnosis: what is wrong and the steps that fix it. */
function verdictLines(v: Verification): string[] {
  if (v.diagnosis === undefined) return [verdictLine(v)];
  const steps = v.diagnosis.steps.flatMap((step, index) => [
    `  ${index + 1}. ${step.text}`,
    ...(step.command === undefined ? [] : [`       $ ${step.command}`]),
  ]);
  return [
    verdictLine(v),
    `  ${v.diagnosis.summary}`,
    `  Why: ${v.diagnosis.explanation}`,
    "  What to do:",
    ...steps.map((line) => `  ${line}`),
  ];
}

/**
 * @example
 * verdictLine(v) // 'REJECTED  127.0.0.1:5101/public/app — the token from PULLBACK_REGISTRY_TOKEN: …; anonymous pull: allowed'
 */
export function verdictLine(v: Verification): string {
  const where = v.repository === undefined ? v.registry : `${v.registry}/${v.repository}`;
  const who = v.credentialSource ?? "no credentials (anonymous)";
  // Nobody can pull what does not exist: "anonymous pull: refused" would contradict the verdict.
  const anonymous =
    v.anonymousPull === undefined || v.found === false ? "" : `; anonymous pull: ${v.anonymousPull ? "allowed" : "refused"}`;
  const realm = v.realmOnOtherHost && v.realm ? `; token service on another host: ${v.realm}` : "";
  const verdict = v.verdict === "accepted" && v.found === false ? "NOT-FOUND" : v.verdict.toUpperCase();
  return `${verdict.padEnd(11)} ${where} — ${who}: ${v.message}${anonymous}${realm}`;
}

/** A bare host is checked by the reference grammar's rules, so a bad port is a usage error, not "Invalid URL". */
function checkedHost(host: string): string {
  const problem = registryHostProblem(host);
  if (problem !== undefined) throw new PullbackError("reference", `invalid registry host ${JSON.stringify(host)}: ${problem}`);
  return host;
}
