/**
 * Every ErrorKind on every pull path: how it arises there, the exit code the CLI gives it and the
 * first line a person reads. Each failure is raised as that path's door raises it — dockerd's
 * status and words (DaemonResponseError), the registry client's RegistryResponseError, our own
 * PullbackErrors — and goes through the one fallback policy every pull path uses, then through
 * the CLI's exit-code mapping and error formatter. Where a kind cannot arise on a path the table
 * says so and why. (The real-world proofs of disk-full, integrity, platform, not-found and auth
 * are in test/reliability/fault-matrix.int.test.ts and test/targets/oci/destinations.int.test.ts.)
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ExitCode, exitCodeFor } from "../../src/cli/exit-codes.js";
import { formatError } from "../../src/cli/output/format-error.js";
import { styleFor } from "../../src/cli/output/style.js";
import { Credential } from "../../src/credentials/credential.js";
import { PullbackError, type ErrorKind } from "../../src/errors.js";
import { pullWithFallback } from "../../src/fallback/pull-with-fallback.js";
import { PullError } from "../../src/fallback/pull-outcome.js";
import { ioError } from "../../src/files/io-error.js";
import { RegistryResponseError } from "../../src/registry/registry-error.js";
import { DaemonResponseError } from "../../src/targets/docker/engine.js";

type PullPath = "local daemon" | "ssh daemon" | "daemonless";
type Path = PullPath | "cluster verification";

/** How a kind arises on a path: an error thrown inside a pull attempt, one raised before any attempt, or not at all. */
type Arises = { readonly inAttempt: () => unknown } | { readonly beforeAttempts: () => unknown } | { readonly never: string };

interface Row {
  readonly kind: ErrorKind;
  readonly exit: number;
  /** The first line on stderr, without "error: ". */
  readonly firstLine: RegExp;
  readonly paths: Readonly<Record<Path, Arises>>;
}

const IMAGE = "registry.test/team/app:1";
const plainStyle = styleFor(new PassThrough(), {});
const credential = Credential.basic("ci", "s3cret-never-shown", { type: "explicit", label: "the test credentials" });
const daemon = (status: number, message: string) => () => new DaemonResponseError(message, { statusCode: status, inStream: false });
const registry =
  (kind: ErrorKind, status: number, codes: string[], message: string, source: "registry" | "token-service" = "registry") =>
  () =>
    new RegistryResponseError(kind, `GET https://registry.test/v2/team/app/manifests/1: ${source} answered HTTP ${status}: ${message}`, {
      status,
      codes,
      registryMessage: message,
      source,
    });
const ours = (kind: ErrorKind, message: string) => () => new PullbackError(kind, message);
const errno = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });
const verdict = (what: string): Arises => ({
  never: `a ${what} is a verdict of verifyCredentials (written or left out with a warning), not an error`,
});
const both = (arises: Arises): { "local daemon": Arises; "ssh daemon": Arises } => ({ "local daemon": arises, "ssh daemon": arises });

const rows: readonly Row[] = [
  {
    kind: "usage",
    exit: ExitCode.usage,
    firstLine: /already holds another image|must be a name with a tag|not a registry host/,
    paths: {
      ...both({ beforeAttempts: ours("usage", 'tagAs "x@sha256:…" must be a name with a tag, not a digest') }),
      // Raised inside the attempt (the archive admits the image after its manifests are known): still exit 2.
      daemonless: {
        inAttempt: ours("usage", "/tmp/app.tar already holds another image (other/app:1); pullback does not replace it unless asked"),
      },
      "cluster verification": { beforeAttempts: ours("usage", '"https://x" is not a registry host (expected e.g. "ghcr.io")') },
    },
  },
  {
    kind: "reference",
    exit: ExitCode.usage,
    firstLine: /invalid reference/,
    paths: {
      ...both({ beforeAttempts: ours("reference", 'invalid reference "UPPER/x": repository names are lower-case') }),
      daemonless: { beforeAttempts: ours("reference", 'invalid reference "UPPER/x": repository names are lower-case') },
      "cluster verification": { beforeAttempts: ours("reference", 'invalid reference "UPPER/x": repository names are lower-case') },
    },
  },
  {
    kind: "credentials",
    exit: ExitCode.auth,
    firstLine: /docker-credential-x is not installed/,
    paths: {
      ...both({ beforeAttempts: ours("credentials", "docker-credential-x is not installed: it is not on PATH") }),
      daemonless: { beforeAttempts: ours("credentials", "docker-credential-x is not installed: it is not on PATH") },
      "cluster verification": { beforeAttempts: ours("credentials", "docker-credential-x is not installed: it is not on PATH") },
    },
  },
  {
    kind: "auth",
    exit: ExitCode.auth,
    firstLine: /^Access to registry\.test\/team\/app:1 was refused$/,
    paths: {
      ...both({ inAttempt: daemon(500, "unauthorized: incorrect username or password") }),
      daemonless: { inAttempt: registry("auth", 401, ["UNAUTHORIZED"], "incorrect username or password", "token-service") },
      "cluster verification": verdict("refused credential"),
    },
  },
  {
    kind: "not-found",
    exit: ExitCode.notFound,
    firstLine: /^registry\.test\/team\/app:1 was not found on registry\.test$/,
    paths: {
      ...both({ inAttempt: daemon(404, "manifest for registry.test/team/app:1 not found: manifest unknown: manifest unknown") }),
      daemonless: { inAttempt: registry("not-found", 404, ["MANIFEST_UNKNOWN"], "manifest unknown") },
      "cluster verification": verdict("missing repository"),
    },
  },
  {
    kind: "rate-limited",
    exit: ExitCode.unreachable,
    firstLine: /^registry\.test is rate-limiting pulls$/,
    paths: {
      ...both({ inAttempt: daemon(500, "toomanyrequests: You have reached your pull rate limit.") }),
      daemonless: { inAttempt: registry("rate-limited", 429, ["TOOMANYREQUESTS"], "You have reached your pull rate limit.") },
      "cluster verification": verdict("rate limit (unreachable)"),
    },
  },
  {
    kind: "network",
    exit: ExitCode.unreachable,
    firstLine: /^registry\.test could not be reached$/,
    paths: {
      ...both({ inAttempt: daemon(500, 'Get "https://registry.test/v2/": dial tcp 10.0.0.1:443: connect: connection refused') }),
      daemonless: { inAttempt: () => errno("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443") },
      "cluster verification": verdict("network failure (unreachable)"),
    },
  },
  {
    kind: "registry",
    exit: ExitCode.unreachable,
    firstLine: /^registry\.test failed to serve registry\.test\/team\/app:1$/,
    paths: {
      ...both({ inAttempt: daemon(500, "received unexpected HTTP status: 503 Service Unavailable") }),
      daemonless: { inAttempt: registry("registry", 503, [], "Service Unavailable") },
      "cluster verification": verdict("registry error (unreachable)"),
    },
  },
  {
    kind: "platform",
    exit: ExitCode.platform,
    firstLine: /has no variant for the requested platform/,
    paths: {
      ...both({ inAttempt: daemon(404, "no matching manifest for linux/s390x in the manifest list entries") }),
      daemonless: { inAttempt: ours("platform", "registry.test/team/app:1 is built for linux/amd64, not linux/s390x") },
      "cluster verification": { never: "verification reads no image, so it never meets a platform" },
    },
  },
  {
    kind: "daemon-unreachable",
    exit: ExitCode.unreachable,
    firstLine: /cannot reach the Docker daemon/,
    paths: {
      ...both({ beforeAttempts: ours("daemon-unreachable", "cannot reach the Docker daemon at unix:///var/run/docker.sock") }),
      daemonless: { never: "the daemonless pull talks to no daemon" },
      "cluster verification": { never: "verification talks to no daemon" },
    },
  },
  {
    kind: "local-only",
    exit: ExitCode.notFound,
    firstLine: /can only have been built locally/,
    paths: {
      "local daemon": {
        beforeAttempts: ours(
          "local-only",
          "myapp:dev is not in the daemon, and a name without a registry or namespace can only have been built locally",
        ),
      },
      "ssh daemon": { never: "pullRemoteImage always asks the registry" },
      daemonless: { never: "the daemonless pull always asks the registry" },
      "cluster verification": { never: "verification always asks the registry" },
    },
  },
  {
    kind: "config",
    exit: ExitCode.config,
    firstLine: /is not valid JSON|not a valid registries\.yaml/,
    paths: {
      ...both({ beforeAttempts: ours("config", "The Docker config ~/.docker/config.json is not valid JSON") }),
      daemonless: { beforeAttempts: ours("config", "The Docker config ~/.docker/config.json is not valid JSON") },
      "cluster verification": {
        beforeAttempts: ours("config", "/etc/rancher/k3s/registries.yaml is not a valid registries.yaml: line 3: bad indentation"),
      },
    },
  },
  {
    kind: "integrity",
    exit: ExitCode.content,
    firstLine: /sent wrong bytes for blob sha256:a{64}|does not match its digest/,
    paths: {
      ...both({ inAttempt: daemon(500, `filesystem layer verification failed for digest sha256:${"a".repeat(64)}`) }),
      daemonless: {
        inAttempt: () =>
          new PullbackError("integrity", "refusing it", {
            diagnosis: {
              summary: `The registry sent wrong bytes for blob sha256:${"a".repeat(64)}`,
              explanation: "",
              steps: [],
              retryable: true,
            },
          }),
      },
      "cluster verification": { never: "verification downloads no blob" },
    },
  },
  {
    kind: "limit",
    exit: ExitCode.content,
    firstLine: /served something larger or deeper than pullback accepts/,
    paths: {
      ...both({ never: "dockerd applies its own limits and reports them as registry errors" }),
      daemonless: {
        inAttempt: ours("limit", "The manifest of registry.test/team/app:1 is 5000000 bytes; pullback accepts at most 4194304"),
      },
      "cluster verification": { never: "verification reads headers only" },
    },
  },
  {
    kind: "io",
    exit: ExitCode.io,
    firstLine: /^Writing registry\.test\/team\/app:1 to disk failed$|^No space left on the filesystem holding \/$|^pullback may not write/,
    paths: {
      ...both({ inAttempt: daemon(500, "failed to register layer: write /var/lib/docker/vfs/dir/x/bin: no space left on device") }),
      daemonless: { inAttempt: async () => ioError("write /blobs/sha256/x.partial", "/", errno("ENOSPC", "no space left on device")) },
      "cluster verification": {
        beforeAttempts: async () =>
          ioError("write /etc/rancher/k3s/registries.yaml", "/etc/rancher/k3s/registries.yaml", errno("EACCES", "permission denied")),
      },
    },
  },
  {
    kind: "other",
    exit: ExitCode.other,
    firstLine: /^Pulling registry\.test\/team\/app:1 failed$|daemon reported success but has no image/,
    paths: {
      ...both({ inAttempt: ours("other", "the daemon reported success but has no image registry.test/team/app:1") }),
      daemonless: { inAttempt: () => new Error("something nobody foresaw") },
      "cluster verification": { never: "verification turns whatever it does not understand into an unreachable verdict" },
    },
  },
];

/** What the user gets: the error a path ends with, its exit code and the first line on stderr. */
async function endOf(arises: Exclude<Arises, { never: string }>): Promise<{ error: unknown; exit: number; firstLine: string }> {
  let error: unknown;
  if ("beforeAttempts" in arises) error = await arises.beforeAttempts();
  else {
    error = await pullWithFallback(
      async () => {
        throw await arises.inAttempt();
      },
      { image: IMAGE, registry: "registry.test", credential },
    ).then(
      () => new Error("expected the pull to fail"),
      (e: unknown) => e,
    );
  }
  const text = formatError(error, { style: plainStyle, verbose: false });
  return { error, exit: exitCodeFor(error), firstLine: (text.split("\n")[0] ?? "").replace(/^error: /, "") };
}

describe("every ErrorKind on every path: exit code and first line", () => {
  it("has a row for every kind", () => {
    const kinds: Record<ErrorKind, true> = {
      usage: true,
      reference: true,
      credentials: true,
      auth: true,
      "not-found": true,
      "rate-limited": true,
      network: true,
      registry: true,
      platform: true,
      "daemon-unreachable": true,
      "local-only": true,
      config: true,
      integrity: true,
      limit: true,
      io: true,
      other: true,
    };
    expect(rows.map((row) => row.kind).sort()).toEqual(Object.keys(kinds).sort());
  });

  for (const row of rows) {
    for (const [path, arises] of Object.entries(row.paths) as [Path, Arises][]) {
      if ("never" in arises) {
        it.skip(`${row.kind} on ${path}: cannot arise — ${arises.never}`, () => undefined);
        continue;
      }
      it(`${row.kind} on ${path}: exit ${row.exit}, "${row.firstLine.source}"`, async () => {
        const { error, exit, firstLine } = await endOf(arises);
        expect(error).toBeInstanceOf(PullbackError);
        expect((error as PullbackError).kind).toBe(row.kind);
        expect(exit).toBe(row.exit);
        expect(firstLine).toMatch(row.firstLine);
        if ("inAttempt" in arises) {
          // The same word on the last attempt, in the error, and in what --json prints.
          expect(error).toBeInstanceOf(PullError);
          expect((error as PullError).attempts.at(-1)?.failure?.kind).toBe(row.kind);
          // Only a refusal of the credentials is retried anonymously.
          expect((error as PullError).attempts).toHaveLength(row.kind === "auth" ? 2 : 1);
        }
        expect(`${firstLine} ${JSON.stringify(error)}`).not.toContain("s3cret-never-shown");
      });
    }
  }
});
