/**
 * The Engine API client against the world's dockerd: versioned paths as /_ping names
 * them, the daemon's refusals as DaemonResponseError, and a pull cancelled mid-stream.
 */
import { afterAll, describe, expect, it } from "vitest";
import { getWorld, removeAllImages } from "../../world/client.js";
import { DaemonResponseError, DockerEngine } from "../../../src/targets/docker/engine.js";
import { EngineHttp } from "../../../src/targets/docker/engine-http.js";

const world = getWorld();
const socketPath = new URL(world.dockerHost).pathname;
const engine = (): DockerEngine => new DockerEngine({ kind: "unix", socketPath }, 10_000);

afterAll(() => removeAllImages(world));

describe("the Engine API client", () => {
  it("versions every request after ping with the daemon's own API version", async () => {
    const docker = engine();
    await docker.ping();
    const version = await docker.version();
    expect(version.apiVersion).toMatch(/^1\.\d+$/);
    expect(version.os).toBe("linux");
    // A version the daemon cannot speak proves the prefix is sent; a malformed one is ignored.
    const http = new EngineHttp({ kind: "unix", socketPath });
    http.useApiVersion("1.0");
    http.useApiVersion("latest");
    const { res, body } = await http.call({ method: "GET", path: "/version", timeoutMs: 10_000 });
    expect(res.statusCode).toBe(400);
    expect(body).toMatch(/1\.0 is too old/);
  });

  it("turns a refusal into a DaemonResponseError with the daemon's status and words", async () => {
    const docker = engine();
    await docker.ping();
    const error = await docker.tag("sha256:" + "0".repeat(64), "pullback-engine", "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonResponseError);
    const refused = error as DaemonResponseError;
    expect(refused.statusCode).toBe(404);
    expect(refused.inStream).toBe(false);
    expect(refused.json.message).toMatch(/no such image/i);
    expect(refused.kind).toBe("not-found");
    expect(await docker.inspectImage("sha256:" + "0".repeat(64))).toBeUndefined();
  });

  it("cancels a pull mid-stream with the signal's reason, and the daemon still answers", async () => {
    await removeAllImages(world);
    const big = world.fixtures.publicBig ?? world.fixtures.publicApp;
    const docker = engine();
    await docker.ping();
    const controller = new AbortController();
    const reason = new Error("cancelled by the test");
    const lines: string[] = [];
    const pulled = docker.pull(`${world.registries.open.host}/${big.repository}`, big.tag, {
      credential: undefined,
      registry: world.registries.open.host,
      signal: controller.signal,
      onLine: (line) => {
        lines.push(line.status ?? "");
        if (lines.length === 1) controller.abort(reason);
      },
    });
    await expect(pulled).rejects.toBe(reason);
    expect(lines.length).toBeGreaterThan(0);
    await expect(docker.ping()).resolves.toBeUndefined();
    // Aborted before it starts: no request at all, the same reason.
    await expect(docker.pull("x", "1", { credential: undefined, registry: "x", signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});
