import { describe, expect, it } from "vitest";
import { formatIssue, readRegistriesConfig } from "../../../src/targets/cluster/registries-config.js";

describe("readRegistriesConfig", () => {
  it("reads mirrors, rewrites, auth and tls as k3s does", () => {
    const text = [
      "mirrors:",
      "  docker.io:",
      "    endpoint:",
      '      - "https://mirror.example:5000"',
      "    rewrite:",
      '      "^library/(.*)": "mirrored/$1"',
      "configs:",
      "  mirror.example:5000:",
      "    auth:",
      "      username: ci",
      "      password: 0123",
      "    tls:",
      "      ca_file: /etc/ssl/ca.pem",
      "      insecure_skip_verify: yes",
      "",
    ].join("\n");
    const { value, errors, warnings } = readRegistriesConfig(text);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(value?.mirrors["docker.io"]).toEqual({ endpoint: ["https://mirror.example:5000"], rewrite: { "^library/(.*)": "mirrored/$1" } });
    // Go reads `0123` into a string as written; a YAML 1.2 number would lose the zero.
    expect(value?.configs["mirror.example:5000"]).toEqual({
      auth: { username: "ci", password: "0123" },
      tls: { ca_file: "/etc/ssl/ca.pem", insecure_skip_verify: true },
    });
  });

  it("reads an empty file and empty host entries as empty", () => {
    expect(readRegistriesConfig("")).toEqual({ value: { mirrors: {}, configs: {} }, errors: [], warnings: [] });
    expect(readRegistriesConfig("mirrors:\n  docker.io:\nconfigs:\n").value).toEqual({ mirrors: { "docker.io": {} }, configs: {} });
  });

  it("reports a syntax error with its line, without quoting the file", () => {
    const text = "configs:\n  ghcr.io:\n    auth:\n      password: [s3cret-value\n      username: x\n";
    const { value, errors } = readRegistriesConfig(text);
    expect(value).toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(errors)).not.toContain("s3cret");
  });

  it("reports a duplicate host as an error at its line", () => {
    const { errors } = readRegistriesConfig("configs:\n  ghcr.io: {}\n  ghcr.io: {}\n");
    expect(errors).toEqual([expect.objectContaining({ message: "duplicate key", line: 3 })]);
  });

  it("reports wrong types with the line and the key path", () => {
    const text =
      "mirrors:\n  docker.io:\n    endpoint: https://mirror.example\nconfigs:\n  ghcr.io:\n    tls:\n      insecure_skip_verify: maybe\n";
    const { value, errors } = readRegistriesConfig(text);
    expect(value).toBeUndefined();
    expect(errors.map(formatIssue)).toEqual([
      "line 3, column 15: mirrors.docker.io.endpoint must be a list of URLs",
      "line 7, column 29: configs.ghcr.io.tls.insecure_skip_verify must be true or false",
    ]);
  });

  it("rejects an endpoint that is not an http(s) URL", () => {
    const { errors } = readRegistriesConfig('mirrors:\n  docker.io:\n    endpoint: ["mirror.example"]\n');
    expect(errors.map(formatIssue)).toEqual(["line 3, column 16: mirrors.docker.io.endpoint entry must be an http:// or https:// URL"]);
  });

  it("warns about unknown keys and the auth keys k3s ignores, naming no value", () => {
    const text = "mirrors: {}\nregistries: {}\nconfigs:\n  ghcr.io:\n    auth:\n      identitytoken: tok-secret\n    proxy: x\n";
    const { value, errors, warnings } = readRegistriesConfig(text);
    expect(errors).toEqual([]);
    expect(value?.configs["ghcr.io"]).toEqual({ auth: {} });
    expect(warnings.map(formatIssue)).toEqual([
      'line 2, column 13: unknown key "registries" (k3s ignores it)',
      'line 6, column 22: configs.ghcr.io.auth.identitytoken is ignored by k3s; the key it reads is "identity_token"',
      'line 7, column 12: unknown key "proxy" in configs.ghcr.io (k3s ignores it)',
    ]);
    expect(JSON.stringify(warnings)).not.toContain("tok-secret");
  });

  it("rejects a file that is not a mapping", () => {
    expect(readRegistriesConfig("- a\n- b\n").errors.map(formatIssue)).toEqual(["line 1, column 1: the file must be a mapping"]);
  });
});
