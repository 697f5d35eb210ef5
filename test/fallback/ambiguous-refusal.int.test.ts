/**
 * One answer for one situation on every path: bob (a valid account without access) pulling
 * private/app:1 from the quay-like registry (token service answers 403) and the Docker-Hub-like
 * one (an empty-access token, then 401 insufficient_scope). Neither registry tells "missing" from
 * "no access", so every path says exactly that, with the same kind, reason and exit code, and the
 * attempts agree with the final kind.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { PullError } from "../../src/fallback/pull-outcome.js";
import { connectDocker, type DockerConnection } from "../../src/targets/docker/connect-docker.js";
import { ensureImage } from "../../src/targets/docker/ensure-image.js";
import { pullRemoteImage } from "../../src/targets/docker/pull-remote-image.js";
import { parseDestination, pullImage } from "../../src/targets/oci/pull-image.js";
import { expectNoSecrets, removeAllImages, user } from "../support/pull-helpers.js";
import { getWorld } from "../world/client.js";

const world = getWorld();
const bob = user(world, "bob");
const scratch = mkdtempSync(join(tmpdir(), "pullback-ambiguous-"));
let docker: DockerConnection;
beforeAll(async () => {
  docker = await connectDocker({ host: world.dockerHost });
  await removeAllImages(world);
});
afterAll(() => {
  docker.close();
  rmSync(scratch, { recursive: true, force: true });
});

const ssh = { identityFile: world.ssh.keyFile, knownHostsFile: world.ssh.knownHostsFile };
const paths = {
  "local daemon": (ref: string) => ensureImage(docker, ref, { credential: bob }),
  "ssh daemon": (ref: string) => pullRemoteImage(world.ssh.url, ref, { ...ssh, credential: bob }),
  daemonless: (ref: string) =>
    pullImage(ref, { to: parseDestination(`oci:${join(scratch, String(Math.random()).slice(2))}`), credential: bob }),
} as const;

describe.each([
  ["quay-like (token service 403)", world.registries.token.host],
  ["Docker-Hub-like (empty-access token)", world.registries.tokenEmptyAccess.host],
])("bob pulls private/app:1 on the %s registry", (_name, host) => {
  const ref = `${host}/private/app:1`;
  it.each(Object.keys(paths) as (keyof typeof paths)[])("%s: not found, or these credentials may not read it — exit 3", async (path) => {
    const error = await paths[path](ref).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PullError);
    const pullError = error as PullError;
    expect([pullError.kind, pullError.reason, exitCodeFor(pullError)]).toEqual(["auth", "not-found-or-denied", 3]);
    expect(pullError.diagnosis.summary).toBe(`${ref} was not found, or these credentials may not read it`);
    expect(pullError.attempts.map((a) => [a.identity.anonymous, a.failure?.kind])).toEqual([
      [false, "auth"],
      [true, "auth"],
    ]);
    expectNoSecrets(world, pullError);
  });
});
