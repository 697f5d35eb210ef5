/**
 * The fault matrix: each fault the world can inject, on each path pullback pulls or
 * verifies through, ends in success or a classified error — never a hang, never an
 * anonymous retry after a non-auth failure, never a half-written result.
 * Every scenario records `{fault, path, outcome}`; afterAll writes docs/reliability.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type RunnerTask } from "vitest";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { PullbackError, type ErrorKind } from "../../src/errors.js";
import { PullError, type PullOutcome } from "../../src/fallback/pull-outcome.js";
import { verifyCredentials, type Verification } from "../../src/registry/verify-credentials.js";
import { writeRegistriesConfig, type WriteRegistriesConfigResult } from "../../src/targets/cluster/write-registries-config.js";
import { connectDocker, type DockerConnection } from "../../src/targets/docker/connect-docker.js";
import type { DaemonImage } from "../../src/targets/docker/daemon-pull.js";
import { ensureImage } from "../../src/targets/docker/ensure-image.js";
import { pullRemoteImage } from "../../src/targets/docker/pull-remote-image.js";
import { parseDestination, pullImage, type OciPulledImage } from "../../src/targets/oci/pull-image.js";
import { closedPort } from "../support/run-cli.js";
import { removeStateDir } from "../world/cleanup.js";
import { startDockerd } from "../world/dockerd.js";
import { expectNoSecrets, removeAllImages, user } from "../support/pull-helpers.js";
import { clearFaults, clearProxyRequests, engineRequest, getWorld, proxyRequests, setFaults, type FaultRule } from "../world/client.js";
import { recordRow, rows, writeReport } from "./matrix-report.js";
import { descendantsOf, killEach, listeningSshdPid } from "./process-tree.js";
import { deadRealmRegistry, forwarder, startStub, type StubServer } from "../support/stub-server.js";

const world = getWorld();
const alice = user(world, "alice");
const proxied = `${world.faultProxy.host}/public/app:1`;
const { publicApp } = world.fixtures;
const bigLayer = publicApp.layers.reduce((a, b) => (b.size > a.size ? b : a));
const ssh = { identityFile: world.ssh.keyFile, knownHostsFile: world.ssh.knownHostsFile, sshConfigFile: world.sshRoutes.configFile };
const scratch = mkdtempSync(join(tmpdir(), "pullback-faults-"));
let counter = 0;
const freshDir = (): string => join(scratch, `out-${++counter}`);

let docker: DockerConnection;
beforeAll(async () => {
  docker = await connectDocker({ host: world.dockerHost });
});
// The file's task tree, to tell a whole run from a filtered one (-t, .only).
let fileTask: RunnerTask | undefined;
afterEach(({ task }) => {
  fileTask = task.file;
});
afterAll(() => {
  docker.close();
  rmSync(scratch, { recursive: true, force: true });
  // A filtered run knows only some rows: the committed report keeps the whole matrix.
  if (fileTask && everyScenarioRan(fileTask)) writeReport(join(import.meta.dirname, "..", "..", "docs", "reliability.md"));
});

function everyScenarioRan(task: RunnerTask): boolean {
  if (task.mode !== "run" && task.mode !== "only") return false;
  if (task.type === "test") return task.result?.state !== "skip";
  return task.tasks.every(everyScenarioRan);
}
beforeEach(async () => {
  await clearFaults(world);
  await clearProxyRequests(world);
});
afterEach(async () => {
  await clearFaults(world);
});

type Path = "local daemon" | "ssh daemon" | "oci layout" | "cluster verify";

/** What a scenario can end with: a pull's outcome, a verification, or a connection. */
type Pulled = PullOutcome<DaemonImage | OciPulledImage>;
type Result = Pulled | Verification | DockerConnection | WriteRegistriesConfigResult;

/** How a scenario ended: the value, or the error with its kind and the kind of its cause. */
type Ending<T extends Result = Result> =
  | { readonly ok: true; readonly value: T; readonly ms: number }
  | { readonly ok: false; readonly error: unknown; readonly kind: string; readonly causeKind: string | undefined; readonly ms: number };

async function ending<T extends Result>(promise: Promise<T>): Promise<Ending<T>> {
  const started = Date.now();
  try {
    return { ok: true, value: await promise, ms: Date.now() - started };
  } catch (error) {
    const kind = error instanceof PullbackError ? error.kind : `foreign ${error instanceof Error ? error.name : typeof error}`;
    const cause = error instanceof Error ? error.cause : undefined;
    return { ok: false, error, kind, causeKind: cause instanceof PullbackError ? cause.kind : undefined, ms: Date.now() - started };
  }
}

/** A pull on `path`, or the cluster path's verification. */
function pullOrVerify(path: Path, ref: string): Promise<Pulled | Verification> {
  return path === "cluster verify" ? verifyCredentials(ref, alice) : pull(path, ref);
}

/** The verification of a successful verify scenario. */
function verificationOf(end: Ending): Verification | undefined {
  return end.ok && "verdict" in end.value ? end.value : undefined;
}

/** The PullError a failed pull scenario ended with. */
function pullErrorOf(end: Ending): PullError {
  if (end.ok || !(end.error instanceof PullError)) throw new Error(`expected a PullError, got ${end.ok ? "success" : end.kind}`);
  return end.error;
}

/** The one-line outcome the report shows. */
function summary(end: Ending): string {
  if (end.ok) {
    const verification = verificationOf(end);
    if (verification !== undefined) return `verdict ${verification.verdict}`;
    return "fellBack" in end.value && end.value.fellBack ? "success via anonymous fallback" : "success";
  }
  const attempts =
    end.error instanceof PullError ? `, ${end.error.attempts.length} attempt${end.error.attempts.length === 1 ? "" : "s"}` : "";
  const cause = end.causeKind !== undefined && end.causeKind !== end.kind ? ` (cause: ${end.causeKind})` : "";
  return `${end.kind} error${cause}${attempts}`;
}

function pull(path: Exclude<Path, "cluster verify">, ref: string, extra: { timeoutMs?: number; to?: string } = {}): Promise<Pulled> {
  if (path === "local daemon") return ensureImage(docker, ref, { credential: alice });
  if (path === "ssh daemon") return pullRemoteImage(world.ssh.url, ref, { ...ssh, credential: alice });
  return pullImage(ref, { to: parseDestination(extra.to ?? `oci:${freshDir()}:x`), credential: alice, timeoutMs: extra.timeoutMs });
}

/** A pull or verification that failed must not have been retried anonymously (only auth refusals are). */
function expectNoFallback(end: Ending): void {
  if (!end.ok && end.error instanceof PullError) expect(end.error.attempts.every((a) => !a.identity.anonymous)).toBe(true);
  if (end.ok && "fellBack" in end.value) expect(end.value.fellBack).toBe(false);
}

async function daemonHas(ref: string): Promise<boolean> {
  return (await engineRequest(world, "GET", `/images/${encodeURIComponent(ref)}/json`)).status === 200;
}

const DAEMONS = ["local daemon", "ssh daemon"] as const;
const PULLS = ["local daemon", "ssh daemon", "oci layout"] as const;
const serverError = (status: number, times?: number): FaultRule => ({
  match: { path: "/manifests/" },
  action: { type: "respond", status, headers: { "content-type": "text/plain" }, body: `injected ${status}` },
  ...(times === undefined ? {} : { times }),
});

describe("registry 5xx", () => {
  for (const status of [500, 502, 503]) {
    for (const path of PULLS) {
      it(`${status} twice, then served: ${path}`, async () => {
        if (path !== "oci layout") await removeAllImages(world);
        await setFaults(world, [serverError(status, 2)]);
        const end = await ending(pull(path, proxied));
        recordRow(`registry ${status} ×2 (intermittent)`, path, summary(end));
        expectNoFallback(end);
        const fired = (await proxyRequests(world)).filter((r) => r.fault !== null).length;
        expect(fired).toBe(2);
        // pullback's client retries 5xx; dockerd 20.10 does not retry a manifest request, so the daemon paths fail classified.
        if (path === "oci layout") expect(end.ok).toBe(true);
        else if (!end.ok) expect(end.kind).toBe("registry");
        expectNoSecrets(world, end);
      }, 60_000);
    }
    it(`${status} twice, then served: cluster verify`, async () => {
      await setFaults(world, [serverError(status, 2)]);
      const end = await ending(verifyCredentials(proxied, alice));
      recordRow(`registry ${status} ×2 (intermittent)`, "cluster verify", summary(end));
      expect(verificationOf(end)?.verdict).toBe("accepted");
    }, 30_000);
  }

  for (const path of PULLS) {
    it(`503 for good: ${path} fails as registry, naming the status`, async () => {
      if (path !== "oci layout") await removeAllImages(world);
      await setFaults(world, [serverError(503)]);
      const end = await ending(pull(path, proxied));
      recordRow("registry 503 permanently", path, summary(end));
      expect(end.ok).toBe(false);
      if (end.ok) return;
      expect(end.kind).toBe("registry");
      expect(`${pullErrorOf(end).message} ${pullErrorOf(end).diagnosis.explanation}`).toMatch(/503|Service Unavailable/i);
      expectNoFallback(end);
      expectNoSecrets(world, end);
    }, 60_000);
  }
  it("503 for good: cluster verify says unreachable, never rejected", async () => {
    await setFaults(world, [serverError(503)]);
    const end = await ending(verifyCredentials(proxied, alice));
    recordRow("registry 503 permanently", "cluster verify", summary(end));
    expect(verificationOf(end)?.verdict).toBe("unreachable");
    expect(verificationOf(end)?.message).toMatch(/503/);
  }, 30_000);
});

describe("connection reset mid-blob", () => {
  const reset = (times?: number): FaultRule => ({
    match: { method: "GET", path: `/blobs/${bigLayer.digest}` },
    action: { type: "reset", afterBytes: 200_000 },
    ...(times === undefined ? {} : { times }),
  });

  it("once: oci layout recovers inside the same pull (Range when bytes had arrived)", async () => {
    await setFaults(world, [reset(1)]);
    const end = await ending(pull("oci layout", proxied));
    const statuses = (await proxyRequests(world)).filter((r) => r.path.includes(bigLayer.digest)).map((r) => r.status);
    // The proxy's reset may discard the bytes in flight (then the second try starts at 0: 200).
    const how = statuses[1] === 206 ? "resumed with Range" : "restarted: nothing had arrived";
    recordRow("reset mid-blob, once", "oci layout", end.ok ? `${summary(end)} (${how})` : summary(end));
    expect(end.ok).toBe(true);
    expect(statuses).toHaveLength(2);
    expect([
      [200, 206],
      [200, 200],
    ]).toContainEqual(statuses);
  }, 60_000);

  it("every time: oci layout fails as network and keeps the partial blob for the next run, no index", async () => {
    await setFaults(world, [reset()]);
    const dir = freshDir();
    const end = await ending(pull("oci layout", proxied, { to: `oci:${dir}:x` }));
    recordRow("reset mid-blob, every time", "oci layout", summary(end));
    expect(end.ok).toBe(false);
    expect(!end.ok && end.kind).toBe("network");
    expect(existsSync(join(dir, "index.json"))).toBe(false);
    expect(readdirSync(join(dir, "blobs", "sha256")).some((n) => n.endsWith(".partial"))).toBe(true);
  }, 60_000);

  for (const path of DAEMONS) {
    it(`every time: ${path} reports a classified error and keeps no image`, async () => {
      await expectDaemonFailure(path, reset(), "reset mid-blob, every time", "network");
    }, 180_000);
  }
});

describe("a blob slower than the idle timeout", () => {
  const slow: FaultRule = { match: { method: "GET", path: `/blobs/${bigLayer.digest}` }, action: { type: "delay", ms: 3_000 } };

  it("oci layout with idleTimeoutMs 500: network error, bounded", async () => {
    await setFaults(world, [slow]);
    const end = await ending(pull("oci layout", proxied, { timeoutMs: 500 }));
    recordRow("blob silent 3 s, idle timeout 0.5 s", "oci layout", `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
    expect(!end.ok && end.kind).toBe("network");
    expect(end.ms).toBeLessThan(15_000);
  }, 30_000);

  for (const path of DAEMONS) {
    it(`${path}: dockerd's own timeout is longer; the pull waits and succeeds`, async () => {
      await removeAllImages(world);
      await setFaults(world, [slow]);
      const end = await ending(pull(path, proxied));
      recordRow("blob silent 3 s", path, `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
      expect(end.ok).toBe(true);
    }, 60_000);
  }

  it("cluster verify with timeoutMs 500 on a silent manifest: unreachable, bounded", async () => {
    await setFaults(world, [{ match: { path: "/manifests/" }, action: { type: "delay", ms: 3_000 } }]);
    const end = await ending(verifyCredentials(proxied, alice, { timeoutMs: 500 }));
    recordRow("manifest silent 3 s, timeout 0.5 s", "cluster verify", `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
    expect(verificationOf(end)?.verdict).toBe("unreachable");
    expect(end.ms).toBeLessThan(15_000);
  }, 30_000);
});

describe("token service down while the registry is up", () => {
  for (const path of [...PULLS, "cluster verify"] as const) {
    it(`${path}: network or registry, never auth, no anonymous fallback`, async () => {
      const stub = await startStub(deadRealmRegistry(await closedPort()));
      try {
        const ref = `${stub.host}/public/app:1`;
        const end = await ending(pullOrVerify(path, ref));
        recordRow("token realm refuses connections", path, summary(end));
        if (path === "cluster verify") {
          expect(verificationOf(end)?.verdict).toBe("unreachable");
          return;
        }
        expect(end.ok).toBe(false);
        expect(["network", "registry"]).toContain(!end.ok && end.kind);
        expect(pullErrorOf(end).attempts).toHaveLength(1);
        expectNoSecrets(world, end);
      } finally {
        await stub.close();
      }
    }, 60_000);
  }
});

describe("token service slow while the registry is up", () => {
  // The token registry behind a forwarder that sends clients to a realm answering 3 s late (then the real token service).
  let slowRealm: StubServer;
  let registry: StubServer;
  beforeAll(async () => {
    slowRealm = await startStub(forwarder(world.tokenService.url, { delayMs: 3_000 }));
    registry = await startStub(
      forwarder(world.registries.token.url, {
        rewriteRealm: (realm) => realm.replace(new URL(world.tokenService.url).host, slowRealm.host),
      }),
    );
  });
  afterAll(async () => {
    await registry.close();
    await slowRealm.close();
  });

  for (const path of [...PULLS, "cluster verify"] as const) {
    it(`realm answers after 3 s: ${path} waits and succeeds with the credential`, async () => {
      if (path === "local daemon" || path === "ssh daemon") await removeAllImages(world);
      const ref = `${registry.host}/public/app:1`;
      const end = await ending(pullOrVerify(path, ref));
      recordRow("token realm answers after 3 s", path, `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
      if (path === "cluster verify") expect(verificationOf(end)?.verdict).toBe("accepted");
      else expect(end.ok).toBe(true);
      expectNoFallback(end);
      expect(end.ms).toBeGreaterThanOrEqual(2_900);
    }, 60_000);
  }

  it("realm answers after 3 s, timeout 0.5 s: cluster verify is unreachable, bounded", async () => {
    const end = await ending(verifyCredentials(`${registry.host}/public/app:1`, alice, { timeoutMs: 500 }));
    recordRow("token realm answers after 3 s, timeout 0.5 s", "cluster verify", `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
    expect(verificationOf(end)?.verdict).toBe("unreachable");
    expect(end.ms).toBeLessThan(15_000);
  }, 30_000);
});

describe("429 with Retry-After", () => {
  const tooMany = (retryAfter: string, times?: number): FaultRule => ({
    match: { path: "/manifests/" },
    action: {
      type: "respond",
      status: 429,
      headers: { "retry-after": retryAfter, "content-type": "application/json" },
      body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
    },
    ...(times === undefined ? {} : { times }),
  });

  it("oci layout: Retry-After 1 once → waits and succeeds", async () => {
    await setFaults(world, [tooMany("1", 1)]);
    const end = await ending(pull("oci layout", proxied));
    recordRow("429 Retry-After 1 s, once", "oci layout", `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
    expect(end.ok).toBe(true);
    expect(end.ms).toBeGreaterThanOrEqual(900);
  }, 30_000);

  for (const path of PULLS) {
    it(`${path}: Retry-After 3600 for good → rate-limited at once, no anonymous fallback`, async () => {
      if (path !== "oci layout") await removeAllImages(world);
      await setFaults(world, [tooMany("3600")]);
      const end = await ending(pull(path, proxied));
      recordRow("429 Retry-After 1 h, permanently", path, `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
      expect(!end.ok && end.kind).toBe("rate-limited");
      expectNoFallback(end);
      // No manifest request went out without a credential-bought token: no anonymous retry.
      expect((await proxyRequests(world)).filter((r) => r.path.includes("/manifests/") && !r.authenticated)).toEqual([]);
    }, 60_000);
  }

  it("cluster verify: rate limit is unreachable, never rejected", async () => {
    await setFaults(world, [tooMany("3600")]);
    const end = await ending(verifyCredentials(proxied, alice));
    recordRow("429 Retry-After 1 h, permanently", "cluster verify", summary(end));
    expect(verificationOf(end)?.verdict).toBe("unreachable");
  }, 30_000);
});

describe("digest mismatch", () => {
  const corrupt: FaultRule = { match: { method: "GET", path: `/blobs/${bigLayer.digest}` }, action: { type: "corrupt", offset: 1000 } };

  it("oci layout: rejected as integrity, nothing kept", async () => {
    await setFaults(world, [corrupt]);
    const dir = freshDir();
    const end = await ending(pull("oci layout", proxied, { to: `oci:${dir}:x` }));
    recordRow("blob corrupted (1 byte flipped)", "oci layout", summary(end));
    expect(!end.ok && end.causeKind).toBe("integrity");
    expectNoFallback(end);
    const names = existsSync(join(dir, "blobs", "sha256")) ? readdirSync(join(dir, "blobs", "sha256")) : [];
    expect(names.filter((n) => n.startsWith(bigLayer.digest.slice(7)))).toEqual([]);
    expect(existsSync(join(dir, "index.json"))).toBe(false);
  }, 60_000);

  for (const path of DAEMONS) {
    it(`${path}: dockerd refuses the layer; classified, no image kept`, async () => {
      // The same word as the daemonless path: integrity (exit 9), not a registry outage.
      await expectDaemonFailure(path, corrupt, "blob corrupted (1 byte flipped)", "integrity");
    }, 180_000);
  }
});

/** A daemon pull through the proxy under `fault`: classified as `kind`, recorded, no fallback, no image left. */
async function expectDaemonFailure(path: (typeof DAEMONS)[number], fault: FaultRule, row: string, kind: ErrorKind): Promise<void> {
  await removeAllImages(world);
  await setFaults(world, [fault]);
  const end = await ending(pull(path, proxied));
  recordRow(row, path, summary(end));
  expect(end.ok).toBe(false);
  expect(!end.ok && end.kind).toBe(kind);
  expectNoFallback(end);
  expect(await daemonHas(proxied)).toBe(false);
}

/** A transport killed mid-pull: a typed network-side failure, bounded, nothing unhandled, no fallback, no secret. */
function expectTransportFailure(end: Awaited<ReturnType<typeof ending>>, unhandled: readonly unknown[]): void {
  expect(end.ok).toBe(false);
  expect(["network", "daemon-unreachable"]).toContain(!end.ok && end.kind);
  expect(end.ms).toBeLessThan(20_000);
  expect(unhandled).toEqual([]);
  expectNoFallback(end);
  expectNoSecrets(world, end);
}

describe("nothing listens", () => {
  for (const path of PULLS) {
    it(`registry on a closed port: ${path} fails as network`, async () => {
      const end = await ending(pull(path, `127.0.0.1:${await closedPort()}/public/app:1`));
      recordRow("registry port closed", path, summary(end));
      expect(!end.ok && end.kind).toBe("network");
      expectNoFallback(end);
    }, 60_000);
  }
  it("registry on a closed port: cluster verify says unreachable", async () => {
    const end = await ending(verifyCredentials(`127.0.0.1:${await closedPort()}/public/app:1`, alice));
    recordRow("registry port closed", "cluster verify", summary(end));
    expect(verificationOf(end)?.verdict).toBe("unreachable");
  });
  it("daemon on a closed port: local daemon is daemon-unreachable", async () => {
    const end = await ending(connectDocker({ host: `tcp://127.0.0.1:${await closedPort()}`, timeoutMs: 5_000 }));
    recordRow("daemon port closed", "local daemon", summary(end));
    expect(!end.ok && end.kind).toBe("daemon-unreachable");
  }, 30_000);
  it("sshd on a closed port: ssh daemon is daemon-unreachable", async () => {
    const end = await ending(pullRemoteImage(`ssh://root@127.0.0.1:${await closedPort()}`, proxied, { ...ssh, credential: alice }));
    recordRow("ssh port closed", "ssh daemon", summary(end));
    expect(!end.ok && end.kind).toBe("daemon-unreachable");
  }, 30_000);
});

describe("the local filesystem refuses", () => {
  const registries = [{ host: world.registries.token.host, credential: alice, verifyRepositories: ["public/app"] }];

  it("registries.yaml under a regular file: io error", async () => {
    const file = join(freshDir(), "not-a-dir");
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, "x");
    const end = await ending(writeRegistriesConfig({ registries, path: join(file, "registries.yaml") }));
    recordRow("registries.yaml parent is a file", "cluster verify", summary(end));
    expect(["io", "config"]).toContain(!end.ok && end.kind);
    expect(readFileSync(file, "utf8")).toBe("x");
    expectNoSecrets(world, end);
  });

  it("registries.yaml in a read-only directory: io error, the old file intact", async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "registries.yaml");
    const old = "mirrors:\n  docker.io:\n    endpoint:\n      - https://mirror.example\n";
    writeFileSync(path, old);
    execFileSync("mount", ["--bind", dir, dir]);
    try {
      execFileSync("mount", ["-o", "remount,ro,bind", dir]);
      const end = await ending(writeRegistriesConfig({ registries, path }));
      recordRow("registries.yaml directory read-only", "cluster verify", summary(end));
      expect(["io", "config"]).toContain(!end.ok && end.kind);
      expect(readFileSync(path, "utf8")).toBe(old);
      expect(readdirSync(dir)).toEqual(["registries.yaml"]);
      expectNoSecrets(world, end);
    } finally {
      execFileSync("umount", [dir]);
    }
  });

  it("disk full under an OCI layout: io error, index.json unchanged and valid", async () => {
    const mount = freshDir();
    mkdirSync(mount, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount]);
    try {
      const layout = join(mount, "layout");
      await pullImage(`${world.registries.token.host}/public/multi:1`, {
        to: parseDestination(`oci:${layout}:small`),
        platform: "linux/amd64",
      });
      const before = readFileSync(join(layout, "index.json"), "utf8");
      const end = await ending(pull("oci layout", `${world.registries.token.host}/public/app:1`, { to: `oci:${layout}:big` }));
      recordRow("disk full (8 MiB tmpfs, 20 MiB image)", "oci layout", summary(end));
      expect(!end.ok && end.causeKind).toBe("io");
      expectNoFallback(end);
      // Said as it is: which filesystem, how much is needed and free, what was kept — exit 8, not "run with -v".
      const error = pullErrorOf(end);
      expect([error.kind, error.reason, exitCodeFor(error)]).toEqual(["io", "disk-full", 8]);
      expect(error.diagnosis.summary).toBe(`No space left on the filesystem holding ${join(layout, "blobs", "sha256")}`);
      expect(error.diagnosis.explanation).toMatch(
        new RegExp(`The image still needs .* more\\. The filesystem mounted at ${mount} \\(tmpfs\\) has .* free of 8\\.0 MiB\\.`),
      );
      expect(error.diagnosis.explanation).toMatch(/partly downloaded blobs? (was|were) kept .*\.partial\): the next run resumes/);
      expect(readdirSync(join(layout, "blobs", "sha256")).some((name) => name.endsWith(".partial"))).toBe(true);
      const after = readFileSync(join(layout, "index.json"), "utf8");
      expect(after).toBe(before);
      expect((JSON.parse(after) as { manifests: unknown[] }).manifests).toHaveLength(1);
    } finally {
      execFileSync("umount", ["-l", mount]);
    }
  }, 60_000);
});

describe("the daemon's transport dies mid-pull", () => {
  // Every blob waits 5 s at the proxy, so the pull is surely in flight when its first layer line arrives.
  const slowBlobs: FaultRule = { match: { method: "GET", path: "/blobs/" }, action: { type: "delay", ms: 5_000 } };

  /** Runs `work`, collecting every unhandled rejection and uncaught exception until shortly after it settles. */
  async function watchingUnhandled(work: () => Promise<Ending>): Promise<{ end: Ending; unhandled: unknown[] }> {
    const unhandled: unknown[] = [];
    const collect = (error: unknown): void => void unhandled.push(error);
    process.on("unhandledRejection", collect);
    process.on("uncaughtException", collect);
    try {
      const end = await work();
      // A socket or SSH error that escapes does so on a later tick: give it the chance.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { end, unhandled };
    } finally {
      process.off("unhandledRejection", collect);
      process.off("uncaughtException", collect);
    }
  }

  /** Calls `kill` once, on the first layer line: the daemon is pulling, the blobs are not yet through the proxy. */
  function onFirstLayer(kill: () => void): { onEvent: (event: { type: string }) => void; fired: () => boolean } {
    let fired = false;
    return {
      onEvent: (event) => {
        if (fired || event.type !== "layer") return;
        fired = true;
        kill();
      },
      fired: () => fired,
    };
  }

  it("SSH connection dropped (sshd session killed): ssh daemon fails classified, bounded, nothing unhandled", async () => {
    await removeAllImages(world);
    await setFaults(world, [slowBlobs]);
    const sshd = listeningSshdPid(world.stateDir);
    const before = new Set(descendantsOf(sshd));
    let killed = 0;
    // Only the sessions opened by this pull go (their dial-stdio children with them); the listener stays.
    const trigger = onFirstLayer(() => (killed = killEach(descendantsOf(sshd).filter((pid) => !before.has(pid)))));
    const { end, unhandled } = await watchingUnhandled(() =>
      ending(pullRemoteImage(world.ssh.url, proxied, { ...ssh, credential: alice, onEvent: trigger.onEvent })),
    );
    recordRow(
      "SSH connection dropped mid-pull (sshd session killed)",
      "ssh daemon",
      `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`,
    );
    expect(trigger.fired()).toBe(true);
    expect(killed).toBeGreaterThan(0);
    expectTransportFailure(end, unhandled);
    // The listening sshd survived: a new connection still reaches the daemon.
    expect(() => process.kill(sshd, 0)).not.toThrow();
    const again = await connectDocker({ host: world.ssh.url, ...ssh });
    again.close();
  }, 60_000);

  it("dockerd SIGKILLed (a private one): local daemon fails classified, bounded, nothing unhandled", async () => {
    // Its own state dir under the world's prefix, so the world's cleanup may unmount what a killed dockerd leaves mounted.
    const stateDir = mkdtempSync("/tmp/pullback-world-killed-dockerd-");
    const dockerd = await startDockerd(stateDir).catch(async (error: unknown) => {
      await removeStateDir(stateDir);
      throw error;
    });
    let privateDocker: DockerConnection | undefined;
    try {
      privateDocker = await connectDocker({ host: dockerd.dockerHost, timeoutMs: 10_000 });
      const pid = Number(readFileSync(join(stateDir, "docker", "dockerd.pid"), "utf8").trim());
      await setFaults(world, [slowBlobs]);
      const trigger = onFirstLayer(() => process.kill(pid, "SIGKILL"));
      const connection = privateDocker;
      const { end, unhandled } = await watchingUnhandled(() =>
        ending(ensureImage(connection, proxied, { credential: alice, onEvent: trigger.onEvent })),
      );
      recordRow("dockerd killed mid-pull (SIGKILL)", "local daemon", `${summary(end)} after ${(end.ms / 1000).toFixed(1)} s`);
      expect(trigger.fired()).toBe(true);
      expectTransportFailure(end, unhandled);
    } finally {
      privateDocker?.close();
      await dockerd.stop();
      await removeStateDir(stateDir);
    }
  }, 120_000);
});

describe("the report", () => {
  it("has one row per scenario run so far", () => {
    expect(rows.length).toBeGreaterThan(20);
  });
});
