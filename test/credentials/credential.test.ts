import { Console } from "node:console";
import { homedir } from "node:os";
import { PassThrough } from "node:stream";
import { format, inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { Credential, describeSource, type CredentialSource } from "../../src/credentials/credential.js";
import { PullbackError } from "../../src/errors.js";

const SECRET = "ghp_SENTINEL_secret_0123456789";
const envSource: CredentialSource = { type: "env", secretVariable: "PULLBACK_REGISTRY_TOKEN" };

function consoleOutput(value: unknown): string {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  new Console({ stdout: stream, stderr: stream }).log(value);
  new Console({ stdout: stream, stderr: stream }).error("%s %o %O %j", value, value, value, value);
  return Buffer.concat(chunks).toString("utf8");
}

describe("Credential redaction", () => {
  const credentials = [
    Credential.basic("ci-bot", SECRET, envSource),
    Credential.identityToken(SECRET, { type: "helper", helper: "desktop", registry: "docker.io" }),
  ];

  it.each(credentials)("reveals the secret only through reveal() ($kind)", (credential) => {
    expect(credential.reveal()).toBe(SECRET);
    const renderings = [
      String(credential),
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the very case under test
      `${credential}`,
      "" + credential.toString(),
      inspect(credential),
      inspect(credential, { showHidden: true, depth: Infinity, getters: true }),
      inspect({ nested: [credential] }, { depth: 10 }),
      JSON.stringify(credential),
      JSON.stringify({ auth: credential }),
      format("%s %o %O %j %d", credential, credential, credential, credential, credential),
      consoleOutput(credential),
      consoleOutput({ credential }),
      JSON.stringify(Object.entries(credential)),
      JSON.stringify(structuredClone(credential)),
    ];
    for (const text of renderings) expect(text).not.toContain(SECRET);
  });

  it("shows username, kind, source and a masked secret instead", () => {
    const credential = credentials[0]!;
    expect(String(credential)).toBe(
      'Credential { username: "ci-bot", kind: "basic", source: "the token from PULLBACK_REGISTRY_TOKEN", secret: "***" }',
    );
    expect(JSON.parse(JSON.stringify(credential))).toEqual({ username: "ci-bot", kind: "basic", source: envSource, secret: "***" });
    expect(inspect(credential)).toMatch(/^Credential \{.*username: 'ci-bot'.*kind: 'basic'.*secret: '\*\*\*'/s);
  });

  it("cannot be changed after construction", () => {
    const credential = credentials[0]!;
    expect(() => Object.assign(credential, { username: "other" })).toThrow(TypeError);
    expect(credential.username).toBe("ci-bot");
  });

  it("gives identity tokens docker's placeholder username unless one is known", () => {
    expect(credentials[1]!.username).toBe("<token>");
    expect(credentials[1]!.kind).toBe("identity-token");
    expect(Credential.identityToken(SECRET, envSource, "alice").username).toBe("alice");
  });
});

describe("Credential validation", () => {
  const cases: Array<[string, () => Credential, RegExp]> = [
    ["empty secret", () => Credential.basic("u", "", envSource), /secret is empty/],
    ["empty username", () => Credential.basic("", SECRET, envSource), /username is empty/],
    ["newline in secret", () => Credential.basic("u", `${SECRET}\n`, envSource), /line break or NUL/],
    ["CR in secret", () => Credential.basic("u", `${SECRET}\r`, envSource), /line break or NUL/],
    ["NUL in secret", () => Credential.basic("u", `${SECRET}\0x`, envSource), /line break or NUL/],
    ["colon in basic username", () => Credential.basic(`${SECRET}:x`, "pw", envSource), /contains ":"/],
    ["control character in username", () => Credential.basic(`${SECRET}\n`, "pw", envSource), /control character/],
    ["empty identity token", () => Credential.identityToken("", envSource), /secret is empty/],
  ];

  it.each(cases)("rejects %s with a credentials error that names the source, not the value", (_name, make, pattern) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PullbackError);
    const pullbackError = error as PullbackError;
    expect(pullbackError.kind).toBe("credentials");
    expect(pullbackError.message).toMatch(pattern);
    expect(pullbackError.message).toContain("PULLBACK_REGISTRY_TOKEN");
    expect(inspect(pullbackError, { depth: Infinity })).not.toContain(SECRET);
    expect(JSON.stringify(pullbackError.diagnosis)).not.toContain(SECRET);
  });
});

describe("describeSource", () => {
  it.each<[CredentialSource, string]>([
    [{ type: "env", secretVariable: "PULLBACK_REGISTRY_TOKEN" }, "the token from PULLBACK_REGISTRY_TOKEN"],
    [
      { type: "env", usernameVariable: "PULLBACK_REGISTRY_USERNAME", secretVariable: "PULLBACK_REGISTRY_TOKEN" },
      "the credentials from PULLBACK_REGISTRY_USERNAME and PULLBACK_REGISTRY_TOKEN",
    ],
    [{ type: "helper", helper: "pass", registry: "ghcr.io" }, "the credentials for ghcr.io from docker-credential-pass"],
    [{ type: "helper", helper: "pass" }, "the credentials from docker-credential-pass"],
    [
      { type: "config", file: `${homedir()}/.docker/config.json`, key: "ghcr.io" },
      'the credentials in ~/.docker/config.json (auths["ghcr.io"])',
    ],
    [
      { type: "config", file: "/etc/docker/config.json", key: "https://ghcr.io" },
      'the credentials in /etc/docker/config.json (auths["https://ghcr.io"])',
    ],
    [{ type: "explicit" }, "the credentials given on the command line"],
    [{ type: "explicit", label: "the credentials passed to pull()" }, "the credentials passed to pull()"],
  ])("%j reads %j", (source, text) => {
    expect(describeSource(source)).toBe(text);
    expect(Credential.basic("u", SECRET, source).describe()).toBe(text);
  });
});
