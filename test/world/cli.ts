/**
 * `npm run world [-- --big] [-- --show-secrets]`: start a world by hand, print
 * its info, stop it on Ctrl-C / SIGTERM.
 */
import type { WorldInfo } from "./types.js";
import { startWorld } from "./world.js";

/** The info with passwords masked, unless asked for them. */
function printable(info: WorldInfo, showSecrets: boolean): unknown {
  if (showSecrets) return info;
  const mask = "<hidden: --show-secrets>";
  return {
    ...info,
    users: {
      alice: { username: info.users.alice.username, password: mask },
      bob: { username: info.users.bob.username, password: mask },
      wrongPassword: mask,
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const world = await startWorld({ big: args.includes("--big") });
  process.stdout.write(`${JSON.stringify(printable(world.info, args.includes("--show-secrets")), null, 2)}\n`);
  process.stderr.write(`world ready in ${(world.info.startupMs / 1000).toFixed(1)} s; Ctrl-C stops it\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    world.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stopping the world failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
