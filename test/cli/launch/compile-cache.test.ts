import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { PassThrough, Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compileCacheFolder, openCompileCache, readBundle } from "../../../src/cli/launch/compile-cache.js";
import { cliBundle, commandKey, launch } from "../../../src/cli/launch/launch.js";

const uid = process.getuid!();
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "pullback-compile-cache-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe("compileCacheFolder", () => {
  it("is the platform's per-user cache folder", () => {
    expect(compileCacheFolder({ env: { HOME: "/home/ann" }, platform: "linux" })).toBe("/home/ann/.cache/pullback/v8");
    expect(compileCacheFolder({ env: { HOME: "/home/ann", XDG_CACHE_HOME: "/var/cache/ann" }, platform: "linux" })).toBe(
      "/var/cache/ann/pullback/v8",
    );
    expect(compileCacheFolder({ env: { HOME: "/Users/ann" }, platform: "darwin" })).toBe("/Users/ann/Library/Caches/pullback/v8");
  });

  it("ignores a relative XDG_CACHE_HOME, as the XDG spec says", () => {
    expect(compileCacheFolder({ env: { HOME: "/home/ann", XDG_CACHE_HOME: "cache" }, platform: "linux" })).toBe(
      "/home/ann/.cache/pullback/v8",
    );
  });

  it("is the absolute folder PULLBACK_COMPILE_CACHE names, and none for a relative one", () => {
    expect(compileCacheFolder({ env: { HOME: "/home/ann", PULLBACK_COMPILE_CACHE: "/srv/cache" }, platform: "linux" })).toBe("/srv/cache");
    expect(compileCacheFolder({ env: { HOME: "/home/ann", PULLBACK_COMPILE_CACHE: "cache" }, platform: "linux" })).toBeUndefined();
  });

  it("is none when turned off (PULLBACK_COMPILE_CACHE=off, Node's NODE_DISABLE_COMPILE_CACHE) or without a HOME", () => {
    expect(compileCacheFolder({ env: { HOME: "/home/ann", PULLBACK_COMPILE_CACHE: "off" }, platform: "linux" })).toBeUndefined();
    expect(compileCacheFolder({ env: { HOME: "/home/ann", NODE_DISABLE_COMPILE_CACHE: "1" }, platform: "linux" })).toBeUndefined();
    expect(compileCacheFolder({ env: {}, platform: "linux" })).toBeUndefined();
  });
});

describe("openCompileCache", () => {
  function bundleFile(): string {
    const file = join(work, "bundle.cjs");
    writeFileSync(file, "exports.x = 1;\n");
    return file;
  }

  it("creates its folder for this user alone, and saves a cache (0600) the next open reads", async () => {
    const folder = join(work, "cache", "v8");
    const bundle = readBundle(bundleFile());
    const first = openCompileCache({ folder, key: "check", bundle, uid })!;
    expect(first.data).toBeUndefined();
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    await first.save(Buffer.from("cache bytes"));
    const [name] = readdirSync(folder);
    expect(name).toMatch(/^check-v20\.[\d.]+-x64-\d+-\d+-\d+\.v8$/);
    expect(statSync(join(folder, name!)).mode & 0o777).toBe(0o600);
    expect(openCompileCache({ folder, key: "check", bundle, uid })!.data?.toString()).toBe("cache bytes");
    // Another command, or a new bundle (an upgrade), has a cache of its own.
    expect(openCompileCache({ folder, key: "pull", bundle, uid })!.data).toBeUndefined();
    writeFileSync(join(work, "bundle.cjs"), "exports.x = 22;\n");
    expect(openCompileCache({ folder, key: "check", bundle: readBundle(join(work, "bundle.cjs")), uid })!.data).toBeUndefined();
  });

  it("keeps a cache per set of Node options, which V8 holds a cache to", async () => {
    const folder = join(work, "v8");
    const bundle = readBundle(bundleFile());
    const open = (nodeOptions?: string) =>
      openCompileCache({ folder, key: "check", bundle, uid, ...(nodeOptions ? { nodeOptions } : {}) })!;
    await open().save(Buffer.from("plain"));
    await open("--max-old-space-size=4096").save(Buffer.from("bigger heap"));
    expect(open().data?.toString()).toBe("plain");
    expect(open("--max-old-space-size=4096").data?.toString()).toBe("bigger heap");
    expect(open("--max-old-space-size=2048").data).toBeUndefined();
    expect(readdirSync(folder)).toHaveLength(2);
  });

  it("files a bundle under the build id it ends with: not its size, time or inode, which npm installs can repeat", async () => {
    const built = (id: string, code: string): string => {
      const file = join(work, "built.cjs");
      writeFileSync(file, `${code}\n//# pullbackBundleId=${id}\n`);
      utimesSync(file, 499162500, 499162500); // npm's fixed 1985-10-26
      return file;
    };
    const a = readBundle(built("a".repeat(32), "exports.x = 1;"));
    expect(a.identity).toBe("a".repeat(32));
    // Another build of the same size, same time, maybe the same inode: another cache.
    const b = readBundle(built("b".repeat(32), "exports.x = 2;"));
    expect(b.identity).toBe("b".repeat(32));
    const folder = join(work, "v8");
    await openCompileCache({ folder, key: "check", bundle: a, uid })!.save(Buffer.from("a's cache"));
    expect(openCompileCache({ folder, key: "check", bundle: b, uid })!.data).toBeUndefined();
    expect(openCompileCache({ folder, key: "check", bundle: a, uid })!.data?.toString()).toBe("a's cache");
  });

  it("reads the bundle's text exactly, ASCII or not (a non-ASCII bundle is decoded as UTF-8)", () => {
    const file = join(work, "text.cjs");
    for (const code of ["exports.x = 'plain ascii';", "exports.x = '— ✓ naïve 🚀';", ""]) {
      writeFileSync(file, `${code}\n//# pullbackBundleId=${"c".repeat(32)}\n`);
      expect(readBundle(file).text).toBe(`${code}\n//# pullbackBundleId=${"c".repeat(32)}\n`);
    }
  });

  it("is refused in a folder others can write, or that another user owns", () => {
    const folder = join(work, "shared");
    mkdirSync(folder, { mode: 0o700 });
    chmodSync(folder, 0o777);
    const bundle = readBundle(bundleFile());
    expect(openCompileCache({ folder, key: "check", bundle, uid })).toBeUndefined();
    chmodSync(folder, 0o700);
    expect(openCompileCache({ folder, key: "check", bundle, uid: uid + 1 })).toBeUndefined();
    expect(openCompileCache({ folder, key: "check", bundle, uid })).toBeDefined();
  });

  it("is refused when the folder is a symbolic link", () => {
    const real = join(work, "real");
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(work, "link"));
    expect(openCompileCache({ folder: join(work, "link"), key: "check", bundle: readBundle(bundleFile()), uid })).toBeUndefined();
  });

  it("does not follow a cache file that is a symbolic link", async () => {
    const folder = join(work, "v8");
    const bundle = readBundle(bundleFile());
    await openCompileCache({ folder, key: "check", bundle, uid })!.save(Buffer.from("real"));
    const [name] = readdirSync(folder);
    const target = join(work, "elsewhere");
    writeFileSync(target, "planted");
    rmSync(join(folder, name!));
    symlinkSync(target, join(folder, name!));
    expect(openCompileCache({ folder, key: "check", bundle, uid })!.data).toBeUndefined();
  });

  it("removes month-old caches of other bundles when it saves, and keeps recent ones", async () => {
    const folder = join(work, "v8");
    mkdirSync(folder, { mode: 0o700 });
    const old = join(folder, "check-v18.0.0-x64-1-2-3.v8");
    const recent = join(folder, "pull-v18.0.0-x64-1-2-3.v8");
    writeFileSync(old, "old");
    writeFileSync(recent, "recent");
    const fortyDaysAgo = (Date.now() - 40 * 24 * 3600 * 1000) / 1000;
    utimesSync(old, fortyDaysAgo, fortyDaysAgo);
    await openCompileCache({ folder, key: "check", bundle: readBundle(bundleFile()), uid })!.save(Buffer.from("new"));
    expect(() => lstatSync(old)).toThrow();
    expect(readFileSync(recent, "utf8")).toBe("recent");
    expect(readdirSync(folder)).toHaveLength(2);
  });
});

describe("commandKey", () => {
  it("is the first word that can be a command, skipping options", () => {
    expect(commandKey(["--json", "check", "alpine"])).toBe("check");
    expect(commandKey(["cluster-config", "--json", "x"])).toBe("cluster-config");
    expect(commandKey(["--version"])).toBe("default");
    expect(commandKey(["Pull", "/x"])).toBe("default");
  });

  it("names the route a command takes, so that a pull into a layout and one over SSH keep separate caches", () => {
    expect(commandKey(["pull", "alpine", "--to", "oci:/x"])).toBe("pull+to");
    expect(commandKey(["pull", "alpine", "--host=ssh://box"])).toBe("pull+host");
    expect(commandKey(["pull", "--host", "ssh://box", "--file", "list.txt"])).toBe("pull+host+file");
    expect(commandKey(["pull", "alpine", "--tag-as", "x"])).toBe("pull");
  });
});

describe("cliBundle", () => {
  it("runs check, and a pull onto a daemon, from bundles of their own; everything else from the whole CLI", () => {
    expect(cliBundle("/d", ["check", "alpine"])).toBe("/d/check.cjs");
    expect(cliBundle("/d", ["--json", "-q", "check", "alpine", "ghcr.io"])).toBe("/d/check.cjs");
    expect(cliBundle("/d", ["check", "--help"])).toBe("/d/check.cjs");
    for (const argv of [
      ["pull", "alpine"],
      ["pull", "alpine", "--host", "ssh://box"],
      ["pull", "a", "b", "--host=unix:///d.sock", "--host", "ssh://box"],
      ["pull", "--file", "list.txt"],
    ])
      expect(cliBundle("/d", argv)).toBe("/d/pull-daemon.cjs");
    for (const argv of [
      ["pull", "alpine", "--to", "oci:/x"],
      ["pull", "--file", "-", "--to=docker-archive:/x.tar"],
      ["cluster-config", "x"],
      ["--help"],
      ["--version"],
      [],
      ["check", "x", "--to", "oci:/x"],
    ])
      expect(cliBundle("/d", argv)).toBe("/d/pullback.cjs");
  });
});

describe("launch", () => {
  /** A stand-in for the CLI bundle: its main writes whether it ran and returns the exit code it is asked for. */
  function fakeCli(): string {
    const file = join(work, "cli.cjs");
    writeFileSync(file, `exports.main = async (argv, io) => { io.stdout.write("ran " + argv.join(" ")); return Number(argv[1] ?? 0); };\n`);
    return file;
  }

  async function run(file: string, argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | undefined; stdout: string }> {
    let stdout = "";
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    let exited = false;
    const proc = {
      // The launcher ends the process itself, once the output is out.
      exit: () => {
        expect(stdout).toMatch(/^ran /);
        exited = true;
      },
      argv: ["node", "bin", ...argv],
      env,
      platform: process.platform,
      getuid: () => uid,
      stdout: out,
      stderr: new PassThrough(),
      stdin: Readable.from([]),
      exitCode: undefined as number | undefined,
    };
    await launch(file, proc as unknown as NodeJS.Process);
    expect(exited).toBe(true);
    return { code: proc.exitCode, stdout };
  }

  it("runs the bundle's main with the process's argv, and saves the compile cache after a successful run only", async () => {
    const file = fakeCli();
    const env = { PULLBACK_COMPILE_CACHE: join(work, "v8") };
    expect(await run(file, ["check", "3"], env)).toEqual({ code: 3, stdout: "ran check 3" });
    expect(readdirSync(join(work, "v8"))).toEqual([]);
    expect(await run(file, ["check", "0"], env)).toEqual({ code: 0, stdout: "ran check 0" });
    expect(readdirSync(join(work, "v8"))).toEqual([expect.stringMatching(/^check-/)]);
  });

  // V8 keeps what one process compiled and ignores a cache for the same source, so each run is a process of its own.
  function runProcess(
    file: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
    nodeFlags: string[] = [],
  ): { status: number | null; stdout: string } {
    const script = join(work, "run.mjs");
    writeFileSync(
      script,
      `import { launch } from ${JSON.stringify(join(ROOT, "src", "cli", "launch", "launch.ts"))};\nawait launch(process.env.BUNDLE);\n`,
    );
    const { status, stdout, stderr } = spawnSync(process.execPath, [...nodeFlags, "--import", "tsx", script, ...argv], {
      cwd: ROOT,
      env: { ...env, BUNDLE: file },
      encoding: "utf8",
    });
    expect(stderr).toBe("");
    return { status, stdout };
  }

  it("leaves a cache V8 accepts alone, and replaces one it rejects (corrupt, or from another V8)", () => {
    const file = fakeCli();
    const env = { PATH: process.env.PATH, PULLBACK_COMPILE_CACHE: join(work, "v8") };
    expect(runProcess(file, ["check", "0"], env)).toEqual({ status: 0, stdout: "ran check 0" });
    const [name] = readdirSync(join(work, "v8"));
    const path = join(work, "v8", name!);
    const saved = statSync(path).ino;
    expect(runProcess(file, ["check", "0"], env).status).toBe(0);
    expect(statSync(path).ino).toBe(saved);

    const corrupt = Buffer.alloc(statSync(path).size, 7);
    writeFileSync(path, corrupt);
    expect(runProcess(file, ["check", "0"], env)).toEqual({ status: 0, stdout: "ran check 0" });
    expect(readFileSync(path).equals(corrupt)).toBe(false);
    const replaced = statSync(path).ino;
    expect(runProcess(file, ["check", "0"], env).status).toBe(0);
    expect(statSync(path).ino).toBe(replaced);
  });

  it("keeps its cache when runs with other V8 flags come between, instead of each replacing the other's", () => {
    const file = fakeCli();
    const env = { PATH: process.env.PATH, PULLBACK_COMPILE_CACHE: join(work, "v8") };
    const saved = (): number[] =>
      readdirSync(join(work, "v8"))
        .sort()
        .map((name) => statSync(join(work, "v8", name)).ino);
    const plain = (): unknown => runProcess(file, ["check", "0"], env).status;
    const flagged = (): unknown => runProcess(file, ["check", "0"], env, ["--max-old-space-size=64"]).status;
    const viaEnv = (): unknown => runProcess(file, ["check", "0"], { ...env, NODE_OPTIONS: "--max-old-space-size=96" }).status;
    expect([plain(), flagged(), viaEnv()]).toEqual([0, 0, 0]);
    const first = saved();
    expect(first).toHaveLength(3);
    expect([plain(), flagged(), viaEnv(), plain()]).toEqual([0, 0, 0, 0]);
    expect(saved()).toEqual(first);
  });

  it("runs without a cache when it is turned off", async () => {
    const file = fakeCli();
    expect(await run(file, ["check", "0"], { PULLBACK_COMPILE_CACHE: "off", HOME: work })).toEqual({ code: 0, stdout: "ran check 0" });
    expect(readdirSync(work)).toEqual(["cli.cjs"]);
  });
});
