import { chmod, chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { Credential } from "../../../src/credentials/credential.js";
import { isPullbackError } from "../../../src/errors.js";
import { renderDocument, setEntry } from "../../../src/targets/cluster/registries-document.js";
import { writeRegistriesConfig } from "../../../src/targets/cluster/write-registries-config.js";
import { fakeVerify } from "./fake-verify.js";

const SECRET = "pa:ss #word 'q' \"dq\" *star";
const alice = (secret = SECRET): Credential => Credential.basic("alice", secret, { type: "explicit", label: "the test credentials" });

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullback-cluster-"));
  path = join(dir, "registries.yaml");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeRegistriesConfig: output", () => {
  it("writes auth that parses back to exactly the secret, with mode 0600", async () => {
    const verify = fakeVerify();
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential: alice() }], verify });
    expect(result.written).toBe(true);
    const written = parse(await readFile(path, "utf8"));
    expect(written).toEqual({ configs: { "ghcr.io": { auth: { username: "alice", password: SECRET } } } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(result.text).not.toContain("pa:ss");
    expect(verify.calls).toEqual([{ target: "ghcr.io", username: "alice", insecure: false }]);
  });

  it("round-trips any single-line password exactly (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\n\r\0]/.test(s)),
        async (secret) => {
          await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential: alice(secret) }], verify: fakeVerify() });
          const written = parse(await readFile(path, "utf8"));
          expect(written.configs["ghcr.io"].auth.password).toBe(secret);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("carries a line break in a value exactly (Credential refuses one, the document layer must not break it)", () => {
    const document = parseDocument("");
    const value = "line one\nline: two #\n  *three";
    setEntry(document, "configs", "ghcr.io", { auth: { username: "x", password: value } });
    const text = renderDocument(document);
    expect(text).toContain('"line one\\nline: two #\\n  *three"');
    expect(parse(text).configs["ghcr.io"].auth.password).toBe(value);
  });

  it("writes an identity token under identity_token, the key k3s reads", async () => {
    const credential = Credential.identityToken("refresh-tok", { type: "explicit" });
    await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential }], verify: fakeVerify() });
    expect(parse(await readFile(path, "utf8"))).toEqual({ configs: { "ghcr.io": { auth: { identity_token: "refresh-tok" } } } });
  });

  it("keys mirror, TLS and auth by the endpoint host, and verifies there", async () => {
    const verify = fakeVerify();
    const result = await writeRegistriesConfig({
      path,
      registries: [
        {
          host: "docker.io",
          endpoint: "https://mirror.example:443/v2",
          rewrite: { "^library/(.*)": "hub/$1" },
          tls: { caFile: "/ca.pem", insecureSkipVerify: false },
          credential: alice(),
          verifyRepositories: ["library/nginx"],
        },
      ],
      verify,
    });
    expect(result.decisions).toEqual([
      expect.objectContaining({ host: "docker.io", authHost: "mirror.example:443", verdict: "accepted", wroteAuth: true }),
    ]);
    expect(verify.calls.map((c) => c.target)).toEqual(["mirror.example:443/hub/nginx"]);
    expect(parse(await readFile(path, "utf8"))).toEqual({
      mirrors: { "docker.io": { endpoint: ["https://mirror.example:443/v2"], rewrite: { "^library/(.*)": "hub/$1" } } },
      configs: {
        "mirror.example:443": { auth: { username: "alice", password: SECRET }, tls: { ca_file: "/ca.pem", insecure_skip_verify: false } },
      },
    });
  });

  it("writes an http mirror for an insecure registry and verifies with insecure", async () => {
    const verify = fakeVerify();
    await writeRegistriesConfig({ path, registries: [{ host: "10.0.0.5:5000", insecure: true, credential: alice() }], verify });
    expect(verify.calls).toEqual([{ target: "10.0.0.5:5000", username: "alice", insecure: true }]);
    expect(parse(await readFile(path, "utf8")).mirrors).toEqual({ "10.0.0.5:5000": { endpoint: ["http://10.0.0.5:5000"] } });
  });

  it("refuses a plain-HTTP endpoint that is not marked insecure", async () => {
    await expect(
      writeRegistriesConfig({ path, registries: [{ host: "a.example", endpoint: "http://b.example" }], verify: fakeVerify() }),
    ).rejects.toSatisfy((e) => isPullbackError(e, "usage"));
  });

  it("dry run writes nothing and shows every secret, old and new, as ***", async () => {
    await writeFile(path, 'configs:\n  old.example:\n    auth:\n      username: bob\n      password: "old-secret"\n');
    const before = await readFile(path, "utf8");
    const result = await writeRegistriesConfig({
      path,
      dryRun: true,
      registries: [{ host: "ghcr.io", credential: alice() }],
      verify: fakeVerify(),
    });
    expect(result.written).toBe(false);
    expect(await readFile(path, "utf8")).toBe(before);
    expect(result.text).not.toContain("old-secret");
    expect(result.text).not.toContain("pa:ss");
    expect(parse(result.text)).toEqual({
      configs: {
        "old.example": { auth: { username: "bob", password: "***" } },
        "ghcr.io": { auth: { username: "alice", password: "***" } },
      },
    });
  });
});

describe("writeRegistriesConfig: merging", () => {
  it("keeps other hosts and comments, replaces the configured hosts", async () => {
    const original = [
      "# managed by hand",
      "mirrors:",
      "  other.example:",
      "    endpoint: [https://other-mirror.example] # keep me",
      "  ghcr.io:",
      "    endpoint: [https://stale-mirror.example]",
      "configs:",
      "  other.example:",
      "    auth: {username: u, password: keep-this}",
      "  ghcr.io:",
      "    auth: {username: old, password: old-pw}",
      "",
    ].join("\n");
    await writeFile(path, original);
    await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential: alice() }], verify: fakeVerify() });
    const text = await readFile(path, "utf8");
    expect(text).toContain("# managed by hand");
    expect(text).toContain("endpoint: [https://other-mirror.example] # keep me");
    expect(text).toContain("auth: {username: u, password: keep-this}");
    expect(parse(text)).toEqual({
      mirrors: { "other.example": { endpoint: ["https://other-mirror.example"] } },
      configs: {
        "other.example": { auth: { username: "u", password: "keep-this" } },
        "ghcr.io": { auth: { username: "alice", password: SECRET } },
      },
    });
  });

  it("leaves a malformed file byte-identical and names the line", async () => {
    const broken = "configs:\n  ghcr.io:\n    auth:\n      password: [unterminated\n      username: x\n";
    await writeFile(path, broken);
    const error: unknown = await writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential: alice() }],
      verify: fakeVerify(),
    }).catch((e: unknown) => e);
    expect(isPullbackError(error, "config")).toBe(true);
    expect((error as Error).message).toMatch(/line \d+, column \d+/);
    expect(await readFile(path, "utf8")).toBe(broken);
    expect(await readdir(dir)).toEqual(["registries.yaml"]);
  });

  it("reports unknown keys of the existing file as warnings and keeps them", async () => {
    await writeFile(path, "configs:\n  x.example:\n    proxy: on\n");
    const result = await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io" }], verify: fakeVerify() });
    expect(result.warnings).toEqual([`${path}: line 3, column 12: unknown key "proxy" in configs.x.example (k3s ignores it)`]);
    expect(await readFile(path, "utf8")).toContain("proxy: on");
  });
});

describe("writeRegistriesConfig: atomic replace", () => {
  it("a crash between write and rename leaves the old file and no temp file", async () => {
    await writeFile(path, "configs: {}\n");
    await chmod(path, 0o644);
    let tempSeen = "";
    const crash = writeRegistriesConfig({
      path,
      registries: [{ host: "ghcr.io", credential: alice() }],
      verify: fakeVerify(),
      beforeRename: async (temp) => {
        tempSeen = temp;
        // The temp file is complete and private before the rename.
        expect((await stat(temp)).mode & 0o777).toBe(0o600);
        expect(await readFile(temp, "utf8")).toContain("alice");
        throw new Error("simulated crash");
      },
    });
    await expect(crash).rejects.toThrow(/simulated crash/);
    expect(tempSeen.startsWith(dir)).toBe(true);
    expect(await readFile(path, "utf8")).toBe("configs: {}\n");
    expect(await readdir(dir)).toEqual(["registries.yaml"]);
  });

  it.runIf(process.getuid?.() === 0)("keeps the owner of the file it replaces", async () => {
    await writeFile(path, "configs: {}\n");
    await chown(path, 1234, 2345);
    await writeRegistriesConfig({ path, registries: [{ host: "ghcr.io", credential: alice() }], verify: fakeVerify() });
    const after = await stat(path);
    expect([after.uid, after.gid, after.mode & 0o777]).toEqual([1234, 2345, 0o600]);
  });

  it("replaces a 0644 file with a 0600 one and creates a missing directory", async () => {
    const nested = join(dir, "etc", "rancher", "k3s", "registries.yaml");
    await writeRegistriesConfig({ path: nested, registries: [{ host: "ghcr.io", credential: alice() }], verify: fakeVerify() });
    expect((await stat(nested)).mode & 0o777).toBe(0o600);
  });
});
