/**
 * What users get from npm: the packed tarball installed into an empty project.
 * The CLI through `npx pullback`, a strict TypeScript consumer of the public API,
 * and every docs/examples/*.ts — compiled against the installed package and run
 * against the real world.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineRequest, getWorld, removeAllImages } from "../world/client.js";
import { CONSUMER_TS } from "./consumer-source.js";
import {
  PUBLINT,
  ROOT,
  TSC,
  importSpecifiers,
  installIntoEmptyProject,
  listFiles,
  mustSucceed,
  packFromStaging,
  packageOf,
  reachableDeclarations,
  run,
  tempDir,
  type PackReport,
  type Run,
} from "./installed-package.js";

const world = getWorld();
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string> };
const dependencies = Object.keys(manifest.dependencies);
/** Libraries whose types must not show through pullback's declarations. */
const HIDDEN = ["dockerode", "ssh2", "docker-modem", "undici", "commander", "yaml", "cli-progress", "debug"];
const SECRETS = [world.users.alice.password, world.users.wrongPassword];

let tarball: string;
let report: PackReport;
let project: string;
let installed: string;
/** A HOME without a Docker config: only the credentials a run is given are used. */
const home = tempDir("package-home");
const outputs: Run[] = [];

function envFor(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, ...extra };
}

async function inProject(file: string, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  const result = await run(file, args, { cwd: project, env: envFor(extra) });
  outputs.push(result);
  return result;
}

const work = tempDir("package");

afterAll(() => {
  for (const dir of [work, home]) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  ({ tarball, report } = await packFromStaging(work));
  project = join(work, "project");
  mkdirSync(project);
  installed = await installIntoEmptyProject(tarball, project);
}, 900_000);

describe("the tarball", () => {
  it("holds dist/ (JavaScript and declarations), bin/, README, LICENSE, CHANGELOG — nothing else", () => {
    const paths = report.files.map((file) => file.path);
    const unexpected = paths.filter(
      (path) =>
        !/^(dist\/.+\.(js|d\.ts)|dist\/cli\/(pullback|check|pull-daemon|launch)\.cjs|bin\/pullback\.cjs|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/.test(
          path,
        ),
    );
    expect(unexpected).toEqual([]);
    for (const needed of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/pullback.cjs",
      "dist/cli/check.cjs",
      "dist/cli/pull-daemon.cjs",
      "dist/cli/launch.cjs",
      "bin/pullback.cjs",
      "LICENSE",
      "README.md",
      "CHANGELOG.md",
    ])
      expect(paths).toContain(needed);
    expect(paths.some((path) => path.endsWith(".map") || /(^|\/)(test|world|fixtures)\//.test(path))).toBe(false);
    expect(readFileSync(join(installed, "LICENSE"), "utf8")).toContain("Apache License");
  });

  it("is a clean build: the library's entry and its split chunks, the CLI's CommonJS files, declarations of src/ only", () => {
    const files = listFiles(join(installed, "dist"));
    const js = files.filter((path) => /\.c?js$/.test(path));
    // scripts/bundle.ts: the library's index, every lazily loaded module a chunk; the CLI's bundle, its route bundles and their launcher.
    expect(js.filter((path) => !/^(index|chunks\/[\w-]+)\.js$|^cli\/(pullback|check|pull-daemon|launch)\.cjs$/.test(path))).toEqual([]);
    expect(js.filter((path) => path.startsWith("chunks/")).length).toBeGreaterThan(2);
    for (const entry of ["index", "cli/main"]) expect(existsSync(join(installed, "dist", `${entry}.d.ts`))).toBe(true);
    for (const name of ["pullback", "check", "pull-daemon"]) {
      // commander is bundled into the CLI, so its licence travels with it.
      const bundle = readFileSync(join(installed, "dist", "cli", `${name}.cjs`), "utf8");
      expect(bundle).toMatch(/Bundled third-party code and its licences\.\s+commander:\s+\(The MIT License\)/);
      // Its last line names the build, which its compile cache is filed under.
      expect(bundle).toMatch(/\n\/\/# pullbackBundleId=[0-9a-f]{32}\n$/);
    }
    const sources = new Set(
      listFiles(join(ROOT, "src"))
        .filter((path) => path.endsWith(".ts"))
        .map((path) => path.replace(/\.ts$/, ".d.ts")),
    );
    expect(files.filter((path) => path.endsWith(".d.ts") && !sources.has(path))).toEqual([]);
  });

  it("installs an executable bin with a node shebang", () => {
    expect(readFileSync(join(installed, "bin", "pullback.cjs"), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(existsSync(join(project, "node_modules", ".bin", "pullback"))).toBe(true);
  });

  it("imports only node: builtins and its own dependencies at runtime, and uses every dependency", () => {
    const imported = new Set<string>();
    for (const file of [
      ...listFiles(join(installed, "dist"))
        .filter((p) => /\.c?js$/.test(p))
        .map((p) => join("dist", p)),
      "bin/pullback.cjs",
    ]) {
      for (const specifier of importSpecifiers(readFileSync(join(installed, file), "utf8"))) {
        if (specifier.startsWith(".")) continue;
        const name = packageOf(specifier);
        if (name === undefined) expect(specifier, `${file} imports a builtin without node:`).toMatch(/^node:/);
        else {
          expect(dependencies, `${file} imports ${specifier}`).toContain(name);
          imported.add(name);
        }
      }
    }
    expect([...imported].sort()).toEqual([...dependencies].sort());
  });

  it("loads every module with only the production dependencies installed", async () => {
    const script = `import { pathToFileURL } from "node:url";
      for (const file of process.argv.slice(1)) await import(pathToFileURL(file).href);
      console.log("loaded " + (process.argv.length - 1));`;
    const files = listFiles(join(installed, "dist"))
      .filter((p) => /\.c?js$/.test(p))
      .map((p) => join(installed, "dist", p));
    const result = await inProject(process.execPath, ["--input-type=module", "-e", script, ...files]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe(`loaded ${files.length}`);
  });

  it("passes publint --strict", async () => {
    const result = mustSucceed("publint", await run(PUBLINT, ["run", tarball, "--strict"], { cwd: ROOT }));
    expect(result.stdout).toMatch(/All good/);
  });

  it("declares no types of the libraries it wraps, anywhere index.d.ts reaches", () => {
    const reachable = reachableDeclarations(join(installed, "dist", "index.d.ts"));
    expect(reachable.size).toBeGreaterThan(10);
    const leaks = [...reachable].flatMap(([file, bare]) =>
      bare.filter((s) => HIDDEN.includes(packageOf(s) ?? "")).map((s) => `${file}: ${s}`),
    );
    expect(leaks).toEqual([]);
    for (const types of ["dockerode", "ssh2", "docker-modem", "cli-progress", "debug"])
      expect(existsSync(join(project, "node_modules", "@types", types))).toBe(false);
  });
});

describe("the CLI via npx", () => {
  it("prints package.json's version", async () => {
    const result = await inProject("npx", ["--no-install", "pullback", "--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });

  it("checks from dist/cli/check.cjs, a bundle that holds no other command and says so if ever asked to", async () => {
    const image = `${world.registries.open.host}/public/app:1`;
    const checked = await inProject("npx", ["--no-install", "pullback", "check", image, "--no-credentials"]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^ACCEPTED\s/);
    // The launcher never hands it another command (cliBundle); were it to, the run fails plainly, nothing half-done.
    const script = `const { main } = require(process.argv[1]);
      main(["pull", "example.test/app:1", "--to", "oci:/nonexistent/layout"], { stdout: process.stdout, stderr: process.stderr, env: {}, stdin: process.stdin })
        .then((code) => console.log("exit " + code));`;
    const wrong = await inProject(process.execPath, ["-e", script, join(installed, "dist", "cli", "check.cjs")]);
    expect(wrong.stdout.trim()).toMatch(/exit 1$/);
    expect(wrong.stderr).toContain("is not in the check bundle");
  });

  it("pulls from a registry onto the daemon of DOCKER_HOST", async () => {
    await removeAllImages(world);
    const image = `${world.registries.open.host}/public/app:1`;
    const result = await inProject("npx", ["--no-install", "pullback", "pull", image, "--no-credentials"], {
      DOCKER_HOST: world.dockerHost,
    });
    expect(result.stderr + result.stdout).not.toMatch(/Error|warning/i);
    expect(result.code).toBe(0);
    expect((await engineRequest(world, "GET", `/images/${image}/json`)).status).toBe(200);
  });
});

describe("a strict TypeScript consumer and the documented examples", () => {
  beforeAll(() => {
    writeFileSync(join(project, "consumer.ts"), CONSUMER_TS);
    mkdirSync(join(project, "examples"));
    for (const name of readdirSync(join(ROOT, "docs", "examples")).filter((n) => n.endsWith(".ts"))) {
      cpSync(join(ROOT, "docs", "examples", name), join(project, "examples", name));
    }
    const compilerOptions = {
      target: "ES2023",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      skipLibCheck: false,
      types: ["node"],
      rootDir: ".",
      outDir: "build",
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["consumer.ts", "examples/*.ts"] }, null, 2));
  });

  it("type-checks against the installed declarations with skipLibCheck off, and compiles", async () => {
    const result = await inProject(TSC, ["-p", "tsconfig.json"]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("runs the consumer: parses, verifies alice as accepted and a wrong password as rejected, classifies, redacts", async () => {
    const result = await inProject(process.execPath, ["build/consumer.js"], {
      CONSUMER_TOKEN_REGISTRY: world.registries.token.host,
      CONSUMER_ALICE_USER: world.users.alice.username,
      CONSUMER_ALICE_PASSWORD: world.users.alice.password,
      CONSUMER_WRONG_PASSWORD: world.users.wrongPassword,
    });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      reference: "docker.io/library/nginx:latest",
      familiar: `${world.registries.token.host}/public/app:1`,
      localOnly: true,
      platform: "linux/arm64/v8",
      arch: "amd64",
      registriesConfigErrors: true,
      accepted: "accepted",
      acceptedSource: "the token from CONSUMER_ALICE_PASSWORD",
      rejected: "rejected",
      classified: "auth",
      anonymousPrivate: { pullError: true, pullbackError: true, auth: true, steps: expect.any(Number) as number },
      credentialText: expect.stringContaining("***") as string,
    });
  });

  it("ensure-image.ts: a refused token falls back to an anonymous pull, with the warning handled", async () => {
    await removeAllImages(world);
    const result = await inProject(process.execPath, ["build/examples/ensure-image.js"], {
      DOCKER_HOST: world.dockerHost,
      PULLBACK_EXAMPLE_REGISTRY: world.registries.token.host,
      PULLBACK_REGISTRY_USERNAME: world.users.alice.username,
      PULLBACK_REGISTRY_TOKEN: world.users.wrongPassword,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("warning [credentials-refused]");
    expect(result.stderr).toContain("fell back to an anonymous pull");
    expect(result.stdout).toMatch(new RegExp(`^ready: ${world.registries.token.host}/public/app:1 sha256:[0-9a-f]{64} \\(attempts: 2\\)`));
  });

  it("pull-remote-image.ts: pulls over SSH and tags app:dev on the remote daemon", async () => {
    await removeAllImages(world);
    const result = await inProject(process.execPath, ["build/examples/pull-remote-image.js"], {
      PULLBACK_EXAMPLE_REGISTRY: world.registries.open.host,
      PULLBACK_EXAMPLE_SSH: "ssh://buildbox",
      PULLBACK_EXAMPLE_SSH_CONFIG: world.sshRoutes.configFile,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^app:dev on ssh:\/\/.+: linux\/\w+ sha256:[0-9a-f]{64}/);
    expect((await engineRequest(world, "GET", "/images/app:dev/json")).status).toBe(200);
  });

  it("verify-then-configure.ts: alice is accepted and only then written, secrets masked in what is printed", async () => {
    const result = await inProject(process.execPath, ["build/examples/verify-then-configure.js"], {
      PULLBACK_EXAMPLE_REGISTRY: world.registries.token.host,
      PULLBACK_REGISTRY_USERNAME: world.users.alice.username,
      PULLBACK_REGISTRY_TOKEN: world.users.alice.password,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("→ accepted (anonymous pull: false)");
    expect(result.stdout).toContain(`${world.registries.token.host}: accepted, auth written: true`);
    expect(result.stdout).toMatch(/password: "?\*\*\*/);
  });

  it("verify-then-configure.ts: a wrong password stops before anything is written", async () => {
    const result = await inProject(process.execPath, ["build/examples/verify-then-configure.js"], {
      PULLBACK_EXAMPLE_REGISTRY: world.registries.token.host,
      PULLBACK_REGISTRY_USERNAME: world.users.alice.username,
      PULLBACK_REGISTRY_TOKEN: world.users.wrongPassword,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("→ rejected");
    expect(result.stdout).not.toContain("auth written");
  });

  it("oci-layout-progress.ts: pulls anonymously into a layout, reporting each layer", async () => {
    const fixture = world.fixtures.publicApp;
    const result = await inProject(process.execPath, ["build/examples/oci-layout-progress.js"], {
      PULLBACK_EXAMPLE_REGISTRY: world.registries.token.host,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pulling ${world.registries.token.host}/public/app:1 anonymously`);
    for (const layer of fixture.layers) expect(result.stdout).toContain(`${layer.size} bytes`);
    expect(result.stdout).toContain(`done: ${fixture.manifestDigest}`);
    expect(result.stdout).toMatch(
      new RegExp(`^oci:.+:app-1: linux/\\w+, ${fixture.layers.length} layers, \\d+ bytes, ${fixture.manifestDigest}$`, "m"),
    );
  });

  it("air-gap-bundle.ts: pulls a set into one docker-archive, one line per image", async () => {
    const result = await inProject(process.execPath, ["build/examples/air-gap-bundle.js"], {
      PULLBACK_EXAMPLE_REGISTRY: world.registries.token.host,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const n of [1, 2, 3, 4]) {
      const fixture = world.fixtures.set.find((image) => image.repository === `public/set-${n}`);
      expect(result.stdout).toContain(`${world.registries.token.host}/public/set-${n}:1: ${fixture?.manifestDigest}`);
    }
    expect(result.stdout).toMatch(/^4 of 4 images in .+images\.tar$/m);
  });

  it("no run printed a password or token", () => {
    expect(outputs.length).toBeGreaterThan(5);
    for (const output of outputs) for (const secret of SECRETS) expect(output.stdout + output.stderr).not.toContain(secret);
  });
});
