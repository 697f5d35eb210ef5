/**
 * `npm run demo`: start the test world, then run the real CLI through the
 * scenarios pullback exists for, echoing each command line (secrets shown as
 * $TOKEN). The world is torn down at the end, also on failure or Ctrl-C.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { removeAllImages } from "../test/world/client.js";
import { startWorld, type World } from "../test/world/world.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "pullback.cjs");

interface Step {
  readonly title: string;
  readonly args: readonly string[];
  /** Shown as `VAR=$VAR` in the echoed line; the real value goes into the environment only. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin (for --password-stdin); echoed as `printf '%s' "$TOKEN" |`. */
  readonly stdin?: string;
  readonly expectCode: number;
  /** Runs before the command is echoed (e.g. remove an image so the pull really happens). */
  readonly before?: () => Promise<void>;
}

function build(): void {
  if (existsSync(join(ROOT, "dist", "cli", "main.js")) && process.env.PULLBACK_DEMO_REBUILD !== "1") return;
  process.stderr.write("building…\n");
  spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
}

function echo(step: Step): void {
  const envPart = Object.entries(step.env ?? {}).map(
    ([name, value]) => `${name}=${name === "PULLBACK_REGISTRY_TOKEN" ? "$TOKEN" : value} `,
  );
  const stdinPart = step.stdin === undefined ? "" : `printf '%s' "$TOKEN" | `;
  process.stdout.write(`\n\u001b[1m# ${step.title}\u001b[0m\n$ ${stdinPart}${envPart.join("")}pullback ${step.args.join(" ")}\n`);
}

async function run(step: Step, baseEnv: NodeJS.ProcessEnv): Promise<number> {
  await step.before?.();
  echo(step);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...step.args], {
      cwd: ROOT,
      env: { ...baseEnv, ...step.env },
      stdio: ["pipe", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const mark = code === step.expectCode ? "as expected" : `EXPECTED ${step.expectCode}`;
      process.stdout.write(`→ exit code ${code} (${mark})\n`);
      resolve(code ?? 1);
    });
    child.stdin.end(step.stdin ?? "");
  });
}

function steps(world: World, home: string): Step[] {
  const { info } = world;
  const reg = info.registries.token.host;
  const bob = { PULLBACK_REGISTRY_USERNAME: info.users.bob.username, PULLBACK_REGISTRY_TOKEN: info.users.bob.password };
  const wrong = { PULLBACK_REGISTRY_USERNAME: info.users.alice.username, PULLBACK_REGISTRY_TOKEN: info.users.wrongPassword };
  const ssh = ["--host", info.ssh.url, "-i", info.ssh.keyFile, "--known-hosts", info.ssh.knownHostsFile];
  return [
    {
      title: "A public image with a rejected token: warning, anonymous retry, success",
      args: ["pull", `${reg}/public/app:1`],
      env: wrong,
      expectCode: 0,
    },
    {
      title: "A private image with good credentials (the secret on stdin)",
      args: ["pull", `${reg}/private/app:1`, "--username", info.users.alice.username, "--password-stdin"],
      stdin: info.users.alice.password,
      expectCode: 0,
    },
    {
      title: "The public image onto a remote host over SSH, tagged for the cluster",
      args: ["pull", `${reg}/public/app:1`, ...ssh, "--tag-as", "cluster/app:dev"],
      env: bob,
      expectCode: 0,
    },
    {
      title: "Daemonless: into an OCI layout",
      args: ["pull", `${reg}/public/app:1`, "--to", `oci:${join(home, "layout")}:app-1`],
      env: bob,
      expectCode: 0,
    },
    {
      title: "registries.yaml for k3s: keep the accepted credential, drop the rejected one (from ~/.docker/config.json)",
      args: [
        "cluster-config",
        "--registry",
        reg,
        "--registry",
        info.registries.basic.host,
        "--verify-repo",
        `${reg}/private/app`,
        "--output",
        join(home, "registries.yaml"),
        "--dry-run",
        "--explain",
      ],
      expectCode: 0,
    },
    {
      title: "A private image with a rejected token: the diagnosis",
      args: ["pull", `${reg}/private/app:1`],
      env: wrong,
      expectCode: 3,
      // Step 2 put it into the daemon; without removing it there would be nothing to pull.
      before: () => removeAllImages(info),
    },
  ];
}

/** Docker config for the cluster step: alice (good) for the token registry, a wrong password for the basic one. */
function writeDockerConfig(world: World, home: string): void {
  const auth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString("base64") });
  const { info } = world;
  const config = {
    auths: {
      [info.registries.token.host]: auth(info.users.alice.username, info.users.alice.password),
      [info.registries.basic.host]: auth(info.users.alice.username, info.users.wrongPassword),
    },
  };
  writeFileSync(join(home, ".docker", "config.json"), JSON.stringify(config), { mode: 0o600 });
}

async function demo(): Promise<number> {
  build();
  process.stderr.write("starting the test world (dockerd, registries, token service, sshd)…\n");
  const world = await startWorld();
  const home = mkdtempSync(join(tmpdir(), "pullback-demo-"));
  const stop = (): void => void world.stop().finally(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    mkdirSync(join(home, ".docker"));
    writeDockerConfig(world, home);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      DOCKER_CONFIG: join(home, ".docker"),
      DOCKER_HOST: world.info.dockerHost,
      TERM: process.env.TERM,
    };
    let unexpected = 0;
    for (const step of steps(world, home)) {
      // Only the cluster step reads the Docker config; the pulls use the flags or environment shown.
      const stepEnv = step.args[0] === "cluster-config" ? env : { ...env, DOCKER_CONFIG: join(home, "no-config") };
      if ((await run(step, stepEnv)) !== step.expectCode) unexpected++;
    }
    process.stdout.write(`\n${unexpected === 0 ? "All steps ended as expected." : `${unexpected} step(s) did not end as expected.`}\n`);
    return unexpected === 0 ? 0 : 1;
  } finally {
    rmSync(home, { recursive: true, force: true });
    process.stderr.write("stopping the test world…\n");
    await world.stop();
  }
}

demo().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
