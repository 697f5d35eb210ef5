/**
 * Every JSON line pullback emits, in real runs against the world, is described by
 * docs/cli.md's `--json` table: no undocumented field, no documented required field
 * missing, every kind from the documented lists — and every documented line type
 * is seen at least once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getWorld, removeAllImages } from "../world/client.js";
import { fieldPaths, missingRequired, readJsonSchemaDoc } from "./json-schema-doc.js";
import { cliEnv, registryCredentials } from "../support/cli-env.js";
import { buildOnce, cleanHome, runCli } from "./run-cli.js";

const world = getWorld();
const registry = world.registries.token.host;
const image = (repo: string): string => `${registry}/${repo}`;
const home = cleanHome();
const scratch = mkdtempSync(join(tmpdir(), "pullback-schema-"));
const ssh = ["--host", world.ssh.url, "-i", world.ssh.keyFile, "--known-hosts", world.ssh.knownHostsFile];
const doc = readJsonSchemaDoc();

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => cliEnv(world, home, extra);
const bob = registryCredentials(world.users.bob);
const alice = registryCredentials(world.users.alice);

/** [command, args, environment, stdin] — one run per documented situation. */
const scenarios: readonly (readonly [string, readonly string[], NodeJS.ProcessEnv, string?])[] = [
  ["pull", ["pull", image("public/app:1"), "--fail-on-fallback"], bob],
  ["pull", ["pull", image("public/app:1")], {}],
  ["pull", ["pull", image("public/app:1"), "--pull", "missing"], {}],
  ["pull", ["pull", image("private/app:1")], bob],
  ["pull", ["pull", image("public/multi:1"), "--to", `oci:${join(scratch, "layout")}:multi`, "--all-platforms", "--no-credentials"], {}],
  ["pull", ["pull", image("public/app:1"), "--to", `docker-archive:${join(scratch, "app.tar")}`, "--no-credentials"], {}],
  ["pull", ["pull", image("public/app:1"), ...ssh, "--tag-as", "schema/app:dev", "--no-credentials"], {}],
  ["pull", ["pull", image("public/app:1"), "--pull", "never", "--to", `oci:${join(scratch, "empty")}:x`], {}],
  ["pull", ["pull", "127.0.0.1:99999/public/app:1"], {}],
  ["pull", ["pull", image("public/app:1"), "--no-such-flag"], {}],
  ["pull", ["pull", image("public/app:1")], { PULLBACK_REGISTRY_USERNAME: "someone" }],
  // Sets: events carry their image, a refusal its registry and source; the stream ends with a summary.
  ["pull", ["pull", image("public/set-1:1"), image("public/set-2:1"), image("public/missing:1"), "--keep-going"], bob],
  ["pull", ["pull", image("public/set-3:1"), image("private/set-1:1"), "--to", `docker-archive:${join(scratch, "set.tar")}`], alice],
  ["check", ["check", image("public/app:1"), registry], alice],
  ["check", ["check", image("private/app:1")], bob],
  [
    "cluster-config",
    ["cluster-config", "--registry", registry, "--verify-repo", "private/app:1", "--output", join(scratch, "r.yaml"), "--dry-run"],
    alice,
  ],
  ["cluster-config", ["cluster-config", "--registry", registry, "--output", join(scratch, "r2.yaml")], bob],
  ["cluster-config", ["cluster-config", "--registry", registry, "--format", "k8s-secret", "--output", join(scratch, "s.yaml")], alice],
];

interface Line {
  readonly key: string;
  readonly value: Record<string, unknown>;
  readonly run: string;
}
const lines: Line[] = [];

beforeAll(async () => {
  buildOnce();
  await removeAllImages(world);
  for (const [command, args, extra, stdin] of scenarios) {
    const run = await runCli([...args, "--json"], { env: env(extra), ...(stdin === undefined ? {} : { stdin }) });
    expect(run.stderr, `${args.join(" ")}: nothing human on stderr under --json`).toBe("");
    for (const text of run.stdout.split("\n").filter((l) => l !== "")) {
      const value = JSON.parse(text) as Record<string, unknown>;
      const type = String(value["type"]);
      lines.push({ key: type === "outcome" ? `outcome (${command})` : type, value, run: args.join(" ") });
    }
  }
}, 600_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe("--json lines against docs/cli.md", () => {
  it("every line type is documented and every documented type was emitted", () => {
    expect([...new Set(lines.map((l) => l.key))].sort()).toEqual([...doc.fields.keys()].sort());
  });

  it("every field of every line is documented for its type", () => {
    for (const line of lines) {
      const documented = new Set((doc.fields.get(line.key) ?? []).map((f) => f.path));
      const undocumented = fieldPaths(line.value).filter((path) => !documented.has(path));
      expect(undocumented, `${line.key} of "${line.run}": ${JSON.stringify(line.value).slice(0, 300)}`).toEqual([]);
    }
  });

  it("no line lacks a field the table calls required", () => {
    for (const line of lines) {
      expect(missingRequired(line.value, doc.fields.get(line.key) ?? []), `${line.key} of "${line.run}"`).toEqual([]);
    }
  });

  it("every kind is one of the documented kinds, and reference, usage and credentials errors occur", () => {
    const errorKinds = lines.filter((l) => l.key === "error").map((l) => String(l.value["kind"]));
    for (const kind of errorKinds) expect(doc.errorKinds.has(kind), kind).toBe(true);
    expect(new Set(errorKinds)).toEqual(new Set(["auth", "not-found", "reference", "usage", "credentials"]));
    const failureKinds = lines.flatMap((l) => [
      ...(l.key === "attempt-failed" ? [String(l.value["kind"])] : []),
      ...((l.value["attempts"] as { failure?: { kind: string } }[] | undefined) ?? []).flatMap((a) => (a.failure ? [a.failure.kind] : [])),
    ]);
    expect(failureKinds.length).toBeGreaterThan(0);
    for (const kind of failureKinds) expect(doc.errorKinds.has(kind), kind).toBe(true);
  });
});
