import { request } from "node:http";

/** Status of a GET (over TCP or a unix socket), or null when nothing answers. */
export async function probeStatus(
  target: { url: string } | { socketPath: string; path: string },
  timeoutMs = 2000,
): Promise<number | null> {
  return new Promise((resolve) => {
    const req =
      "url" in target
        ? request(target.url, { method: "GET", timeout: timeoutMs })
        : request({ socketPath: target.socketPath, path: target.path, method: "GET", timeout: timeoutMs });
    req.once("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(null));
    req.end();
  });
}
