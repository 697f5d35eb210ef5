/**
 * `pullback pull` flags → which library function runs, with which options.
 * Pure: checks flag combinations and names the target; touches nothing.
 */
import { PullbackError } from "../../errors.js";
import { parsePullPolicy, type PullPolicy } from "../../pull-policy.js";

export interface PullFlags {
  readonly host?: string | undefined;
  readonly identity?: string | undefined;
  readonly knownHosts?: string | undefined;
  readonly acceptUnknownHostKey?: boolean | undefined;
  readonly sshConfig?: string | undefined;
  readonly to?: string | undefined;
  readonly platform?: string | undefined;
  readonly tagAs?: string | undefined;
  /** commander's `--no-fallback` sets this to false. */
  readonly fallback?: boolean | undefined;
  readonly failOnFallback?: boolean | undefined;
  readonly certDir?: string | undefined;
  /** --pull missing|always|never; default always, as `docker pull`. */
  readonly pull?: string | undefined;
  readonly replace?: boolean | undefined;
}

interface Common {
  readonly platform: string | undefined;
  readonly pull: PullPolicy;
  readonly fallback: boolean;
  readonly failOnFallback: boolean;
}

export type PullPlan =
  /** ensureImage on a daemon reached without SSH (DOCKER_HOST, the context, or --host unix:// / tcp://). */
  | (Common & {
      readonly kind: "daemon";
      readonly host: string | undefined;
      readonly tagAs: string | undefined;
      readonly sshConfigFile: string | undefined;
    })
  /** pullRemoteImage over SSH. */
  | (Common & {
      readonly kind: "remote";
      readonly host: string;
      readonly tagAs: string | undefined;
      readonly identityFile: string | undefined;
      readonly knownHostsFile: string | undefined;
      readonly acceptUnknownHostKey: boolean;
      readonly sshConfigFile: string | undefined;
    })
  /** pullImage into an OCI layout or docker-archive, no daemon. */
  | (Common & { readonly kind: "daemonless"; readonly to: string; readonly certDir: string | undefined });

/**
 * @example
 * planPull({ host: "ssh://deploy@build-1", tagAs: "app:dev" }).kind // → "remote"
 * planPull({ to: "oci:./out" }).kind                                 // → "daemonless"
 */
export function planPull(flags: PullFlags): PullPlan {
  if (flags.failOnFallback && flags.fallback === false)
    throw usage("--fail-on-fallback has no effect with --no-fallback; give one of them");
  const common: Common = {
    platform: flags.platform,
    pull: parsePullPolicy(flags.pull ?? "always"),
    fallback: flags.fallback !== false,
    failOnFallback: flags.failOnFallback === true,
  };
  const ssh = flags.host !== undefined && /^ssh:\/\//i.test(flags.host);
  if (!ssh) {
    if (flags.identity !== undefined) throw usage("-i/--identity applies to --host ssh://… only");
    if (flags.knownHosts !== undefined) throw usage("--known-hosts applies to --host ssh://… only");
    if (flags.acceptUnknownHostKey) throw usage("--accept-unknown-host-key applies to --host ssh://… only");
    // Without --host, DOCKER_HOST or the Docker context may name an ssh:// endpoint: --ssh-config is for that one.
    if (flags.sshConfig !== undefined && flags.host !== undefined) throw usage("--ssh-config applies to ssh:// endpoints only");
  }
  if (flags.replace && !flags.to?.startsWith("docker-archive:"))
    throw usage("--replace applies to --to docker-archive:FILE only (an oci: layout keeps every image; a tag that moves is reported)");
  if (flags.to !== undefined) {
    if (flags.host !== undefined) throw usage("--to writes files without a daemon; it cannot be combined with --host");
    if (flags.sshConfig !== undefined) throw usage("--to writes files without a daemon; --ssh-config has nothing to reach");
    if (flags.tagAs !== undefined)
      throw usage("--tag-as names an image in a daemon; with --to, put the tag in the destination (oci:DIR:TAG)");
    return { ...common, kind: "daemonless", to: flags.to, certDir: flags.certDir };
  }
  // The daemon makes its own TLS connections, with its own /etc/docker/certs.d.
  if (flags.certDir !== undefined)
    throw usage("--cert-dir applies to --to (pullback's own requests); a daemon trusts what its /etc/docker/certs.d/HOST:PORT/ holds");
  if (ssh && flags.host !== undefined) {
    return {
      ...common,
      kind: "remote",
      host: flags.host,
      tagAs: flags.tagAs,
      identityFile: flags.identity,
      knownHostsFile: flags.knownHosts,
      acceptUnknownHostKey: flags.acceptUnknownHostKey === true,
      sshConfigFile: flags.sshConfig,
    };
  }
  return { ...common, kind: "daemon", host: flags.host, tagAs: flags.tagAs, sshConfigFile: flags.sshConfig };
}

function usage(message: string): PullbackError {
  return new PullbackError("usage", message);
}
