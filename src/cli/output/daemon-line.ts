/**
 * `-v`'s line about the daemon a pull goes to. Asked for only under -v: it costs the
 * daemon's /version, ~30 ms on dockerd, which a pull does not otherwise need.
 */
import type { DockerConnection } from "../../targets/docker/connect-docker.js";

/** @example reporter.debug(await daemonLine(docker)) // "docker daemon unix:///var/run/docker.sock: linux/amd64" */
export async function daemonLine(docker: DockerConnection): Promise<string> {
  const { os, arch } = await docker.daemon();
  return `docker daemon ${docker.endpoint}: ${os}/${arch}`;
}
