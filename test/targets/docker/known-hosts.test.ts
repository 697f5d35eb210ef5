import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkHostKey, knownHostsName } from "../../../src/targets/docker/known-hosts.js";

const key = randomBytes(51);
const other = randomBytes(51);
const b64 = (k: Buffer) => k.toString("base64");

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

describe("known_hosts", () => {
  it("names non-default ports in brackets, as ssh does", () => {
    expect(knownHostsName("h", 22)).toBe("h");
    expect(knownHostsName("127.0.0.1", 2222)).toBe("[127.0.0.1]:2222");
  });

  it.each([
    ["a known key", `[127.0.0.1]:2222 ssh-ed25519 ${b64(key)}`, "known"],
    ["a known key among several names", `other,[127.0.0.1]:2222 ssh-ed25519 ${b64(key)}`, "known"],
    ["a hashed entry", `${hashed("[127.0.0.1]:2222")} ssh-ed25519 ${b64(key)}`, "known"],
    ["a changed key", `[127.0.0.1]:2222 ssh-ed25519 ${b64(other)}`, "changed"],
    ["a changed hashed key", `${hashed("[127.0.0.1]:2222")} ssh-ed25519 ${b64(other)}`, "changed"],
    ["the same host on port 22 only", `127.0.0.1 ssh-ed25519 ${b64(key)}`, "unknown"],
    ["an empty file", "", "unknown"],
    ["a comment", `# [127.0.0.1]:2222 ssh-ed25519 ${b64(key)}`, "unknown"],
    ["a revoked key", `@revoked [127.0.0.1]:2222 ssh-ed25519 ${b64(key)}`, "revoked"],
    ["a wildcard", `[127.0.0.*]:2222 ssh-ed25519 ${b64(key)}`, "known"],
  ])("%s", (_name, file, expected) => {
    expect(checkHostKey(file, "127.0.0.1", 2222, key)).toBe(expected);
  });
});
