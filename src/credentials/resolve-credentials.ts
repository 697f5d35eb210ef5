/**
 * Where the credentials for a registry come from, first match wins:
 * explicit (API / CLI) > environment > Docker config (credHelpers > credsStore > auths).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { PullbackError } from "../errors.js";
import { checkResolveCredentials } from "../validation/entry-points.js";
import { Credential, tildePath } from "./credential.js";
import { getFromCredentialHelper } from "./credential-helper.js";
import { credentialFromAuthEntry, findRegistryKey, helperServerUrl, readDockerConfig } from "./docker-config.js";

/**
 * Where resolveCredentials looks, and what it is given.
 *
 * @example
 * await resolveCredentials("ghcr.io", { env: {}, dockerConfigDir: "/etc/ci/docker" });
 */
export interface ResolveCredentialsOptions {
  /** From the API or the CLI (--username + --password-stdin). No username means a bare token. */
  readonly explicit?: { readonly username?: string; readonly secret: string; readonly label?: string } | undefined;
  /** Default process.env. Also the environment a credential helper runs with. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default $DOCKER_CONFIG, else ~/.docker. */
  readonly dockerConfigDir?: string;
  /** --no-credentials: resolve nothing. */
  readonly anonymous?: boolean;
}

export const USERNAME_VARIABLE = "PULLBACK_REGISTRY_USERNAME";
export const TOKEN_VARIABLE = "PULLBACK_REGISTRY_TOKEN";
/** The username sent with a bare token; ghcr.io and most token registries ignore it. */
export const TOKEN_USERNAME = "__token__";

/**
 * The credential to try first for `registry` (a host such as `ghcr.io`, `docker.io`, `127.0.0.1:5000`),
 * or undefined when none is configured.
 *
 * @example
 * const credential = await resolveCredentials("ghcr.io");
 * console.log(credential?.describe() ?? "anonymous"); // the token from PULLBACK_REGISTRY_TOKEN
 */
export async function resolveCredentials(registry: string, options: ResolveCredentialsOptions = {}): Promise<Credential | undefined> {
  checkResolveCredentials(registry, options);
  if (options.anonymous) {
    if (options.explicit) throw new PullbackError("usage", "Credentials were given together with a request for none (--no-credentials)");
    return undefined;
  }
  if (options.explicit) return fromExplicit(options.explicit);
  const env = options.env ?? process.env;
  return fromEnvironment(env) ?? (await fromDockerConfig(registry, options.dockerConfigDir ?? defaultConfigDir(env), env));
}

function fromExplicit(explicit: NonNullable<ResolveCredentialsOptions["explicit"]>): Credential {
  const source = explicit.label === undefined ? { type: "explicit" as const } : { type: "explicit" as const, label: explicit.label };
  return Credential.basic(explicit.username || TOKEN_USERNAME, explicit.secret, source);
}

function fromEnvironment(env: NodeJS.ProcessEnv): Credential | undefined {
  // An empty variable counts as unset: CI systems expand a missing secret to "".
  const username = env[USERNAME_VARIABLE] || undefined;
  const token = env[TOKEN_VARIABLE] || undefined;
  if (token === undefined) {
    if (username === undefined) return undefined;
    throw new PullbackError("credentials", `${USERNAME_VARIABLE} is set but ${TOKEN_VARIABLE} is not`, {
      diagnosis: {
        summary: "A registry username was given without a token or password.",
        explanation: `pullback takes the secret from ${TOKEN_VARIABLE}; with only the username it cannot authenticate, and guessing anonymous access would hide the mistake.`,
        steps: [
          { text: `Set ${TOKEN_VARIABLE} to the password or access token (in CI: check that the secret is available to this job),` },
          { text: `or unset ${USERNAME_VARIABLE} to use the Docker config or anonymous access.` },
        ],
        retryable: false,
      },
    });
  }
  return username === undefined
    ? Credential.basic(TOKEN_USERNAME, token, { type: "env", secretVariable: TOKEN_VARIABLE })
    : Credential.basic(username, token, { type: "env", usernameVariable: USERNAME_VARIABLE, secretVariable: TOKEN_VARIABLE });
}

async function fromDockerConfig(registry: string, dir: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const file = join(dir, "config.json");
  const config = await readDockerConfig(file);
  if (config === undefined) return undefined;
  const serverUrl = helperServerUrl(registry);
  const helperKey = findRegistryKey(config.credHelpers, registry);
  const helper = helperKey === undefined ? undefined : config.credHelpers[helperKey];
  if (helperKey !== undefined && helper) {
    const configuredIn = `credHelpers[${JSON.stringify(helperKey)}] of ${tildePath(file)}`;
    const found = await getFromCredentialHelper(helper, serverUrl, { env, registry, configuredIn });
    if (found) return found;
  }
  if (config.credsStore !== undefined) {
    const configuredIn = `credsStore of ${tildePath(file)}`;
    const found = await getFromCredentialHelper(config.credsStore, serverUrl, { env, registry, configuredIn });
    if (found) return found;
  }
  const authKey = findRegistryKey(config.auths, registry);
  if (authKey === undefined) return undefined;
  return credentialFromAuthEntry(config.auths[authKey]!, { type: "config", file, key: authKey });
}

function defaultConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");
}
