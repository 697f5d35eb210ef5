/**
 * pullback's own requests (daemonless pull, check) against TLS registries under
 * real names with a private CA, and through a real proxy — inside a network
 * namespace where those names resolve to the test world and nothing else.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, buildOnce, cleanHome, runCli, type CliRun } from "../cli/run-cli.js";
import { blobRequests, clearBlobRequests, engineRequest, getWorld } from "../world/client.js";
import type { Dockerd } from "../world/dockerd.js";
import { startNetnsDockerd } from "../world/netns-dockerd.js";
import { startTlsWorld, type TlsWorld } from "../world/tls-world.js";

const world = getWorld();
const home = cleanHome();
let tls: TlsWorld;
let out: string;

/** Every run's environment: nothing of the machine's (no proxy, no Docker config), plus what the test adds. */
function env(extra: Record<string, string> = {}, user?: { username: string; password: string }): NodeJS.ProcessEnv {
  const credentials = user === undefined ? {} : { PULLBACK_REGISTRY_USERNAME: user.username, PULLBACK_REGISTRY_TOKEN: user.password };
  return { PATH: process.env.PATH, HOME: home, DOCKER_CONFIG: join(home, ".docker"), NO_COLOR: "1", ...credentials, ...extra };
}

/** pullback inside the namespace. */
function inside(args: readonly string[], environment: NodeJS.ProcessEnv = env()): Promise<CliRun> {
  return runCli(args, { env: environment, command: [...tls.info.exec, process.execPath, BIN] });
}

const lastJson = (run: CliRun): Record<string, unknown> =>
  JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
const verification = (run: CliRun): Record<string, unknown> =>
  ((lastJson(run).verifications as Record<string, unknown>[] | undefined) ?? [])[0] ?? {};

beforeAll(async () => {
  buildOnce();
  tls = await startTlsWorld(world);
  out = await mkdtemp(join(tmpdir(), "pullback-tls-out-"));
}, 180_000);

afterAll(async () => {
  await tls?.stop();
  await rm(home, { recursive: true, force: true });
  if (out) await rm(out, { recursive: true, force: true });
});

describe("trust: certs.d, --cert-dir, NODE_EXTRA_CA_CERTS, rootless certs.d", () => {
  it("check trusts /etc/docker/certs.d/HOST/ca.crt (the namespace's own /etc/docker)", async () => {
    const run = await inside(["check", "alpine"]);
    expect(run.stdout).toMatch(/^ACCEPTED +docker\.io\/library\/alpine — no credentials \(anonymous\)/m);
    expect(run.code).toBe(0);
  });

  it("an untrusted private CA: exit 5, reason tls-unknown-ca, the host, where pullback looked, and the fix", async () => {
    const run = await inside(["check", "quay.io/public/app:1", "--json"]);
    expect(run.code).toBe(5);
    const v = verification(run);
    expect(v.verdict).toBe("unreachable");
    expect(v.reason).toBe("tls-unknown-ca");
    const text = JSON.stringify(v.diagnosis);
    expect(text).toContain("The certificate of quay.io is not signed by a CA pullback trusts");
    expect(text).toContain("/etc/docker/certs.d/quay.io");
    expect(text).toContain("/etc/containers/certs.d/quay.io");
    expect(text).toContain("openssl s_client -showcerts -connect quay.io:443 -servername quay.io");
    expect(text).toContain("NODE_EXTRA_CA_CERTS");
    expect(text).not.toMatch(/again later/i);
  });

  it("--cert-dir (skopeo's layout) makes the same registry trusted", async () => {
    const run = await inside(["check", "quay.io/public/app:1", "--cert-dir", tls.info.certDir]);
    expect(run.stdout).toMatch(/^ACCEPTED +quay\.io\/public\/app/m);
    expect(run.code).toBe(0);
  });

  it("NODE_EXTRA_CA_CERTS makes it trusted too", async () => {
    const run = await inside(["check", "quay.io/public/app:1"], env({ NODE_EXTRA_CA_CERTS: tls.info.caFile }));
    expect(run.code).toBe(0);
  });

  it("the rootless $XDG_CONFIG_HOME/containers/certs.d/HOST/ makes it trusted too", async () => {
    const config = join(home, "xdg");
    await mkdir(join(config, "containers", "certs.d", "quay.io"), { recursive: true });
    await copyFile(tls.info.caFile, join(config, "containers", "certs.d", "quay.io", "ca.crt"));
    const run = await inside(["check", "quay.io/public/app:1"], env({ XDG_CONFIG_HOME: config }));
    expect(run.code).toBe(0);
  });

  it("mutual TLS: client.cert + client.key from /etc/containers/certs.d/HOST:PORT/", async () => {
    const run = await inside(["check", "mtls.registry.test:5443/public/app:1"]);
    expect(run.stdout).toMatch(/^ACCEPTED +mtls\.registry\.test:5443\/public\/app/m);
    expect(run.code).toBe(0);
  });

  it("mutual TLS with --cert-dir holding client.cert + client.key, and without them: tls-client-cert-required", async () => {
    const withClient = await inside(["check", "mtls.registry.test:5443/public/app:1", "--cert-dir", tls.info.clientCertDir]);
    expect(withClient.code).toBe(0);
    const without = await inside(["check", "mtls.registry.test:5443/public/app:1", "--cert-dir", tls.info.certDir, "--json"]);
    expect(without.code).toBe(5);
    expect(verification(without).reason).toBe("tls-client-cert-required");
    expect(JSON.stringify(verification(without).diagnosis)).toContain(
      "mtls.registry.test:5443 requires a client certificate, and pullback found none",
    );
  });

  it.each([
    ["expired.registry.test", "tls-expired", "The certificate of expired.registry.test is expired or not yet valid"],
    ["wrong-name.registry.test", "tls-hostname-mismatch", "The certificate of wrong-name.registry.test is for another name"],
    ["plain.registry.test", "tls-plain-http", "plain.registry.test answered in plain HTTP where TLS was expected"],
    // A loopback address is spoken to in plain HTTP; distribution's TLS port answers "Client sent an HTTP request to an HTTPS server".
    ["127.0.10.4:443", "tls-expected", "127.0.10.4:443 speaks TLS, but pullback spoke plain HTTP to it"],
  ])("%s: reason %s", async (host, reason, summary) => {
    const run = await inside(["check", `${host}/public/app:1`, "--cert-dir", tls.info.certDir, "--json"]);
    expect(run.code).toBe(5);
    expect(verification(run).reason).toBe(reason);
    expect(JSON.stringify(verification(run).diagnosis)).toContain(summary);
  });

  it("a daemonless pull fails the same way, exit 5 with the reason in --json, and is not retried anonymously", async () => {
    const run = await inside(
      ["pull", "quay.io/public/app:1", "--to", `oci:${join(out, "untrusted")}`, "--json"],
      env({}, world.users.alice),
    );
    expect(run.code).toBe(5);
    const error = lastJson(run);
    expect(error.kind).toBe("network");
    expect(error.reason).toBe("tls-unknown-ca");
    expect((error.attempts as unknown[]).length).toBe(1);
    expect((error.diagnosis as { summary: string }).summary).toBe("The certificate of quay.io is not signed by a CA pullback trusts");
  });
});

describe("real names: Docker Hub and ghcr.io over TLS", () => {
  it("pullback pull alpine: docker.io/library/alpine from registry-1.docker.io (realm auth.docker.io), falling back on a refused credential", async () => {
    const refused = { username: world.users.alice.username, password: world.users.wrongPassword };
    const run = await inside(["pull", "alpine", "--to", `oci:${join(out, "alpine")}:latest`, "--json"], env({}, refused));
    expect(run.stderr).toBe("");
    const outcome = lastJson(run);
    expect(outcome.type).toBe("outcome");
    expect(outcome.fellBack).toBe(true);
    expect((outcome.image as { reference: string }).reference).toBe("docker.io/library/alpine:latest");
    expect(run.code).toBe(0);
  });

  it("ghcr.io sends blobs to its CDN with a signed URL: the blobs come from there, without Authorization", async () => {
    await clearBlobRequests(world);
    const run = await inside(["pull", "ghcr.io/private/app:1", "--to", `oci:${join(out, "ghcr")}:1`], env({}, world.users.alice));
    expect(run.code).toBe(0);
    const fromCdn = (await blobRequests(world)).filter((r) => r.host === tls.info.hosts.cdn);
    expect(fromCdn.length).toBeGreaterThan(0);
    expect(fromCdn.every((r) => r.status === 200 && !r.hasAuthorization)).toBe(true);
  });
});

describe("cluster-config verifies with the registries.yaml tls block it merges", () => {
  const args = (output: string): string[] => [
    "cluster-config",
    "--registry",
    "basic.registry.test",
    "--verify-repo",
    "private/app:1",
    "--output",
    output,
  ];

  it("configs.HOST.tls.ca_file: the credential is verified over TLS, accepted, written, and the tls block kept", async () => {
    const output = join(out, "registries-ca.yaml");
    await writeFile(output, `configs:\n  "basic.registry.test":\n    tls:\n      ca_file: "${tls.info.caFile}"\n`);
    const run = await inside(args(output), env({}, world.users.alice));
    expect(run.stderr).toMatch(/accepted — credentials kept/);
    const written = await readFile(output, "utf8");
    expect(written).toContain(`ca_file: "${tls.info.caFile}"`);
    expect(written).toMatch(/username: "alice"/);
    expect(run.code).toBe(0);
  });

  it("insecure_skip_verify in the tls block is honoured, and said out loud", async () => {
    const output = join(out, "registries-skip.yaml");
    await writeFile(output, `configs:\n  "wrong-name.registry.test":\n    tls:\n      insecure_skip_verify: true\n`);
    const run = await inside(
      ["cluster-config", "--registry", "wrong-name.registry.test", "--verify-repo", "public/app:1", "--output", output],
      env({}, world.users.alice),
    );
    expect(run.stderr).toMatch(/wrong-name\.registry\.test: accepted/);
    expect(run.stderr).toMatch(
      /warning: configs\."wrong-name\.registry\.test"\.tls\.insecure_skip_verify is true: the nodes, and this verification, accept any certificate/,
    );
    expect(await readFile(output, "utf8")).toMatch(/insecure_skip_verify: true/);
    expect(run.code).toBe(0);
  });

  it("without it a registry cannot be verified, even one in /etc/docker/certs.d (a k3s node does not read it): unverified", async () => {
    // ghcr.io's CA is in /etc/docker/certs.d: the daemon path trusts it, a k3s node would not.
    const output = join(out, "registries-none.yaml");
    const run = await inside(
      ["cluster-config", "--registry", "ghcr.io", "--verify-repo", "private/app:1", "--output", output, "--dry-run"],
      env({}, world.users.alice),
    );
    expect(run.stderr).toMatch(/ghcr\.io: unreachable — credentials kept/);
    expect(run.stderr).toMatch(/could not be verified \(could not verify: GET https:\/\/ghcr\.io\/v2\/: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });
});

describe("proxies: HTTPS_PROXY, NO_PROXY, CONNECT, 407, dead proxy", () => {
  it("with HTTPS_PROXY every request goes through the proxy with CONNECT — registry and token service", async () => {
    const before = (await readFile(tls.info.proxy.logFile, "utf8")).length;
    const run = await inside(["check", "registry-1.docker.io/private/app:1"], env({ HTTPS_PROXY: tls.info.proxy.url }, world.users.alice));
    expect(run.stdout).toMatch(/^ACCEPTED/m);
    expect(run.code).toBe(0);
    const log = (await readFile(tls.info.proxy.logFile, "utf8")).slice(before);
    expect(log).toContain("CONNECT registry-1.docker.io:443");
    expect(log).toContain("CONNECT auth.docker.io:443");
    // The proxy sees the tunnel, never the credential or the request inside it.
    expect(log).not.toContain(world.users.alice.password);
    expect(log).not.toMatch(/authorization/i);
  });

  it("NO_PROXY entries go direct (lower-case https_proxy, a host entry with a leading dot)", async () => {
    const before = (await readFile(tls.info.proxy.logFile, "utf8")).length;
    const run = await inside(["check", "alpine"], env({ https_proxy: "proxy.test:3128", NO_PROXY: ".docker.io" }));
    expect(run.code).toBe(0);
    const log = (await readFile(tls.info.proxy.logFile, "utf8")).slice(before);
    expect(log).not.toContain("docker.io:443");
  });

  it("a dead proxy: exit 5, proxy-unreachable, the proxy named, nothing direct, no anonymous retry", async () => {
    const run = await inside(
      ["pull", "ghcr.io/public/app:1", "--to", `oci:${join(out, "dead")}`, "--json"],
      env({ HTTPS_PROXY: "http://proxy.test:3999" }, world.users.alice),
    );
    expect(run.code).toBe(5);
    const error = lastJson(run);
    expect(error.reason).toBe("proxy-unreachable");
    expect((error.attempts as unknown[]).length).toBe(1);
    expect((error.diagnosis as { summary: string }).summary).toBe("The proxy http://proxy.test:3999 could not be reached");
  });

  it("a proxy that wants authentication: 407 is proxy-auth-required; with user:password in the URL it works, and the password is never shown", async () => {
    const refused = await inside(["check", "ghcr.io/public/app:1", "--json"], env({ HTTPS_PROXY: tls.info.proxy.authUrl }));
    expect(refused.code).toBe(5);
    expect(verification(refused).reason).toBe("proxy-auth-required");
    expect(JSON.stringify(verification(refused).diagnosis)).toContain(
      "The proxy http://proxy.test:3129 refused the request: proxy authentication required (HTTP 407)",
    );
    const { user, password } = tls.info.proxy;
    const withAuth = `http://${user}:${password}@proxy.test:3129`;
    const wrong = await inside(["check", "ghcr.io/public/app:1", "-v"], env({ HTTPS_PROXY: withAuth.replace(password, "not-it") }));
    expect(wrong.code).toBe(5);
    expect(wrong.stdout).toMatch(
      /The proxy http:\/\/\*\*\*@proxy\.test:3129 refused the request: proxy authentication required \(HTTP 40[17]\)/,
    );
    const ok = await inside(["check", "ghcr.io/public/app:1", "-v"], env({ HTTPS_PROXY: withAuth }));
    expect(ok.code).toBe(0);
    for (const run of [refused, wrong, ok]) expect(run.stdout + run.stderr).not.toContain(password);
    expect(await readFile(tls.info.proxy.authLogFile, "utf8")).not.toContain(password);
  });

  it("plain HTTP (an --insecure registry) goes through HTTP_PROXY in absolute form, with Proxy-Authorization", async () => {
    const { user, password } = tls.info.proxy;
    const before = (await readFile(tls.info.proxy.authLogFile, "utf8")).length;
    const run = await inside(
      ["check", "plain.registry.test:443/public/app:1", "--insecure"],
      env({ HTTP_PROXY: `http://${user}:${password}@proxy.test:3129` }),
    );
    expect(run.stdout).toMatch(/^ACCEPTED +plain\.registry\.test:443\/public\/app/m);
    expect(run.code).toBe(0);
    const log = (await readFile(tls.info.proxy.authLogFile, "utf8")).slice(before);
    expect(log).toMatch(/GET http:\/\/plain\.registry\.test:443\/v2\//);
    expect(log).not.toContain(password);
    const refused = await inside(
      ["check", "plain.registry.test:443/public/app:1", "--insecure", "--json"],
      env({ HTTP_PROXY: "http://proxy.test:3129" }),
    );
    expect(refused.code).toBe(5);
    expect(verification(refused).reason).toBe("proxy-auth-required");
  });

  it("a proxy that cannot reach the registry: proxy-upstream-failed", async () => {
    const run = await inside(["check", "nowhere.registry.test/public/app:1", "--json"], env({ HTTPS_PROXY: tls.info.proxy.url }));
    expect(run.code).toBe(5);
    expect(verification(run).reason).toBe("proxy-upstream-failed");
  });
});

describe("a dockerd inside the namespace", () => {
  let dockerd: Dockerd | undefined;
  beforeAll(async () => {
    // dockerd reads certs.d for every registry except Docker Hub, which it reaches with the system
    // roots only (observed: /etc/docker/certs.d/docker.io/ca.crt alone gives "x509: certificate signed
    // by unknown authority"). So this daemon's system roots are the private CA (Go reads SSL_CERT_FILE).
    dockerd = await startNetnsDockerd(tls.info.exec, tls.info.stateDir, { SSL_CERT_FILE: tls.info.caFile });
  }, 120_000);
  afterAll(async () => {
    await dockerd?.stop();
  });

  it("pullback pull alpine: docker.io/library/alpine from registry-1.docker.io over TLS, a refused credential falls back, the image lands; check agrees", async () => {
    const refused = { username: world.users.alice.username, password: world.users.wrongPassword };
    const run = await inside(["pull", "alpine"], env({ DOCKER_HOST: dockerd!.dockerHost }, refused));
    expect(run.stderr).toMatch(
      /warning: the credentials from PULLBACK_REGISTRY_USERNAME and PULLBACK_REGISTRY_TOKEN were refused by docker\.io: unauthorized; pulling anonymously instead/,
    );
    expect(run.code).toBe(0);
    const image = await engineRequest({ ...world, dockerHost: dockerd!.dockerHost }, "GET", "/images/alpine:latest/json");
    expect(image.status).toBe(200);
    // The same trust, from pullback's own side: check does not call the registry unreachable.
    const check = await inside(["check", "docker.io/library/alpine:latest"]);
    expect(check.stdout).toMatch(/^ACCEPTED +docker\.io\/library\/alpine/m);
    expect(check.code).toBe(0);
  });
  // dockerd treats every registry that resolves to 127.0.0.0/8 as insecure (it skips verification), so in
  // this loopback-only namespace only Docker Hub, never insecure, shows the daemon's own TLS refusal: a
  // second daemon without the private CA in its system roots.
  it("the daemon's own untrusted certificate is diagnosed on the daemon's side, not as an outage", async () => {
    // A short state dir: containerd's socket path must fit a unix socket name.
    const stateDir = await mkdtemp("/tmp/pbu-");
    const untrusting = await startNetnsDockerd(tls.info.exec, stateDir);
    try {
      const run = await inside(["pull", "alpine", "--no-credentials"], env({ DOCKER_HOST: untrusting.dockerHost }));
      expect(run.code).toBe(5);
      expect(run.stderr).toContain("error: The Docker daemon does not trust the certificate of docker.io");
      expect(run.stderr).toContain("update-ca-certificates");
      expect(run.stderr).not.toMatch(/again (later|once the network is back)/);
    } finally {
      await untrusting.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
