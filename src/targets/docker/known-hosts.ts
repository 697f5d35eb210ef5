/**
 * OpenSSH known_hosts matching, so a remote daemon's host key is checked the way
 * `ssh` checks it: a known key passes, a different key for a known host is refused
 * loudly (it may be an attack), and an unknown host is refused unless accepted.
 */
import { createHmac } from "node:crypto";

export type HostKeyStatus = "known" | "changed" | "unknown" | "revoked";

/** How `ssh` names a host in known_hosts: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Check `keyBlob` (the raw public key the server presented) against the text of a known_hosts file. */
export function checkHostKey(knownHosts: string, host: string, port: number, keyBlob: Buffer): HostKeyStatus {
  const name = knownHostsName(host, port);
  let sawHost = false;
  for (const entry of parseKnownHosts(knownHosts)) {
    if (!entry.patterns.some((pattern) => hostMatches(pattern, name))) continue;
    const same = entry.key === keyBlob.toString("base64");
    if (entry.marker === "@revoked") {
      if (same) return "revoked";
      continue;
    }
    if (entry.marker === "@cert-authority") continue;
    if (same) return "known";
    sawHost = true;
  }
  return sawHost ? "changed" : "unknown";
}

interface KnownHostEntry {
  readonly marker: string | undefined;
  readonly patterns: readonly string[];
  readonly key: string;
}

function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const fields = raw.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]?.startsWith("#")) continue;
    const marker = fields[0]?.startsWith("@") ? fields.shift() : undefined;
    const [hosts, , key] = fields;
    if (hosts && key) entries.push({ marker, patterns: hosts.split(","), key });
  }
  return entries;
}

/** A plain name, a hashed `|1|salt|hash` entry, or a negated/wildcard pattern (negations never match). */
function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  if (pattern.startsWith("!")) return false;
  if (!pattern.includes("*") && !pattern.includes("?")) return pattern === name;
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return regex.test(name);
}
