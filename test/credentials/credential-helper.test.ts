import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getFromCredentialHelper } from "../../src/credentials/credential-helper.js";
import { resolveCredentials } from "../../src/credentials/resolve-credentials.js";
import { PullbackError } from "../../src/errors.js";
import { NOT_FOUND_BODY, answers, makeSandbox, type Sandbox, caught } from "./fixtures.js";

const SENTINEL = "SENTINEL-helper-secret-7f3a";

let box: Sandbox;
beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(() => box.remove());

const resolve = (registry: string) => resolveCredentials(registry, { env: box.env, dockerConfigDir: box.configDir });

/** Every text an error could leak through: message, cause chain, diagnosis, inspect and JSON. */
function everythingSaidBy(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: Infinity, showHidden: true })];
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    parts.push(String((e as Error).message), (e as Error).stack ?? "", JSON.stringify(e) ?? "");
    if (e instanceof PullbackError) parts.push(JSON.stringify(e.diagnosis) ?? "");
  }
  return parts.join("\n");
}

describe("the docker-credential-helpers protocol", () => {
  it("runs `get` with the server URL on stdin and nothing else in argv", async () => {
    await box.writeHelper("pbtest", answers("alice", "s3cret"));
    await box.writeConfig({ credHelpers: { "ghcr.io": "pbtest" } });
    const credential = await resolve("ghcr.io");
    expect([credential?.username, credential?.reveal(), credential?.kind]).toEqual(["alice", "s3cret", "basic"]);
    const call = await box.lastCall("pbtest");
    expect(call?.argv).toEqual(["get"]);
    expect(call?.stdin).toBe("ghcr.io");
  });

  it("asks for Docker Hub as https://index.docker.io/v1/", async () => {
    await box.writeHelper("pbtest", answers("hub", "s3cret"));
    await box.writeConfig({ credHelpers: { "docker.io": "pbtest" } });
    expect((await resolve("registry-1.docker.io"))?.describe()).toBe(
      "the credentials for registry-1.docker.io from docker-credential-pbtest",
    );
    expect((await box.lastCall("pbtest"))?.stdin).toBe("https://index.docker.io/v1/");
  });

  it("passes the environment through but withholds PULLBACK_REGISTRY_TOKEN", async () => {
    await box.writeHelper("pbtest", answers("alice", "s3cret"));
    const env = { ...box.env, PBTEST_MARKER: "dbus-like", PULLBACK_REGISTRY_TOKEN: SENTINEL };
    await getFromCredentialHelper("pbtest", "ghcr.io", { env });
    const call = await box.lastCall("pbtest");
    expect(call?.env).toContain("PBTEST_MARKER=dbus-like");
    expect(call?.env).toContain(`HOME=${process.env.HOME}`);
    expect(call?.env).not.toContain(SENTINEL);
  });

  it("reads Username <token> as an identity token", async () => {
    await box.writeHelper("pbtest", answers("<token>", "refresh-xyz"));
    const credential = await getFromCredentialHelper("pbtest", "ghcr.io", { env: box.env });
    expect([credential?.kind, credential?.reveal()]).toEqual(["identity-token", "refresh-xyz"]);
  });

  it.each([
    ["the not-found message on stdout", NOT_FOUND_BODY],
    ["the not-found message on stderr", "echo 'credentials not found in native keychain' >&2; exit 1"],
    ["an empty record", `printf '{"ServerURL":"","Username":"","Secret":""}'`],
  ])("resolves nothing for %s", async (_name, body) => {
    await box.writeHelper("pbtest", body);
    expect(await getFromCredentialHelper("pbtest", "ghcr.io", { env: box.env })).toBeUndefined();
  });
});

describe("broken helpers", () => {
  it("names a crashing helper and its exit code, never what it printed", async () => {
    await box.writeHelper("pbcrash", `echo '{"Secret":"${SENTINEL}"}'; echo '${SENTINEL}' >&2; exit 3`);
    await box.writeConfig({ credsStore: "pbcrash" });
    const error = await caught(resolve("ghcr.io"));
    expect(error.kind).toBe("credentials");
    expect(error.message).toContain("docker-credential-pbcrash");
    expect(error.message).toContain("exit code 3");
    expect(everythingSaidBy(error)).not.toContain(SENTINEL);
  });

  it("names a helper killed by a signal", async () => {
    await box.writeHelper("pbcrash", "kill -KILL $$");
    const error = await caught(getFromCredentialHelper("pbcrash", "ghcr.io", { env: box.env }));
    expect(error.message).toMatch(/docker-credential-pbcrash failed \(signal SIGKILL\)/);
  });

  it.each([
    ["not JSON", `echo 'Secret: ${SENTINEL}'`],
    ["truncated JSON", `printf '{"Username":"u","Secret":"${SENTINEL}'`],
    ["a JSON string", `printf '"${SENTINEL}"'`],
    ["a non-string Secret", `printf '{"Username":"u","Secret":["${SENTINEL}"]}'`],
  ])("rejects a reply that is %s without quoting it", async (_name, body) => {
    await box.writeHelper("pbtest", body);
    const error = await caught(getFromCredentialHelper("pbtest", "ghcr.io", { env: box.env }));
    expect(error.kind).toBe("credentials");
    expect(error.message).toContain("docker-credential-pbtest");
    expect(everythingSaidBy(error)).not.toContain(SENTINEL);
  });

  it("explains a helper that is not installed", async () => {
    const file = await box.writeConfig({ credHelpers: { "ghcr.io": "pbmissing" } });
    const error = await caught(resolve("ghcr.io"));
    expect(error.kind).toBe("credentials");
    expect(error.message).toContain(`docker-credential-pbmissing is not installed (configured in credHelpers["ghcr.io"] of ${file})`);
    const steps = error.diagnosis?.steps.map((s) => s.text).join(" ") ?? "";
    expect(steps).toMatch(/Install docker-credential-pbmissing/);
    expect(steps).toMatch(/remove the entry/);
  });

  it("kills a helper that hangs", async () => {
    await box.writeHelper("pbslow", "sleep 5");
    const started = Date.now();
    const error = await caught(getFromCredentialHelper("pbslow", "ghcr.io", { env: box.env, timeoutMs: 300 }));
    expect(error.message).toBe("docker-credential-pbslow did not answer within 0.3 s and was stopped");
    expect(error.diagnosis?.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each(["../../bin/sh", "a b", "", "-rf"])("refuses the helper name %j", async (name) => {
    const error = await caught(getFromCredentialHelper(name, "ghcr.io", { env: box.env }));
    expect(error.kind).toBe("config");
  });
});
