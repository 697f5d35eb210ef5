/**
 * `pullback pull` flags → which library function runs, with which options.
 * Pure: checks flag combinations and names the target; touches nothing.
 * One image on at most one host is the single-image plan (`planPull`); more
 * images or hosts make a set plan (`planPullRun`), one library call for all.
 */
import { PullbackError } from "../../errors.js";
import type { GlobalFlags } from "../cli-io.js";
import type { CredentialFlags } from "../credential-flags.js";
import { parseDestination } from "../../reference/destination.js";
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

/** The flags of a whole run: several images (arguments and --file), --host repeated, --jobs, --keep-going. */
export interface PullRunFlags extends Omit<PullFlags, "host"> {
  /** Every --host given, in order. */
  readonly host?: readonly string[] | undefined;
  /** --jobs as typed (commander hands a string). */
  readonly jobs?: string | number | undefined;
  readonly keepGoing?: boolean | undefined;
}

/** Every flag of `pullback pull`, as commander hands them over. */
export type PullCommandFlags = PullRunFlags &
  CredentialFlags &
  GlobalFlags & {
    readonly allPlatforms?: boolean | undefined;
    /** --file FILE, or `-` for stdin: one reference per line. */
    readonly file?: string | undefined;
  };

/** Transfers at once when --jobs is not given: enough to overlap round trips, few enough for a small registry. */
export const DEFAULT_JOBS = 4;
export const MAX_JOBS = 64;

interface SetCommon extends Common {
  readonly jobs: number;
  readonly keepGoing: boolean;
}

export type PullSetPlan =
  /** ensureImages on one daemon reached without SSH (DOCKER_HOST, the context, or --host unix:// / tcp://). */
  | (SetCommon & { readonly kind: "daemon"; readonly host: string | undefined; readonly sshConfigFile: string | undefined })
  /** pullRemoteImages: every image on every host, one connection per host. */
  | (SetCommon & {
      readonly kind: "remote";
      readonly hosts: readonly string[];
      readonly identityFile: string | undefined;
      readonly knownHostsFile: string | undefined;
      readonly acceptUnknownHostKey: boolean;
      readonly sshConfigFile: string | undefined;
    })
  /** pullImages: every image into one OCI layout or one docker-archive. */
  | (SetCommon & { readonly kind: "daemonless"; readonly to: string; readonly certDir: string | undefined });

/** One image on at most one host runs exactly as it always has; anything more is a set. */
export type PullRun =
  | { readonly shape: "single"; readonly image: string; readonly plan: PullPlan }
  | { readonly shape: "set"; readonly images: readonly string[]; readonly plan: PullSetPlan };

/**
 * @example
 * planPullRun(["a:1"], { host: ["ssh://b-1"] }).shape                 // → "single"
 * planPullRun(["a:1", "b:1"], { host: ["ssh://b-1", "ssh://b-2"] }).plan // → { kind: "remote", hosts: [...], jobs: 4, … }
 */
export function planPullRun(images: readonly string[], flags: PullRunFlags): PullRun {
  if (images.length === 0) throw usage("no image to pull: give IMAGE arguments or --file FILE");
  const hosts = flags.host ?? [];
  const jobs = parseJobs(flags.jobs);
  const keepGoing = flags.keepGoing === true;
  const { host: _hosts, jobs: _jobs, keepGoing: _keepGoing, ...rest } = flags;
  if (images.length === 1 && hosts.length <= 1) {
    const [image = ""] = images;
    return { shape: "single", image, plan: planPull({ ...rest, host: hosts[0] }) };
  }
  if (flags.tagAs !== undefined)
    throw usage("--tag-as names one image on one host; with several images or hosts, tag each image with its own command");
  const destination = flags.to === undefined ? undefined : parseDestination(flags.to);
  if (destination?.kind === "oci" && destination.tag !== undefined)
    throw usage("--to oci:DIR:TAG names one image; with several images give --to oci:DIR (each image is tagged by its reference)");
  // The single-image rules (--to with --host, SSH flags without ssh://, --cert-dir …) hold for a set as well.
  const ssh = hosts.find((host) => /^ssh:\/\//i.test(host));
  const single = planPull({ ...rest, host: ssh ?? hosts[0] });
  const common: SetCommon = {
    platform: single.platform,
    pull: single.pull,
    fallback: single.fallback,
    failOnFallback: single.failOnFallback,
    jobs,
    keepGoing,
  };
  switch (single.kind) {
    case "daemonless":
      return { shape: "set", images, plan: { ...common, kind: "daemonless", to: single.to, certDir: single.certDir } };
    case "daemon":
      if (hosts.length <= 1)
        return { shape: "set", images, plan: { ...common, kind: "daemon", host: single.host, sshConfigFile: single.sshConfigFile } };
      return { shape: "set", images, plan: remote(common, hosts, flags) };
    case "remote":
      return { shape: "set", images, plan: remote(common, hosts, flags) };
  }
}

function remote(common: SetCommon, hosts: readonly string[], flags: PullRunFlags): PullSetPlan {
  const duplicate = hosts.find((host, index) => hosts.indexOf(host) !== index);
  if (duplicate !== undefined) throw usage(`--host ${duplicate} is given twice`);
  return {
    ...common,
    kind: "remote",
    hosts,
    identityFile: flags.identity,
    knownHostsFile: flags.knownHosts,
    acceptUnknownHostKey: flags.acceptUnknownHostKey === true,
    sshConfigFile: flags.sshConfig,
  };
}

/**
 * --jobs: an integer from 1 to 64; absent: DEFAULT_JOBS.
 *
 * @example
 * parseJobs("8") // → 8
 */
export function parseJobs(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_JOBS;
  const text = String(value).trim();
  const jobs = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS)
    throw usage(`--jobs must be a whole number from 1 to ${MAX_JOBS} (transfers at once), not "${text}"`);
  return jobs;
}

function usage(message: string): PullbackError {
  return new PullbackError("usage", message);
}
