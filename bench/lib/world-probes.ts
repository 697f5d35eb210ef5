/**
 * What the suite reads from the world besides timings: request logs of the token
 * service and the registries, sshd's accepted connections, and the daemon's images.
 * (test/world/client.ts needs vitest's inject; these take the WorldInfo directly.)
 */
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import type { TokenRequestRecord, WorldInfo } from "../../test/world/types.js";

/** Every request the token service recorded since the last clear. @example (await tokenRequests(info)).length */
export async function tokenRequests(info: WorldInfo): Promise<TokenRequestRecord[]> {
  const res = await fetch(`${info.tokenService.url}/_requests`);
  return (await res.json()) as TokenRequestRecord[];
}

/** @example await clearTokenRequests(info) */
export async function clearTokenRequests(info: WorldInfo): Promise<void> {
  await (await fetch(`${info.tokenService.url}/_requests`, { method: "DELETE" })).arrayBuffer();
}

/** Requests in a registry's access log so far (one `host - - [date] "GET …"` line each). @example await registryRequestCount(info, "token") */
export async function registryRequestCount(info: WorldInfo, name: keyof WorldInfo["registries"]): Promise<number> {
  const log = await readFile(join(info.stateDir, "registries", name, "registry.log"), "utf8").catch(() => "");
  return log.split("\n").filter((line) => /^\S+ - \S+ \[[^\]]+\] "[A-Z]+ /.test(line)).length;
}

/** SSH connections sshd accepted so far. @example await acceptedSshConnections(info) */
export async function acceptedSshConnections(info: WorldInfo): Promise<number> {
  const log = await readFile(info.ssh.logFile, "utf8").catch(() => "");
  return log.split("\n").filter((line) => line.includes("Accepted publickey")).length;
}

async function engine(info: WorldInfo, method: string, path: string): Promise<{ status: number; body: string }> {
  const socketPath = info.dockerHost.replace(/^unix:\/\//, "");
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Remove every image from the world's dockerd, so the next pull fetches every layer. @example await removeAllImages(info) */
export async function removeAllImages(info: WorldInfo): Promise<void> {
  const images = JSON.parse((await engine(info, "GET", "/images/json?all=1")).body) as { Id: string }[];
  for (const image of images) await engine(info, "DELETE", `/images/${image.Id}?force=1`);
}

/** Tag an image present in the daemon as `repo:tag`. @example await tagImage(info, "127.0.0.1:5000/public/app:1", "127.0.0.1:5000/many/n1", "1") */
export async function tagImage(info: WorldInfo, source: string, repo: string, tag: string): Promise<void> {
  const res = await engine(
    info,
    "POST",
    `/images/${encodeURIComponent(source)}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`,
  );
  if (res.status !== 201) throw new Error(`tagging ${source} as ${repo}:${tag}: ${res.status} ${res.body}`);
}
