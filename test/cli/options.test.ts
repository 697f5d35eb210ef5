import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { planClusterConfig, DEFAULT_K3S_PATH } from "../../src/cli/commands/cluster-config-plan.js";
import { planPull } from "../../src/cli/commands/pull-plan.js";
import { credentialRequest, stripOneNewline } from "../../src/cli/credential-flags.js";
import { usageMessage } from "../support/usage-message.js";

describe("planPull: flags → pull path", () => {
  it("uses the local daemon by default, with fallback on", () => {
    expect(planPull({})).toEqual({
      kind: "daemon",
      host: undefined,
      tagAs: undefined,
      platform: undefined,
      pull: "always",
      fallback: true,
      failOnFallback: false,
    });
    expect(planPull({ tagAs: "cluster:dev" })).toMatchObject({ kind: "daemon", tagAs: "cluster:dev" });
  });

  it("maps --host ssh:// to the remote path with key, known_hosts and --tag-as", () => {
    expect(
      planPull({ host: "ssh://root@127.0.0.1:2222", identity: "/k", knownHosts: "/kh", tagAs: "app:dev", platform: "linux/arm64" }),
    ).toEqual({
      kind: "remote",
      host: "ssh://root@127.0.0.1:2222",
      tagAs: "app:dev",
      identityFile: "/k",
      knownHostsFile: "/kh",
      acceptUnknownHostKey: false,
      platform: "linux/arm64",
      pull: "always",
      fallback: true,
      failOnFallback: false,
    });
  });

  it("takes docker's --pull policy, always by default, and refuses others", () => {
    expect(planPull({ pull: "missing" })).toMatchObject({ kind: "daemon", pull: "missing" });
    expect(planPull({ to: "oci:x", pull: "never" })).toMatchObject({ kind: "daemonless", pull: "never" });
    expect(usageMessage(() => planPull({ pull: "newer" }))).toMatch(/--pull must be one of missing, always, never/);
  });

  it("keeps a non-SSH --host on the daemon path", () => {
    expect(planPull({ host: "unix:///run/other.sock" })).toMatchObject({ kind: "daemon", host: "unix:///run/other.sock" });
  });

  it("maps --to to the daemonless path and --no-fallback / --fail-on-fallback to their options", () => {
    expect(planPull({ to: "oci:./out:1", fallback: false })).toMatchObject({ kind: "daemonless", to: "oci:./out:1", fallback: false });
    expect(planPull({ failOnFallback: true })).toMatchObject({ failOnFallback: true, fallback: true });
  });

  it("refuses combinations that cannot mean anything", () => {
    expect(usageMessage(() => planPull({ to: "oci:x", host: "ssh://a@b" }))).toMatch(/--to .* --host/);
    expect(usageMessage(() => planPull({ identity: "/k" }))).toMatch(/-i\/--identity/);
    expect(usageMessage(() => planPull({ to: "oci:x", tagAs: "x:1" }))).toMatch(/oci:DIR:TAG/);
    expect(usageMessage(() => planPull({ fallback: false, failOnFallback: true }))).toMatch(/--fail-on-fallback/);
  });
});

describe("planClusterConfig: flags → registries", () => {
  it("defaults to k3s at the k3s path, and a bare --verify-repo belongs to the single registry", () => {
    const plan = planClusterConfig({ registry: ["ghcr.io"], verifyRepo: ["acme/app"], insecure: true });
    expect(plan).toMatchObject({ format: "k3s", output: DEFAULT_K3S_PATH, strict: false, dryRun: false });
    expect(plan.registries).toEqual([{ host: "ghcr.io", insecure: true, verifyRepositories: ["acme/app"] }]);
  });

  it("routes HOST/REPO to its registry when several are given", () => {
    const plan = planClusterConfig({ registry: ["a.io", "b.io:5000"], verifyRepo: ["b.io:5000/team/x", "a.io/y"] });
    expect(plan.registries).toEqual([
      { host: "a.io", verifyRepositories: ["y"] },
      { host: "b.io:5000", verifyRepositories: ["team/x"] },
    ]);
    expect(usageMessage(() => planClusterConfig({ registry: ["a.io", "b.io"], verifyRepo: ["team/x"] }))).toMatch(/HOST\/REPO/);
  });

  it("writes a k8s secret to stdout unless --output is given, and checks flag combinations", () => {
    expect(planClusterConfig({ registry: ["a.io"], format: "k8s-secret", namespace: "apps" })).toMatchObject({
      output: "-",
      namespace: "apps",
      secretName: "pullback-registries",
    });
    expect(usageMessage(() => planClusterConfig({}))).toMatch(/--registry/);
    expect(usageMessage(() => planClusterConfig({ registry: ["a.io", "b.io"], endpoint: "https://m" }))).toMatch(/exactly one/);
    expect(usageMessage(() => planClusterConfig({ registry: ["a.io"], secretName: "s" }))).toMatch(/k8s-secret/);
  });
});

describe("credential flags", () => {
  const stdin = (text: string): Readable => Readable.from([Buffer.from(text)]);

  it("reads the secret from stdin and strips exactly one trailing newline", async () => {
    const request = await credentialRequest({ username: "alice", passwordStdin: true }, { stdin: stdin("s3cret\n\n"), env: {} });
    expect(request.explicit).toMatchObject({ username: "alice", secret: "s3cret\n" });
    expect(stripOneNewline("tok\r\n")).toBe("tok");
    expect(stripOneNewline("tok")).toBe("tok");
  });

  it("takes a bare token when no username is given", async () => {
    const request = await credentialRequest({ passwordStdin: true }, { stdin: stdin("tok"), env: {} });
    expect(request.explicit).toEqual({ secret: "tok", label: "the credentials given with --password-stdin" });
  });

  it("maps --no-credentials to anonymous and leaves the rest to the environment", async () => {
    const env = { PULLBACK_REGISTRY_TOKEN: "x" };
    expect(await credentialRequest({ credentials: false }, { stdin: stdin(""), env: env })).toEqual({ anonymous: true, env });
    expect(await credentialRequest({}, { stdin: stdin("ignored"), env: env })).toEqual({ env });
  });

  it("refuses a username without --password-stdin, an empty stdin, and credentials with --no-credentials", async () => {
    await expect(credentialRequest({ username: "alice" }, { stdin: stdin(""), env: {} })).rejects.toMatchObject({ kind: "usage" });
    await expect(credentialRequest({ passwordStdin: true }, { stdin: stdin("\n"), env: {} })).rejects.toMatchObject({ kind: "usage" });
    await expect(credentialRequest({ credentials: false, passwordStdin: true }, { stdin: stdin("x"), env: {} })).rejects.toMatchObject({
      kind: "usage",
    });
  });
});
