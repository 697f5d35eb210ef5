import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Credential } from "../../../src/credentials/credential.js";
import { isPullbackError } from "../../../src/errors.js";
import { renderPullSecret } from "../../../src/targets/cluster/k8s-pull-secret.js";
import { writeRegistriesConfig } from "../../../src/targets/cluster/write-registries-config.js";
import { fakeVerify } from "./fake-verify.js";

const SECRET = "hunter2-secret-value";
const credential = Credential.basic("alice", SECRET, { type: "env", usernameVariable: "REG_USER", secretVariable: "REG_TOKEN" });

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullback-decide-"));
  path = join(dir, "registries.yaml");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configs(): Promise<Record<string, unknown>> {
  const text = await readFile(path, "utf8").catch(() => "");
  return (parse(text) as { configs?: Record<string, unknown> } | null)?.configs ?? {};
}

describe("decision rules", () => {
  it.each(["rejected", "no-access"] as const)("%s: no auth, a warning naming the source and the anonymous fallback", async (verdict) => {
    const result = await writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential }],
      verify: fakeVerify({ "ghcr.io": verdict }),
    });
    expect(result.decisions[0]).toMatchObject({ verdict, wroteAuth: false });
    expect(await configs()).toEqual({});
    const warning = result.warnings.join("\n");
    expect(warning).toContain("the credentials from REG_USER and REG_TOKEN");
    expect(warning).toContain(verdict === "rejected" ? "rejected" : "refused access");
    expect(warning).toContain("nodes will pull from ghcr.io anonymously");
    expect(warning).not.toContain(SECRET);
  });

  it("any refused repository wins over accepted ones", async () => {
    const verify = fakeVerify({ "ghcr.io/acme/secret": "no-access" });
    const result = await writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential, verifyRepositories: ["acme/app", "acme/secret"] }],
      verify,
    });
    expect(verify.calls.map((c) => c.target)).toEqual(["ghcr.io/acme/app", "ghcr.io/acme/secret"]);
    expect(result.decisions[0]).toMatchObject({ verdict: "no-access", wroteAuth: false });
    expect(result.warnings[0]).toContain("refused access to ghcr.io/acme/secret");
  });

  it("says anonymous pulls fail too only when a tagged image was probed", async () => {
    const refusedAnonymously = fakeVerify({ "ghcr.io/acme/app:1": "rejected", "ghcr.io/acme/app": "rejected" }, { anonymousPull: false });
    const tagged = await writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential, verifyRepositories: ["acme/app:1"] }],
      verify: refusedAnonymously,
    });
    expect(tagged.warnings[0]).toContain("Anonymous pulls of it are refused too");
    const untagged = await writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential, verifyRepositories: ["acme/app"] }],
      verify: refusedAnonymously,
    });
    expect(untagged.warnings[0]).not.toContain("Anonymous pulls");
  });

  it("accepts tags and digests on repositories, rewrites only the repository, and refuses hosts", async () => {
    const verify = fakeVerify();
    const digest = `sha256:${"a".repeat(64)}`;
    await writeRegistriesConfig({
      path,
      registries: [
        {
          host: "docker.io",
          endpoint: "https://m.example",
          rewrite: { "^library/(.*)$": "hub/$1" },
          verifyRepositories: ["library/nginx:1.27", `library/redis@${digest}`],
          credential,
        },
      ],
      verify,
    });
    expect(verify.calls.map((c) => c.target)).toEqual(["m.example/hub/nginx:1.27", `m.example/hub/redis@${digest}`]);
    await expect(
      writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", verifyRepositories: ["ghcr.io:443/acme/app"] }], verify }),
    ).rejects.toSatisfy((e) => isPullbackError(e, "usage"));
  });

  it("without repositories the bare host is verified and the explanation says what that cannot tell", async () => {
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential }], verify: fakeVerify() });
    expect(result.decisions[0]?.explanation).toMatch(/docker-login style check.*cannot tell/);
    expect(result.warnings).toEqual([]);
  });

  it("unreachable keeps the auth with an unverified warning", async () => {
    const result = await writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential }],
      verify: fakeVerify({ "ghcr.io": "unreachable" }),
    });
    expect(result.decisions[0]).toMatchObject({ verdict: "unreachable", wroteAuth: true });
    expect(result.warnings[0]).toMatch(/could not be verified.*unverified/);
    expect(await configs()).toEqual({ "ghcr.io": { auth: { username: "alice", password: SECRET } } });
  });

  it("unreachable with strict throws a network error and writes nothing", async () => {
    const write = writeRegistriesConfig({
      path,
      strict: true,
      registries: [{ host: "ghcr.io", credential }],
      verify: fakeVerify({ "ghcr.io": "unreachable" }),
    });
    await expect(write).rejects.toSatisfy((e) => isPullbackError(e, "network") && !String(e).includes(SECRET));
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });

  it("no credential: the auth already in the file is verified itself, and kept when accepted", async () => {
    const verify = fakeVerify();
    await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential }], verify });
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io" }], verify });
    expect(verify.calls.map((c) => c.username)).toEqual(["alice", "alice"]);
    expect(result.decisions[0]).toMatchObject({ verdict: "accepted", wroteAuth: true, existingAuth: "kept" });
    expect(await configs()).toEqual({ "ghcr.io": { auth: { username: "alice", password: SECRET } } });
  });

  it("no credential: the auth already in the file is removed, out loud, when it is refused itself", async () => {
    await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential }], verify: fakeVerify() });
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io" }], verify: fakeVerify({ "ghcr.io": "rejected" }) });
    expect(result.decisions[0]).toMatchObject({ verdict: "rejected", wroteAuth: false, existingAuth: "removed" });
    expect(result.warnings.join(" ")).toMatch(
      /ghcr\.io rejected the credentials already in .*registries\.yaml \(configs\."ghcr\.io"\.auth\).*pullback removed them from .*registries\.yaml/,
    );
    expect(result.decisions[0]?.explanation).toMatch(/were refused, so they were removed/);
    expect(await configs()).toEqual({});
  });

  it("a different credential refused: the hand-written auth is verified and kept, and the warning says so", async () => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path, 'configs:\n  "ghcr.io":\n    auth: {username: hand, password: written-by-hand}\n');
    const verify = Object.assign(
      (target: unknown, c: Credential | undefined, o?: unknown) =>
        fakeVerify({ "ghcr.io": c?.username === "alice" ? "rejected" : "accepted" })(target as string, c, o as never),
      { calls: [] },
    );
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential }], verify });
    expect(result.decisions[0]).toMatchObject({ verdict: "accepted", wroteAuth: true, existingAuth: "kept" });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(
      /^ghcr\.io rejected the credentials from REG_USER and REG_TOKEN: .*\. pullback kept the credentials already in .* \(configs\."ghcr\.io"\.auth\), which the registry accepts\.$/,
    );
    expect(await configs()).toEqual({ "ghcr.io": { auth: { username: "hand", password: "written-by-hand" } } });
  });

  it("nothing to configure: no file is created, and the text is empty rather than null", async () => {
    const result = await writeRegistriesConfig({ path, registries: [{ host: "127.0.0.1:5999" }], verify: fakeVerify() });
    expect(result).toMatchObject({ written: false, nothingToWrite: true, text: "" });
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
    const dry = await writeRegistriesConfig({ path, registries: [{ host: "127.0.0.1:5999" }], dryRun: true, verify: fakeVerify() });
    expect(dry).toMatchObject({ written: false, nothingToWrite: true, text: "" });
  });

  it("one file, one accepted and one rejected registry", async () => {
    const result = await writeRegistriesConfig({
      path,
      registries: [
        { host: "good.example", credential },
        { host: "bad.example", credential },
      ],
      verify: fakeVerify({ "bad.example": "rejected" }),
    });
    expect(result.decisions.map((d) => [d.host, d.wroteAuth])).toEqual([
      ["good.example", true],
      ["bad.example", false],
    ]);
    expect(await configs()).toEqual({ "good.example": { auth: { username: "alice", password: SECRET } } });
  });

  it("a verifier message that echoes the secret is scrubbed", async () => {
    const verify = fakeVerify({ "ghcr.io": "rejected" }, { message: `bad password ${SECRET}` });
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential }], verify });
    expect(result.warnings[0]).toContain("bad password ***");
  });

  it("the same host twice is a usage error", async () => {
    await expect(
      writeRegistriesConfig({ path, registries: [{ host: "a.example" }, { host: "a.example" }], verify: fakeVerify() }),
    ).rejects.toSatisfy((e) => isPullbackError(e, "usage"));
  });
});

describe("renderPullSecret", () => {
  it("holds only accepted credentials, as dockerconfigjson", async () => {
    const { manifest, decisions, warnings } = await renderPullSecret({
      name: "pull",
      namespace: "apps",
      registries: [
        { host: "good.example", credential },
        { host: "bad.example", credential },
      ],
      verify: fakeVerify({ "bad.example": "rejected" }),
    });
    const secret = parse(manifest) as { data: Record<string, string> };
    expect(secret).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/dockerconfigjson",
      metadata: { name: "pull", namespace: "apps" },
    });
    const config = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"] ?? "", "base64").toString("utf8"));
    expect(config).toEqual({
      auths: { "good.example": { username: "alice", password: SECRET, auth: Buffer.from(`alice:${SECRET}`).toString("base64") } },
    });
    expect(decisions.map((d) => d.wroteAuth)).toEqual([true, false]);
    expect(warnings.join("\n")).toContain("bad.example rejected");
  });

  it("leaves out an identity token, which the kubelet cannot use", async () => {
    const token = Credential.identityToken("refresh", { type: "explicit" });
    const { manifest, warnings } = await renderPullSecret({
      name: "pull",
      registries: [{ host: "x.example", credential: token }],
      verify: fakeVerify(),
    });
    const data = (parse(manifest) as { data: Record<string, string> }).data[".dockerconfigjson"] ?? "";
    expect(JSON.parse(Buffer.from(data, "base64").toString())).toEqual({ auths: {} });
    expect(warnings[0]).toContain("identity token");
  });

  it("refuses a name Kubernetes would refuse", async () => {
    await expect(renderPullSecret({ name: "Bad_Name", registries: [] })).rejects.toSatisfy((e) => isPullbackError(e, "usage"));
  });
});
