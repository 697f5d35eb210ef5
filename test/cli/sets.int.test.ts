/**
 * Image sets through the built CLI against the real world (issue #16): a --file of ten
 * world.fixtures.set images plus a missing one, onto the local daemon, into one
 * docker-archive and into one OCI layout, with and without --keep-going; the --json
 * summary, the table, exit codes, refusal warnings once per registry — and no secret in
 * any output.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearFaults, engineRequest, getWorld, removeAllImages, setFaults } from "../world/client.js";
import { cliEnv, registryCredentials } from "../support/cli-env.js";
import { startDockerd, type Dockerd } from "../world/dockerd.js";
import { startSshd, type Sshd } from "../world/sshd.js";
import { BIN, buildOnce, cleanHome, runCli, runs, type CliRun } from "../support/run-cli.js";

const world = getWorld();
const registry = world.registries.token.host;
const home = cleanHome();
const scratch = mkdtempSync(join(tmpdir(), "pullback-sets-"));
const secrets = [world.users.alice.password, world.users.bob.password, world.users.wrongPassword];
const alice = cliEnv(world, home, registryCredentials(world.users.alice));
const bob = cliEnv(world, home, registryCredentials(world.users.bob));

const ref = (repository: string): string => `${registry}/${repository}:1`;
/** Ten images: public/set-1…8 and private/set-1…2 (alice may read them). */
const ten = [
  ...world.fixtures.set.filter((f) => f.repository.startsWith("public/")),
  ...world.fixtures.set.filter((f) => f.repository.startsWith("private/")).slice(0, 2),
].map((f) => `${registry}/${f.repository}:${f.tag}`);
const missing = ref("public/missing");

/** The list users write: comments, a blank line, the missing image in the middle (index 5). */
function listFile(name: string, images: readonly string[]): string {
  const file = join(scratch, name);
  writeFileSync(file, `# the set\n${images.slice(0, 5).join("\n")}\n\n${images.slice(5).join("\n")}  # the rest\n`);
  return file;
}
const withMissing = [...ten.slice(0, 5), missing, ...ten.slice(5)];
const list = listFile("images.txt", withMissing);

interface SummaryItem {
  image: string;
  host?: string;
  result: string;
  kind?: string;
  reason?: string;
  digest?: string;
  bytes?: number;
  durationMs: number;
}
interface Summary {
  type: "summary";
  ok: boolean;
  exitCode: number;
  counts: Record<string, number>;
  items: SummaryItem[];
}

const jsonLines = (run: CliRun): Record<string, unknown>[] =>
  run.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const summaryOf = (run: CliRun): Summary => {
  const last = jsonLines(run).at(-1) as unknown as Summary;
  expect(last.type, run.stdout.slice(-500)).toBe("summary");
  return last;
};

async function inDaemon(name: string): Promise<boolean> {
  const answer = await engineRequest(world, "GET", `/images/${encodeURIComponent(name)}/json`);
  return answer.status === 200;
}

beforeAll(() => buildOnce(), 180_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe("pullback pull --file: the list", () => {
  it("reports every bad line by its number and pulls nothing (exit 2)", async () => {
    await removeAllImages(world);
    const bad = join(scratch, "bad.txt");
    writeFileSync(bad, `${ten[0]}\n# fine\nNot A Reference\n${ten[1]}\nnginx@sha256:123\n`);
    const run = await runCli(["pull", "--file", bad], { env: alice });
    expect(run.stderr).toMatch(/bad\.txt has 2 lines that are not an image reference; nothing was pulled/);
    expect(run.stderr).toMatch(/bad\.txt:3: /);
    expect(run.stderr).toMatch(/bad\.txt:5: /);
    expect(run.code).toBe(2);
    expect(await inDaemon(ten[0]!)).toBe(false);
  });

  it("refuses what a set cannot mean (exit 2) before anything is pulled", async () => {
    const cases: [string[], RegExp, string?][] = [
      [["pull", "--file", "-", "--password-stdin"], /--file - and --password-stdin both read stdin/, "x"],
      [["pull", ten[0]!, ten[1]!, "--tag-as", "x:1"], /--tag-as names one image on one host/],
      [["pull", ten[0]!, ten[1]!, "--to", `oci:${join(scratch, "nope")}:tag`], /--to oci:DIR:TAG names one image/],
      [["pull", ten[0]!, "--host", world.ssh.url, "--host", "ssh://other", "--to", `oci:${join(scratch, "nope")}`], /--to .* --host/],
      [["pull", "--file", list, "--jobs", "65"], /--jobs must be a whole number from 1 to 64/],
      [["pull"], /no image to pull/],
    ];
    for (const [args, message, stdin] of cases) {
      const run = await runCli(args, { env: alice, ...(stdin === undefined ? {} : { stdin }) });
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.code, args.join(" ")).toBe(2);
    }
    expect(existsSync(join(scratch, "nope"))).toBe(false);
  });
});

describe("pullback pull --file onto the local daemon", () => {
  it("without --keep-going (--jobs 1): stops at the missing image; the rest end cancelled; exit 4; --json summary", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", "--file", list, "--jobs", "1", "--json"], { env: alice });
    const summary = summaryOf(run);
    expect(summary.items.map((item) => item.image)).toEqual(withMissing);
    expect(summary.items.slice(0, 5).map((item) => item.result)).toEqual(Array(5).fill("pulled"));
    expect(summary.items[5]).toMatchObject({ image: missing, result: "failed", kind: "not-found" });
    for (const item of summary.items.slice(6)) expect(item).toMatchObject({ result: "failed", reason: "cancelled" });
    expect(summary).toMatchObject({ ok: false, exitCode: 4, counts: { pulled: 5, failed: 1, notAttempted: 5 } });
    // Every event of a set names its image.
    for (const line of jsonLines(run).slice(0, -1)) expect(line["image"], JSON.stringify(line)).toEqual(expect.any(String));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(4);
    expect(await inDaemon(ten[0]!)).toBe(true);
    expect(await inDaemon(ten[9]!)).toBe(false);
  });

  it("with --keep-going: every other image is pulled; plain lines, the table on stdout, an error line; exit 4", async () => {
    await removeAllImages(world);
    const run = await runCli(["pull", "--file", list, "--keep-going"], { env: alice });
    expect(run.stderr).not.toContain("\r");
    for (const image of ten) expect(run.stderr).toContain(`${image}: pulled`);
    expect(run.stderr).not.toMatch(/^[0-9a-f]{12}: /m); // no line per layer
    expect(run.stderr).toMatch(new RegExp(`^error: ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*not found`, "m"));
    const table = run.stdout.trim().split("\n");
    expect(table[0]).toMatch(/^IMAGE +RESULT +DIGEST +SIZE +TIME$/);
    expect(table).toHaveLength(1 + withMissing.length + 1);
    expect(table.filter((line) => / pulled +sha256:[0-9a-f]{12} +\d/.test(line))).toHaveLength(10);
    expect(table.find((line) => line.startsWith(missing))).toMatch(/failed \(not-found\)/);
    expect(table.at(-1)).toBe("11 items: 10 pulled, 1 failed");
    expect(run.code).toBe(4);
    for (const image of ten) expect(await inDaemon(image), image).toBe(true);
  });

  it("runs again: every image already present (--pull missing), exit 0", async () => {
    const run = await runCli(["pull", ...ten, "--pull", "missing", "-q"], { env: alice });
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const json = summaryOf(await runCli(["pull", ...ten, "--pull", "missing", "--json"], { env: alice }));
    expect(json.counts).toMatchObject({ alreadyPresent: 10, pulled: 0, failed: 0 });
  });

  it("refused credentials: warned once per registry, each image pulled anonymously; --fail-on-fallback exits 6", async () => {
    await removeAllImages(world);
    const publics = ten.slice(0, 4);
    const run = await runCli(["pull", ...publics, "--fail-on-fallback"], { env: bob });
    expect(run.stderr.match(/were refused by/g)).toHaveLength(1);
    expect(run.stdout.match(/pulled anonymously after refused credentials/g)?.length).toBe(4 + 1); // 4 rows and the count line
    expect(run.code).toBe(6);
  });

  it("mixed failure kinds exit 1: a missing image (4) and a private one the credentials may not read (3)", async () => {
    const run = await runCli(["pull", missing, ref("private/set-3"), ten[0]!, "--keep-going", "--json"], { env: bob });
    const summary = summaryOf(run);
    expect(summary.items.map((item) => item.kind)).toEqual(["not-found", "auth", undefined]);
    expect(summary.exitCode).toBe(1);
    expect(run.code).toBe(1);
  });

  it("reads the list from stdin (--file -)", async () => {
    const run = await runCli(["pull", "--file", "-", "--pull", "missing", "--json"], {
      env: alice,
      stdin: `# two\n${ten[0]}\n${ten[1]}\n`,
    });
    expect(summaryOf(run).items.map((item) => item.image)).toEqual([ten[0], ten[1]]);
    expect(run.code).toBe(0);
  });

  it("on a terminal (script(1)): one line per image, then the table", async () => {
    if (!existsSync("/usr/bin/script")) throw new Error("script(1) is needed for the terminal test (bsdutils)");
    await removeAllImages(world);
    const three = ten.slice(0, 3);
    const command = `${process.execPath} ${BIN} pull ${three.join(" ")} --no-credentials`;
    const result = spawnSync("script", ["-qfec", command, "/dev/null"], { env: { ...alice, COLUMNS: "160" }, encoding: "utf8" });
    runs.push({ code: result.status, stdout: result.stdout, stderr: result.stderr });
    for (const image of three) expect(result.stdout).toContain(image);
    expect(result.stdout).toMatch(/█/);
    expect(result.stdout).not.toMatch(/overall/); // no per-layer display in a set
    expect(result.stdout).toMatch(/IMAGE +RESULT +DIGEST +SIZE +TIME/);
    expect(result.stdout).toMatch(/3 items: 3 pulled/);
    expect(result.status).toBe(0);
  });
});

describe("pullback pull --file into one destination", () => {
  it("--to docker-archive: with --keep-going: one archive of the ten that succeeded, every tag present; exit 4", async () => {
    const archive = join(scratch, "bundle.tar");
    const run = await runCli(["pull", "--file", list, "--keep-going", "--to", `docker-archive:${archive}`, "--json"], { env: alice });
    const summary = summaryOf(run);
    expect(summary.counts).toMatchObject({ pulled: 10, failed: 1 });
    for (const item of summary.items.filter((i) => i.result === "pulled")) expect(item.bytes).toBeGreaterThan(640 * 1024);
    const manifest = spawnSync("tar", ["-xOf", archive, "manifest.json"], { encoding: "utf8" });
    const tags = (JSON.parse(manifest.stdout) as { RepoTags: string[] }[]).flatMap((entry) => entry.RepoTags);
    expect(tags.sort()).toEqual([...ten].sort());
    expect(run.code).toBe(4);
  });

  it("--to docker-archive: without --keep-going no archive is written; the others end not-written or cancelled; exit 4", async () => {
    const archive = join(scratch, "no-bundle.tar");
    const run = await runCli(["pull", "--file", list, "--to", `docker-archive:${archive}`, "--json"], { env: alice });
    const summary = summaryOf(run);
    expect(summary.items.find((item) => item.image === missing)).toMatchObject({ result: "failed", kind: "not-found" });
    for (const item of summary.items.filter((i) => i.image !== missing)) expect(["not-written", "cancelled"]).toContain(item.reason);
    expect(existsSync(archive)).toBe(false);
    expect(run.code).toBe(4);
  });

  it("Ctrl-C mid-set: the set is cancelled, no archive is written, the summary says so, exit 130", async () => {
    const proxied = world.faultProxy.host;
    const slow = world.fixtures.set.find((f) => f.repository === "public/set-3")!.layers[1]!.digest;
    await setFaults(world, [{ match: { method: "GET", path: `/blobs/${slow}` }, action: { type: "throttle", bytesPerSecond: 4 * 1024 } }]);
    try {
      const archive = join(scratch, "interrupted.tar");
      const images = [1, 2, 3, 4].map((n) => `${proxied}/public/set-${n}:1`);
      const child = spawn(process.execPath, [BIN, "pull", ...images, "--keep-going", "--to", `docker-archive:${archive}`, "--json"], {
        env: alice,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let interrupted = false;
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      // Interrupt once the throttled layer is streaming: the other images may be done, that one is not.
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString("utf8");
        const streaming = stdout.includes(`"id":"${slow.slice("sha256:".length, "sha256:".length + 12)}","status":"downloading"`);
        if (streaming && !interrupted) interrupted = child.kill("SIGINT");
      });
      const code = await exited;
      runs.push({ code, stdout, stderr });
      expect(code, `${stderr}\n${stdout.slice(-1500)}`).toBe(130);
      expect(`${stdout}${stderr}`).toContain("interrupted: cancelling the set");
      expect(existsSync(archive)).toBe(false);
      const summary = summaryOf({ code, stdout, stderr });
      expect(summary.items.find((item) => item.image.includes("public/set-3"))).toMatchObject({ reason: "cancelled" });
      for (const item of summary.items) expect(["not-written", "cancelled"]).toContain(item.reason);
    } finally {
      await clearFaults(world);
    }
  });

  it("--to oci:DIR with --keep-going: one layout holding the ten, each tagged by its reference, the shared base layer stored once", async () => {
    const dir = join(scratch, "layout");
    const run = await runCli(["pull", "--file", list, "--keep-going", "--to", `oci:${dir}`, "-q"], { env: alice });
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1); // -q: only the error line of the missing image
    expect(run.code).toBe(4);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { annotations?: Record<string, string> }[] };
    const names = index.manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"] ?? "");
    expect(names).toHaveLength(10);
    for (const image of ten)
      expect(
        names.some((name) => image.endsWith(name) || name === image),
        image,
      ).toBe(true);
    const base = world.fixtures.set[0]!.layers[0]!.digest;
    expect(existsSync(join(dir, "blobs", "sha256", base.slice("sha256:".length)))).toBe(true);
  });
});

describe("pullback pull --file --host … --host …: a fleet over SSH", () => {
  let dockerdB: Dockerd;
  let sshdB: Sshd;
  let sshConfig: string;
  const HOST_A = "ssh://fleet-a";
  const HOST_B = "ssh://fleet-b";

  beforeAll(async () => {
    dockerdB = await startDockerd(join(scratch, "b"));
    sshdB = await startSshd(join(scratch, "b"), dockerdB.dockerHost);
    const alias = (name: string, ssh: { port: number; keyFile: string; knownHostsFile: string }): string =>
      [
        `Host ${name}`,
        "  HostName 127.0.0.1",
        `  Port ${ssh.port}`,
        "  User root",
        `  IdentityFile ${ssh.keyFile}`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${ssh.knownHostsFile}`,
        "",
      ].join("\n");
    sshConfig = join(scratch, "ssh_config");
    writeFileSync(sshConfig, [alias("fleet-a", world.ssh), alias("fleet-b", sshdB.info)].join("\n"), { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    await sshdB?.stop();
    await dockerdB?.stop();
  }, 60_000);

  const accepted = (logFile: string): number =>
    readFileSync(logFile, "utf8")
      .split("\n")
      .filter((line) => line.includes("Accepted publickey")).length;

  it("every image on both hosts, one SSH connection per host, a table with the HOST column, --json items host-major", async () => {
    await removeAllImages(world);
    await removeAllImages({ ...world, dockerHost: dockerdB.dockerHost });
    const before = { a: accepted(world.ssh.logFile), b: accepted(sshdB.info.logFile) };
    const fleet = ten.slice(0, 5);
    const run = await runCli(
      ["pull", ...fleet, missing, "--host", HOST_A, "--host", HOST_B, "--ssh-config", sshConfig, "--keep-going", "--json"],
      {
        env: alice,
      },
    );
    const summary = summaryOf(run);
    expect(summary.items.map((item) => `${item.host} ${item.image}`)).toEqual(
      [HOST_A, HOST_B].flatMap((host) => [...fleet, missing].map((image) => `${host} ${image}`)),
    );
    expect(summary.counts).toMatchObject({ pulled: 10, failed: 2 });
    for (const line of jsonLines(run).slice(0, -1)) if (line["type"] !== "warning") expect([HOST_A, HOST_B]).toContain(line["host"]);
    expect(run.code).toBe(4);
    expect({ a: accepted(world.ssh.logFile) - before.a, b: accepted(sshdB.info.logFile) - before.b }).toEqual({ a: 1, b: 1 });
    for (const image of fleet) {
      expect(await inDaemon(image), `${image} on A`).toBe(true);
      const onB = await engineRequest({ ...world, dockerHost: dockerdB.dockerHost }, "GET", `/images/${encodeURIComponent(image)}/json`);
      expect(onB.status, `${image} on B`).toBe(200);
    }
    const human = await runCli(["pull", ...fleet.slice(0, 2), "--host", HOST_A, "--host", HOST_B, "--ssh-config", sshConfig], {
      env: alice,
    });
    const table = human.stdout.trim().split("\n");
    expect(table[0]).toMatch(/^IMAGE +HOST +RESULT +DIGEST +SIZE +TIME$/);
    expect(table.filter((line) => line.includes(HOST_B))).toHaveLength(2);
    expect(human.code).toBe(0);
  });
});

describe("secrets", () => {
  it("no fixture password appears in any output of any run", () => {
    expect(runs.length).toBeGreaterThan(10);
    for (const run of runs) for (const secret of secrets) expect(run.stdout.includes(secret) || run.stderr.includes(secret)).toBe(false);
  });
});
