/**
 * How every target lets a caller choose credentials: a Credential, `null` for
 * anonymous, or nothing — then they are resolved like everywhere else.
 */
import type { Credential } from "../credentials/credential.js";
import { resolveCredentials, type ResolveCredentialsOptions } from "../credentials/resolve-credentials.js";

/**
 * How every target chooses credentials: a Credential, `null` for anonymous, or resolution.
 *
 * @example
 * await ensureImage(docker, ref, { resolve: { env: { PULLBACK_REGISTRY_TOKEN: token } } });
 */
export interface CredentialChoiceOptions {
  /** A credential to use, `null` to pull anonymously; absent: resolve (env, then Docker config). */
  readonly credential?: Credential | null | undefined;
  /** Where resolution looks when `credential` is absent. */
  readonly resolve?: ResolveCredentialsOptions | undefined;
}

export async function chooseCredential(registry: string, options: CredentialChoiceOptions): Promise<Credential | undefined> {
  if (options.credential === null) return undefined;
  return options.credential ?? (await resolveCredentials(registry, options.resolve));
}
