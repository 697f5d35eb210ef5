/**
 * The environment every CLI integration test runs the built CLI with: the world's daemon,
 * a HOME without any Docker config, no colors — plus what the test adds (credentials).
 */
import { join } from "node:path";
import type { UserCredentials, WorldInfo } from "../world/types.js";

/**
 * @example
 * const env = cliEnv(world, home, registryCredentials(world.users.alice));
 */
export function cliEnv(world: Pick<WorldInfo, "dockerHost">, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    DOCKER_CONFIG: join(home, ".docker"),
    DOCKER_HOST: world.dockerHost,
    NO_COLOR: "1",
    ...extra,
  };
}

/** PULLBACK_REGISTRY_USERNAME / PULLBACK_REGISTRY_TOKEN for a user. */
export function registryCredentials(user: UserCredentials): NodeJS.ProcessEnv {
  return { PULLBACK_REGISTRY_USERNAME: user.username, PULLBACK_REGISTRY_TOKEN: user.password };
}

/**
 * `--host … -i … --known-hosts … --ssh-config …` reaching the world's SSH host, as a user would type them.
 *
 * @example
 * await runCli(["pull", image, ...sshFlags(world)], { env });
 */
export function sshFlags(world: Pick<WorldInfo, "ssh" | "sshRoutes">): string[] {
  return [
    "--host",
    world.ssh.url,
    "-i",
    world.ssh.keyFile,
    "--known-hosts",
    world.ssh.knownHostsFile,
    "--ssh-config",
    world.sshRoutes.configFile,
  ];
}
