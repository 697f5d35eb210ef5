/** Temp Docker config dirs and real docker-credential-* scripts for the credentials tests. */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { PullbackError } from "../../src/errors.js";
import { testEnv } from "../support/hermetic-env.js";

export interface Sandbox {
  readonly root: string;
  /** Holds the fake helpers; prepend it to PATH through `env`. */
  readonly bin: string;
  /** A DOCKER_CONFIG directory. */
  readonly configDir: string;
  /** The hermetic test environment (test/support/hermetic-env.ts) with `bin` first on PATH. */
  readonly env: NodeJS.ProcessEnv;
  writeConfig(config: unknown): Promise<string>;
  writeConfigText(text: string): Promise<string>;
  /** Install `docker-credential-<name>`: records argv, stdin and env, then runs `body` (sh; the server URL is in $stdin). */
  writeHelper(name: string, body: string): Promise<void>;
  /** What the last run of helper `name` saw, or undefined when it never ran. */
  lastCall(name: string): Promise<HelperCall | undefined>;
  remove(): Promise<void>;
}

export interface HelperCall {
  readonly argv: string[];
  readonly stdin: string;
  readonly env: string;
}

export async function makeSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), "pullback-credentials-"));
  const bin = join(root, "bin");
  const configDir = join(root, "docker");
  await mkdir(bin);
  await mkdir(configDir);
  const env = testEnv({ PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` });
  const record = (name: string) => join(bin, `${name}.record`);
  return {
    root,
    bin,
    configDir,
    env,
    writeConfig: (config) => writeConfigText(configDir, JSON.stringify(config, null, 2)),
    writeConfigText: (text) => writeConfigText(configDir, text),
    async writeHelper(name, body) {
      const rec = record(name);
      const script = [
        "#!/bin/sh",
        `for a in "$@"; do printf '%s\\0' "$a"; done > '${rec}.argv'`,
        "stdin=$(cat)",
        `printf '%s' "$stdin" > '${rec}.stdin'`,
        `env > '${rec}.env'`,
        body,
        "",
      ].join("\n");
      const file = join(bin, `docker-credential-${name}`);
      await writeFile(file, script);
      await chmod(file, 0o755);
    },
    async lastCall(name) {
      const rec = record(name);
      try {
        const argv = (await readFile(`${rec}.argv`, "utf8")).split("\0").slice(0, -1);
        return { argv, stdin: await readFile(`${rec}.stdin`, "utf8"), env: await readFile(`${rec}.env`, "utf8") };
      } catch {
        return undefined;
      }
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

async function writeConfigText(configDir: string, text: string): Promise<string> {
  const file = join(configDir, "config.json");
  await writeFile(file, text);
  return file;
}

/** A helper body answering with the given username and secret. */
export function answers(username: string, secret: string): string {
  return `printf '{"ServerURL":"%s","Username":"${username}","Secret":"${secret}"}' "$stdin"`;
}

/** A helper body that has nothing for any server, the way docker-credential-helpers say it. */
export const NOT_FOUND_BODY = "echo 'credentials not found in native keychain'; exit 1";

export function basicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString("base64");
}

/** Await a promise that must reject with a PullbackError, and return that error. */
export async function caught(promise: Promise<unknown>): Promise<PullbackError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PullbackError);
  return error as PullbackError;
}
