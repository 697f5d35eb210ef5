/**
 * Every public function, fed random JavaScript values where its arguments and options
 * go: only usage errors come back (PullbackError, naming the argument), no request
 * reaches a server, no file appears, and a secret given in the wrong shape is never echoed.
 *
 * Each case starts from arguments that would be valid — a registry, a Docker host and
 * paths that all lead to a counting server and an empty directory of this test — and
 * breaks exactly one slot with a value that is wrong by construction (wrong type,
 * missing, too long, wrong members), then adds prototype-polluting and unknown keys.
 */
import { createServer, type Server } from "node:net";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as api from "../../src/index.js";
import { RUNS } from "../fuzz/fuzz-harness.js";

type Slot =
  | "string"
  | "text"
  | "text?"
  | "bool"
  | "int"
  | "fn"
  | "object"
  | "object?"
  | "credential"
  | "destination"
  | "reference"
  | "docker"
  | "env"
  | "textlist"
  | "signal";

interface Target {
  readonly name: string;
  readonly call: (args: unknown[]) => unknown;
  readonly args: () => unknown[];
  /** Path into args (index, then keys) → what belongs there. */
  readonly slots: ReadonlyArray<readonly [path: readonly (string | number)[], slot: Slot, secret?: boolean]>;
}

let server: Server;
let connections = 0;
let engineCalls = 0;
let scratch: string;
let host: string;
let cwdBefore: string[];

beforeAll(async () => {
  server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  host = `127.0.0.1:${address.port}`;
  scratch = mkdtempSync(join(tmpdir(), "pullback-validation-"));
  cwdBefore = readdirSync(process.cwd());
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const huge = fc.string({ minLength: 1, maxLength: 8 }).map((s) => s.repeat(Math.ceil(70_000 / s.length)));
const notString = fc.anything().filter((v) => typeof v !== "string");
const notObject = fc.anything().filter((v) => typeof v !== "object" || v === null || Array.isArray(v));
const badNumber = fc.oneof(
  fc.constantFrom(-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 40),
  fc.anything().filter((v) => typeof v !== "number" && v !== undefined),
);

function wrong(slot: Slot): fc.Arbitrary<unknown> {
  switch (slot) {
    case "string":
      return notString;
    case "text":
      return fc.oneof(notString, huge);
    case "text?":
      return fc.oneof(
        notString.filter((v) => v !== undefined),
        huge,
      );
    case "bool":
      return fc.anything().filter((v) => typeof v !== "boolean" && v !== undefined);
    case "int":
      return badNumber;
    case "fn":
      return fc.anything().filter((v) => typeof v !== "function" && v !== undefined);
    case "object":
      return notObject;
    case "object?":
      return notObject.filter((v) => v !== undefined);
    case "credential":
      return fc.anything().filter((v) => v !== undefined && v !== null);
    case "docker":
      return fc.oneof(notString, huge);
    case "env":
      return fc.oneof(
        notObject.filter((v) => v !== undefined),
        fc.dictionary(
          fc.string(),
          fc.anything().filter((v) => typeof v !== "string" && v !== undefined),
          { minKeys: 1 },
        ),
      );
    case "textlist":
      return fc.oneof(
        notObject.filter((v) => v !== undefined && !Array.isArray(v)),
        fc.array(notString, { minLength: 1 }),
      );
    case "signal":
      return fc.oneof(
        fc.anything().filter((v) => v !== undefined),
        fc.constant({ aborted: false, addEventListener: () => undefined }),
      );
    case "destination":
      return fc.oneof(
        notString.filter((v) => typeof v !== "object" || v === null),
        huge,
        fc.string().filter((s) => !s.startsWith("oci:") && !s.startsWith("docker-archive:")),
        fc.record({ kind: fc.anything().filter((k) => k !== "oci" && k !== "docker-archive"), dir: fc.string() }),
        fc.record({ kind: fc.constant("oci"), dir: fc.anything().filter((v) => typeof v !== "string" || v === "") }),
      );
    case "reference":
      return fc.oneof(
        notString.filter((v) => typeof v !== "object" || v === null),
        huge,
        fc.string().map((s) => `${s} !`),
        fc.record({ registry: fc.anything().filter((v) => typeof v !== "string") }),
      );
  }
}

/** Unknown keys a careless or hostile caller adds; none of them may change what happens. */
const pollution = fc.dictionary(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "then", "extra"),
  fc.anything(),
  { maxKeys: 4 },
);

function credential(): api.Credential {
  return api.Credential.basic("user", "s3cret-value-never-shown", { type: "explicit" });
}

const fakeDocker = (): unknown => ({
  endpoint: "unix:///nowhere.sock",
  remoteHost: undefined,
  daemon: () => Promise.resolve({ version: "20.10", apiVersion: "1.41", os: "linux", arch: "amd64" }),
  // Any use of the engine counts as touching the daemon.
  engine: new Proxy(
    {},
    {
      get: () => {
        engineCalls += 1;
        return () => Promise.reject(new Error("the engine was used"));
      },
    },
  ),
  close: () => undefined,
});

const choice = [
  [["credential"], "credential"],
  [["resolve"], "object?"],
  [["resolve", "env"], "env"],
  [["resolve", "dockerConfigDir"], "text?"],
  [["resolve", "anonymous"], "bool"],
] as const;
const inOptions = (index: number, slots: ReadonlyArray<readonly [readonly string[], Slot]>): Array<readonly [(string | number)[], Slot]> =>
  slots.map(([path, slot]) => [[index, ...path], slot] as const);

const targets = (): Target[] => [
  {
    name: "pullImage",
    call: ([ref, options]) => api.pullImage(ref as string, options as api.PullImageOptions),
    args: () => [`${host}/team/app:1`, { to: `oci:${join(scratch, "layout")}:1`, credential: null, resolve: {} }],
    slots: [
      [[0], "reference"],
      [[1], "object"],
      ...inOptions(1, [
        [["to"], "destination"],
        [["platform"], "text?"],
        [["allPlatforms"], "bool"],
        [["fallback"], "bool"],
        [["insecure"], "bool"],
        [["concurrency"], "int"],
        [["idleTimeoutMs"], "int"],
        [["onEvent"], "fn"],
        [["onExchange"], "fn"],
        ...choice,
      ]),
    ],
  },
  {
    name: "pullImages",
    call: ([refs, options]) => api.pullImages(refs as string[], options as api.PullImagesOptions),
    args: () => [
      [`${host}/team/app:1`, `${host}/team/web:1`],
      { to: `docker-archive:${join(scratch, "set.tar")}`, credential: null, resolve: {} },
    ],
    slots: [
      [[0], "textlist"],
      [[0, 1], "reference"],
      [[1], "object"],
      ...inOptions(1, [
        [["to"], "destination"],
        [["platform"], "text?"],
        [["allPlatforms"], "bool"],
        [["fallback"], "bool"],
        [["insecure"], "bool"],
        [["replace"], "bool"],
        [["concurrency"], "int"],
        [["jobs"], "int"],
        [["keepGoing"], "bool"],
        [["timeoutMs"], "int"],
        [["onEvent"], "fn"],
        [["onExchange"], "fn"],
        [["signal"], "object?"],
        ...choice,
      ]),
    ],
  },
  {
    name: "ensureImage",
    call: ([docker, ref, options]) => api.ensureImage(docker as api.DockerConnection, ref as string, options as api.EnsureImageOptions),
    args: () => [fakeDocker(), `${host}/team/app:1`, { credential: null, resolve: {} }],
    slots: [
      [[0], "docker"],
      [[1], "reference"],
      [[2], "object?"],
      ...inOptions(2, [[["platform"], "text?"], [["fallback"], "bool"], [["onEvent"], "fn"], [["tagAs"], "text?"], ...choice]),
    ],
  },
  {
    name: "pullRemoteImage",
    call: ([remote, ref, options]) => api.pullRemoteImage(remote as string, ref as string, options as api.PullRemoteImageOptions),
    args: () => [`tcp://${host}`, `${host}/team/app:1`, { credential: null, resolve: {}, systemSockets: [] }],
    slots: [
      [[0], "docker"],
      [[1], "reference"],
      [[2], "object?"],
      ...inOptions(2, [
        [["platform"], "text?"],
        [["tagAs"], "text?"],
        [["identityFile"], "text?"],
        [["timeoutMs"], "int"],
        [["acceptUnknownHostKey"], "bool"],
        [["env"], "env"],
        [["systemSockets"], "textlist"],
        ...choice,
      ]),
    ],
  },
  {
    name: "ensureImages",
    call: ([docker, refs, options]) =>
      api.ensureImages(docker as api.DockerConnection, refs as string[], options as api.EnsureImagesOptions),
    args: () => [fakeDocker(), [`${host}/team/app:1`, `${host}/team/worker:1`], { credential: null, resolve: {} }],
    slots: [
      [[0], "docker"],
      [[1], "textlist"],
      [[1, 1], "reference"],
      [[2], "object?"],
      ...inOptions(2, [
        [["platform"], "text?"],
        [["fallback"], "bool"],
        [["onEvent"], "fn"],
        [["jobs"], "int"],
        [["keepGoing"], "bool"],
        [["signal"], "signal"],
        ...choice,
      ]),
    ],
  },
  {
    name: "pullRemoteImages",
    call: ([hosts, refs, options]) => api.pullRemoteImages(hosts as string[], refs as string[], options as api.PullRemoteImagesOptions),
    args: () => [[`tcp://${host}`, `tcp://${host}/`], [`${host}/team/app:1`], { credential: null, resolve: {}, systemSockets: [] }],
    slots: [
      [[0], "textlist"],
      [[0, 1], "docker"],
      [[1], "textlist"],
      [[1, 0], "reference"],
      [[2], "object?"],
      ...inOptions(2, [
        [["platform"], "text?"],
        [["identityFile"], "text?"],
        [["timeoutMs"], "int"],
        [["jobs"], "int"],
        [["keepGoing"], "bool"],
        [["signal"], "signal"],
        [["env"], "env"],
        [["systemSockets"], "textlist"],
        ...choice,
      ]),
    ],
  },
  {
    name: "connectDocker",
    call: ([options]) => api.connectDocker(options as api.ConnectDockerOptions),
    args: () => [{ host: `tcp://${host}`, systemSockets: [] }],
    slots: [
      [[0], "object?"],
      ...inOptions(0, [
        [["host"], "text?"],
        [["dockerConfigDir"], "text?"],
        [["knownHostsFile"], "text?"],
        [["timeoutMs"], "int"],
        [["connectTimeoutMs"], "int"],
        [["env"], "env"],
        [["systemSockets"], "textlist"],
      ]),
    ],
  },
  {
    name: "verifyCredentials",
    call: ([target, cred, options]) => api.verifyCredentials(target as string, cred as api.Credential, options as api.VerifyOptions),
    args: () => [`${host}/team/app:1`, credential(), { retries: 0 }],
    slots: [
      [[0], "reference"],
      [[1], "credential"],
      [[2], "object?"],
      ...inOptions(2, [
        [["insecure"], "bool"],
        [["timeoutMs"], "int"],
        [["retries"], "int"],
        [["onExchange"], "fn"],
      ]),
    ],
  },
  {
    name: "resolveCredentials",
    call: ([registry, options]) => api.resolveCredentials(registry as string, options as api.ResolveCredentialsOptions),
    args: () => [
      host,
      {
        env: { HOME: join(scratch, "home") },
        dockerConfigDir: join(scratch, "docker"),
        explicit: { username: "u", secret: "s3cret-value-never-shown" },
      },
    ],
    slots: [
      [[0], "text"],
      [[1], "object?"],
      [[1, "env"], "env"],
      [[1, "dockerConfigDir"], "text?"],
      [[1, "explicit"], "object?"],
      [[1, "explicit", "secret"], "text", true],
      [[1, "anonymous"], "bool"],
    ],
  },
  {
    name: "writeRegistriesConfig",
    call: ([options]) => api.writeRegistriesConfig(options as api.WriteRegistriesConfigOptions),
    args: () => [{ registries: [{ host, credential: credential(), tls: {} }], path: join(scratch, "k3s", "registries.yaml") }],
    slots: [
      [[0], "object"],
      ...inOptions(0, [
        [["registries"], "textlist"],
        [["path"], "text"],
        [["strict"], "bool"],
        [["dryRun"], "bool"],
        [["verify"], "fn"],
        [["beforeRename"], "fn"],
      ]),
      [[0, "registries", 0], "object"],
      [[0, "registries", 0, "host"], "text"],
      [[0, "registries", 0, "credential"], "credential"],
      [[0, "registries", 0, "tls"], "object?"],
      [[0, "registries", 0, "tls", "caFile"], "text?"],
      [[0, "registries", 0, "rewrite"], "env"],
      [[0, "registries", 0, "verifyRepositories"], "textlist"],
    ],
  },
  {
    name: "renderPullSecret",
    call: ([options]) => api.renderPullSecret(options as api.RenderPullSecretOptions),
    args: () => [{ name: "pull", registries: [{ host, credential: credential() }] }],
    slots: [
      [[0], "object"],
      [[0, "name"], "text"],
      [[0, "namespace"], "text?"],
      [[0, "registries"], "textlist"],
      [[0, "verify"], "fn"],
    ],
  },
  {
    name: "pullWithFallback",
    call: ([attempt, options]) => api.pullWithFallback(attempt as api.PullAttemptFn<{ digest?: string }>, options as api.FallbackOptions),
    args: () => [
      () => Promise.reject(new Error("the attempt ran")),
      { image: `${host}/team/app:1`, registry: host, credential: undefined },
    ],
    slots: [
      [[0], "docker"],
      [[1], "object"],
      [[1, "image"], "text"],
      [[1, "registry"], "text"],
      [[1, "credential"], "credential"],
      [[1, "fallback"], "bool"],
      [[1, "onEvent"], "fn"],
    ],
  },
  { name: "parseReference", call: ([s]) => api.parseReference(s as string), args: () => ["a"], slots: [[[0], "text"]] },
  { name: "isLocalImageRef", call: ([s]) => api.isLocalImageRef(s as string), args: () => ["a"], slots: [[[0], "text"]] },
  { name: "parseDestination", call: ([s]) => api.parseDestination(s as string), args: () => ["oci:x"], slots: [[[0], "destination"]] },
  { name: "parsePlatform", call: ([s]) => api.parsePlatform(s as string), args: () => ["linux/amd64"], slots: [[[0], "text"]] },
  { name: "normalizeArchitecture", call: ([s]) => api.normalizeArchitecture(s as string), args: () => ["x86_64"], slots: [[[0], "text"]] },
  {
    name: "formatPlatform",
    call: ([p]) => api.formatPlatform(p as api.Platform),
    args: () => [{ os: "linux", architecture: "amd64" }],
    slots: [
      [[0], "object"],
      [[0, "os"], "text"],
      [[0, "architecture"], "text"],
      [[0, "variant"], "text?"],
    ],
  },
  { name: "readRegistriesConfig", call: ([s]) => api.readRegistriesConfig(s as string), args: () => [""], slots: [[[0], "string"]] },
  {
    name: "Credential.basic",
    call: ([u, s, source]) => api.Credential.basic(u as string, s as string, source as api.CredentialSource),
    args: () => ["user", "s3cret-value-never-shown", { type: "explicit" }],
    slots: [
      [[0], "text"],
      [[1], "text", true],
      [[2], "object"],
    ],
  },
  {
    name: "Credential.identityToken",
    call: ([t, source, u]) => api.Credential.identityToken(t as string, source as api.CredentialSource, u as string),
    args: () => ["s3cret-value-never-shown", { type: "helper", helper: "x" }],
    slots: [
      [[0], "text", true],
      [[1], "object"],
      [[2], "text?"],
    ],
  },
];

function setAt(root: unknown[], path: readonly (string | number)[], value: unknown): void {
  let holder = root as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = holder[key];
    if (typeof next !== "object" || next === null) {
      holder[key] = {};
    }
    holder = holder[key] as Record<string | number, unknown>;
  }
  holder[path[path.length - 1]!] = value;
}

function pollute(args: unknown[], extra: Record<string, unknown>): void {
  for (const arg of args) {
    if (typeof arg !== "object" || arg === null || Array.isArray(arg) || arg instanceof api.Credential) continue;
    // defineProperty: an own "__proto__" key, as JSON.parse makes one, not a new prototype.
    for (const [key, value] of Object.entries(extra))
      Object.defineProperty(arg, key, { value, enumerable: true, configurable: true, writable: true });
  }
}

async function outcomeOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe("every public function refuses malformed input before it touches anything", () => {
  it("lists every exported function of the barrel", () => {
    const functions = Object.entries(api)
      .filter(([, value]) => typeof value === "function")
      .map(([name]) => name);
    const covered = new Set([
      ...targets().map((t) => t.name.split(".")[0]),
      "isPullbackError",
      "classifyPullError",
      "PullbackError",
      "PullError",
    ]);
    expect(functions.filter((name) => !covered.has(name))).toEqual([]);
  });

  for (const target of targets()) {
    it(`${target.name}: only usage errors naming the argument, no request, no file`, async () => {
      const slot = fc
        .constantFrom(...target.slots)
        .chain(([path, kind, secret]) => wrong(kind).map((value) => ({ path, value, secret: secret === true })));
      await fc.assert(
        fc.asyncProperty(slot, pollution, async ({ path, value, secret }, extra) => {
          const args = target.args();
          setAt(args, path, value);
          pollute(args, extra);
          const error = await outcomeOf(() => target.call(args));
          expect(api.isPullbackError(error), `${target.name} with ${path.join(".")} broken: ${String(error)}`).toBe(true);
          const { kind, message } = error as api.PullbackError;
          expect(["usage", "reference"]).toContain(kind);
          if (kind === "usage") expect(message.startsWith(`${target.name}: `) || message.startsWith("Invalid destination")).toBe(true);
          expect(message).not.toContain("s3cret-value-never-shown");
          if (secret && typeof value === "string") expect(message).not.toContain(value.slice(0, 40));
          expect(message.length).toBeLessThan(1000);
        }),
        { numRuns: Math.min(RUNS, 300) },
      );
      expect({ connections, engineCalls, files: readdirSync(scratch) }).toEqual({ connections: 0, engineCalls: 0, files: [] });
      expect(readdirSync(process.cwd())).toEqual(cwdBefore);
    });
  }

  it("classifyPullError answers for any value and never throws", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => void api.classifyPullError(value)),
      { numRuns: Math.min(RUNS, 300) },
    );
  });

  it("a destination string is accepted where the CLI spells it", async () => {
    const error = await outcomeOf(() => api.pullImage("a", { to: "oci:" }));
    expect(error).toMatchObject({ kind: "usage", message: expect.stringContaining('Invalid destination "oci:"') });
  });
});
