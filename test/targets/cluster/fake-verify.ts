/**
 * A scripted verifier for unit tests: verdicts by target, and a log of what was asked.
 */
import type { Credential } from "../../../src/credentials/credential.js";
import type { Verdict, Verification, VerifyOptions } from "../../../src/registry/verify-credentials.js";
import type { VerifyCredentialsFunction } from "../../../src/targets/cluster/credential-decision.js";

export interface VerifyCall {
  readonly target: string;
  readonly username: string | undefined;
  readonly insecure: boolean | undefined;
}

/** verdicts: target ("host" or "host/repo") → verdict; anything else is accepted. */
export function fakeVerify(
  verdicts: Record<string, Verdict> = {},
  extra: Partial<Verification> = {},
): VerifyCredentialsFunction & { calls: VerifyCall[] } {
  const calls: VerifyCall[] = [];
  const verify = (target: unknown, credential: Credential | undefined, options?: VerifyOptions): Promise<Verification> => {
    const text = String(target);
    calls.push({ target: text, username: credential?.username, insecure: options?.insecure });
    const slash = text.indexOf("/");
    const verdict = verdicts[text] ?? "accepted";
    return Promise.resolve({
      verdict,
      registry: slash < 0 ? text : text.slice(0, slash),
      repository: slash < 0 ? undefined : text.slice(slash + 1),
      message:
        verdict === "accepted" ? "ok" : verdict === "unreachable" ? "connect ECONNREFUSED" : "unauthorized: incorrect username or password",
      anonymousPull: undefined,
      authScheme: "bearer",
      realm: undefined,
      realmOnOtherHost: false,
      credentialSource: credential?.describe(),
      ...extra,
    });
  };
  return Object.assign(verify as VerifyCredentialsFunction, { calls });
}
