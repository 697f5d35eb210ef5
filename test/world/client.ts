/**
 * What tests (in vitest workers) use to reach the world started by globalSetup.
 */
import { request } from "node:http";
import { inject } from "vitest";
import type { BlobRequestRecord, FaultRule, ProxyRequestRecord, TokenRequestRecord, WorldInfo } from "./types.js";

export type {
  BlobRequestRecord,
  FaultAction,
  FaultMatch,
  FaultRule,
  FixtureImage,
  ProxyRequestRecord,
  TokenRequestRecord,
  WorldInfo,
} from "./types.js";

/**
 * The world of this test run.
 *
 * @example
 * const world = getWorld(); const { token } = world.registries;
 */
export function getWorld(): WorldInfo {
  return inject("world");
}

async function call<T>(url: string, method: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every token request since the last clear. @example expect((await tokenRequests(w)).at(-1)?.outcome).toBe("denied") */
export const tokenRequests = (info: WorldInfo): Promise<TokenRequestRecord[]> => call(`${info.tokenService.url}/_requests`, "GET");
/** Forgets the recorded token requests. @example await clearTokenRequests(world) */
export const clearTokenRequests = async (info: WorldInfo): Promise<void> =>
  void (await call(`${info.tokenService.url}/_requests`, "DELETE"));

/** Replaces the fault proxy's rules. @example await setFaults(w, [{ match: { path: "/manifests/" }, action: { type: "respond", status: 503 } }]) */
export const setFaults = async (info: WorldInfo, rules: readonly FaultRule[]): Promise<void> =>
  void (await call(`${info.faultProxy.url}/_faults`, "POST", rules));
/** Removes every fault rule. @example await clearFaults(world) */
export const clearFaults = async (info: WorldInfo): Promise<void> => void (await call(`${info.faultProxy.url}/_faults`, "DELETE"));
/** What passed through the fault proxy. @example (await proxyRequests(w)).filter((r) => r.fault !== null) */
export const proxyRequests = (info: WorldInfo): Promise<ProxyRequestRecord[]> => call(`${info.faultProxy.url}/_requests`, "GET");
/** Forgets the fault proxy's request log. @example await clearProxyRequests(world) */
export const clearProxyRequests = async (info: WorldInfo): Promise<void> => void (await call(`${info.faultProxy.url}/_requests`, "DELETE"));
/** What the blob server answered. @example (await blobRequests(w)).some((r) => r.hasAuthorization) */
export const blobRequests = (info: WorldInfo): Promise<BlobRequestRecord[]> => call(`${info.blobServer.url}/_requests`, "GET");
/** Forgets the blob server's request log. @example await clearBlobRequests(world) */
export const clearBlobRequests = async (info: WorldInfo): Promise<void> => void (await call(`${info.blobServer.url}/_requests`, "DELETE"));

/** An Engine API answer: status and the whole body as text. */
export interface EngineResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * A raw Engine API request over the world's unix socket (no dockerode: tests
 * must see exactly what dockerd answers).
 *
 * @example
 * const res = await engineRequest(world, "GET", "/version");
 */
export async function engineRequest(
  info: WorldInfo,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<EngineResponse> {
  const socketPath = info.dockerHost.replace(/^unix:\/\//, "");
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * The X-Registry-Auth header value the docker CLI sends: base64url JSON WITH
 * padding. dockerd 20.10 decodes it with Go's padded URL alphabet and, when that
 * fails (Node's unpadded "base64url"), silently pulls anonymously.
 *
 * @example
 * registryAuthHeader({ username, password, serveraddress })
 */
export function registryAuthHeader(auth: { username: string; password: string; serveraddress: string }): string {
  return Buffer.from(JSON.stringify(auth)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * Remove every image from the world's dockerd, so the next pull fetches every layer again
 * (removing one name is not enough: another name may share its layers).
 *
 * @example
 * beforeEach(() => removeAllImages(world));
 */
export async function removeAllImages(info: WorldInfo): Promise<void> {
  const list = await engineRequest(info, "GET", "/images/json?all=1");
  const images = JSON.parse(list.body) as { Id: string }[];
  for (const image of images) await engineRequest(info, "DELETE", `/images/${image.Id}?force=1`);
}
