/**
 * The cluster path against the real world: real registries and token service,
 * the real verifier, containerd + ctr and the docker CLI as consumers.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Credential } from "../../../src/credentials/credential.js";
import { isPullbackError } from "../../../src/errors.js";
import { renderPullSecret } from "../../../src/targets/cluster/k8s-pull-secret.js";
import { readRegistriesConfig } from "../../../src/targets/cluster/registries-config.js";
import { writeRegistriesConfig, type WriteRegistriesConfigResult } from "../../../src/targets/cluster/write-registries-config.js";
import { testEnv } from "../../support/hermetic-env.js";
import { getWorld } from "../../world/client.js";
import { freePort } from "../../world/ports.js";
import { ctrPull, startContainerd, type Containerd } from "./containerd.js";

const run = promisify(execFile);
const world = getWorld();
const { alice, bob, wrongPassword } = world.users;
const secrets = [alice.password, bob.password, wrongPassword];
/** Everything these tests printed or were told: scanned for secrets at the end. */
const transcript: string[] = [];

const as = (user: { username: string; password: string }): Credential =>
  Credential.basic(user.username, user.password, { type: "explicit", label: `the test credentials of ${user.username}` });
const wrong = (): Credential => Credential.basic(alice.username, wrongPassword, { type: "explicit", label: "the wrong password" });

let dir: string;
let containerd: Containerd;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullback-cluster-int-"));
  containerd = await startContainerd();
});
afterAll(async () => {
  await containerd?.stop();
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
async function write(
  registries: Parameters<typeof writeRegistriesConfig>[0]["registries"],
  strict = false,
): Promise<WriteRegistriesConfigResult & { yaml: string }> {
  const path = join(dir, `registries-${++files}.yaml`);
  const result = await writeRegistriesConfig({ path, registries, strict });
  transcript.push(result.text, ...result.warnings, ...result.decisions.map((d) => `${d.explanation} ${d.warning ?? ""}`));
  return { ...result, yaml: await readFile(path, "utf8") };
}

/** Pull the way a node configured by `yaml` would: with the auth k3s would use for `host`, or anonymously. */
async function pullAsNode(yaml: string, host: string, image: string): Promise<{ code: number | null; withAuth: boolean }> {
  const { value, errors } = readRegistriesConfig(yaml);
  expect(errors).toEqual([]);
  const auth = value?.configs[host]?.auth;
  const login =
    auth?.username !== undefined && auth.password !== undefined ? { username: auth.username, password: auth.password } : undefined;
  const result = await ctrPull(containerd, `${host}/${image}`, login);
  transcript.push(result.output, ...result.argv);
  return { code: result.code, withAuth: login !== undefined };
}

describe("registries.yaml against real registries", () => {
  it("alice: auth written, and containerd pulls the private image with it", async () => {
    const { host } = world.registries.token;
    const result = await write([{ host, insecure: true, credential: as(alice), verifyRepositories: ["private/app"] }]);
    expect(result.decisions).toEqual([expect.objectContaining({ host, authHost: host, verdict: "accepted", wroteAuth: true })]);
    expect(result.warnings).toEqual([]);
    expect(parse(result.yaml).configs[host].auth).toEqual({ username: alice.username, password: alice.password });
    expect(await pullAsNode(result.yaml, host, "private/app:1")).toEqual({ code: 0, withAuth: true });
  });

  it.each([
    ["bob (valid, no access)", () => as(bob), "no-access"],
    ["a wrong password", wrong, "rejected"],
  ] as const)("%s: no auth, a warning, and the node still pulls public images anonymously", async (_name, credential, verdict) => {
    const { host } = world.registries.token;
    const result = await write([{ host, insecure: true, credential: credential(), verifyRepositories: ["public/app:1"] }]);
    expect(result.decisions[0]).toMatchObject({ verdict, wroteAuth: false });
    expect(result.warnings.join("\n")).toMatch(/nodes will pull from .* anonymously\.$/);
    expect(parse(result.yaml).configs).toBeUndefined();
    expect(await pullAsNode(result.yaml, host, "public/app:1")).toEqual({ code: 0, withAuth: false });
  });

  it("bob refused on a private image: the warning says anonymous pulls of it fail too, and they do", async () => {
    const { host } = world.registries.token;
    const result = await write([{ host, insecure: true, credential: as(bob), verifyRepositories: ["private/app:1"] }]);
    expect(result.decisions[0]).toMatchObject({ verdict: "no-access", wroteAuth: false });
    expect(result.warnings.join("\n")).toContain("Anonymous pulls of it are refused too");
    expect((await pullAsNode(result.yaml, host, "private/app:1")).code).not.toBe(0);
  });

  it("the same credential, had it been written, would break the public pull (why the rule exists)", async () => {
    const { host } = world.registries.token;
    const result = await ctrPull(containerd, `${host}/public/app:1`, { username: alice.username, password: wrongPassword });
    transcript.push(result.output, ...result.argv);
    expect(result.code).not.toBe(0);
  });

  it("a closed port: auth kept with an unverified warning; strict throws a network error", async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const result = await write([{ host, insecure: true, credential: as(alice) }]);
    expect(result.decisions[0]).toMatchObject({ verdict: "unreachable", wroteAuth: true });
    expect(result.warnings.join("\n")).toContain("unverified");
    expect(parse(result.yaml).configs[host].auth.username).toBe(alice.username);
    const strict = await write([{ host, insecure: true, credential: as(alice) }], true).catch((e: unknown) => e);
    expect(isPullbackError(strict, "network")).toBe(true);
    transcript.push(String(strict));
  });

  it("two registries in one file: one accepted, one rejected", async () => {
    const token = world.registries.token.host;
    const basic = world.registries.basic.host;
    const result = await write([
      { host: token, insecure: true, credential: as(alice), verifyRepositories: ["private/app"] },
      { host: basic, insecure: true, credential: wrong() },
    ]);
    expect(result.decisions.map((d) => [d.host, d.verdict, d.wroteAuth])).toEqual([
      [token, "accepted", true],
      [basic, "rejected", false],
    ]);
    const written = parse(result.yaml);
    expect(Object.keys(written.configs as object)).toEqual([token]);
    expect(Object.keys(written.mirrors as object)).toEqual([token, basic]);
    expect(await pullAsNode(result.yaml, token, "private/app:1")).toEqual({ code: 0, withAuth: true });
    expect(await pullAsNode(result.yaml, basic, "public/app:1")).toMatchObject({ withAuth: false });
  });

  it("realm on another host: alice accepted, and the pull goes through that token service", async () => {
    const { host } = world.registries.tokenOtherRealm;
    const result = await write([{ host, insecure: true, credential: as(alice), verifyRepositories: ["private/app"] }]);
    expect(result.decisions[0]).toMatchObject({ verdict: "accepted", wroteAuth: true });
    expect(result.decisions[0]?.explanation).toContain("another host");
    expect(await pullAsNode(result.yaml, host, "private/app:1")).toEqual({ code: 0, withAuth: true });
  });

  it("a mirror: the credential is keyed and verified by the endpoint's host", async () => {
    const { host, url } = world.registries.token;
    const result = await write([
      { host: "registry.invalid", endpoint: url, insecure: true, credential: as(alice), verifyRepositories: ["private/app"] },
    ]);
    expect(result.decisions[0]).toMatchObject({ host: "registry.invalid", authHost: host, verdict: "accepted", wroteAuth: true });
    const written = parse(result.yaml);
    expect(written.mirrors["registry.invalid"].endpoint).toEqual([url]);
    expect(Object.keys(written.configs as object)).toEqual([host]);
  });
});

describe("Kubernetes pull secret, consumed by the docker CLI", () => {
  it("holds alice's accepted credential and docker pulls the private image with it", async () => {
    const { host } = world.registries.token;
    const { manifest, warnings } = await renderPullSecret({
      name: "pullback-test",
      registries: [
        { host, credential: as(alice), verifyRepositories: ["private/app"] },
        { host: world.registries.basic.host, credential: wrong() },
      ],
    });
    transcript.push(...warnings);
    expect(warnings).toHaveLength(1);
    const data = (parse(manifest) as { data: Record<string, string> }).data[".dockerconfigjson"] ?? "";
    const configDir = await mkdtemp(join(dir, "docker-config-"));
    await writeFile(join(configDir, "config.json"), Buffer.from(data, "base64"), { mode: 0o600 });
    const image = `${host}/private/app:1`;
    const env = testEnv({ DOCKER_CONFIG: configDir });
    try {
      const pulled = await run("docker", ["-H", world.dockerHost, "pull", image], { env });
      transcript.push(pulled.stdout, pulled.stderr);
      expect(pulled.stdout).toContain("private/app");
    } finally {
      await run("docker", ["-H", world.dockerHost, "rmi", image], { env }).catch(() => undefined);
    }
  });
});

describe("secrets", () => {
  it("no fixture password appears in any output, warning, argv or redacted text", () => {
    expect(transcript.length).toBeGreaterThan(10);
    const all = transcript.join("\n");
    if (process.env.PULLBACK_DEBUG_TRANSCRIPT) process.stderr.write(`${all}\n`);
    for (const secret of secrets) expect(all.includes(secret), "a password leaked into the transcript").toBe(false);
  });
});
