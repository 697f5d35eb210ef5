/**
 * A real HTTP proxy from Debian (tinyproxy) inside the test namespace, with
 * CONNECT, optionally requiring proxy authentication. Its log shows every
 * CONNECT, so tests can assert what went through it — and what never did.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startProcess, waitUntil, type ManagedProcess } from "./process.js";

export interface TinyproxyOptions {
  readonly name: string;
  readonly dir: string;
  readonly exec: readonly string[];
  readonly listen: string;
  readonly port: number;
  /** Require `Proxy-Authorization: Basic` with this user and password (kept in the config file only). */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

export interface Tinyproxy {
  readonly logFile: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * @example
 * const proxy = await startTinyproxy({ name: "open", dir, exec: ns.exec, listen: "127.0.10.50", port: 3128 });
 */
export async function startTinyproxy(options: TinyproxyOptions): Promise<Tinyproxy> {
  const logFile = join(options.dir, `tinyproxy-${options.name}.log`);
  const config = join(options.dir, `tinyproxy-${options.name}.conf`);
  await writeFile(
    config,
    [
      `Port ${options.port}`,
      `Listen ${options.listen}`,
      "Timeout 30",
      `LogFile "${logFile}"`,
      "LogLevel Info",
      "MaxClients 50",
      "Allow 127.0.0.0/8",
      "ConnectPort 443",
      "ConnectPort 5443",
      "DisableViaHeader Yes",
      ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  await writeFile(logFile, "");
  const [command, ...args] = options.exec;
  const managed: ManagedProcess = startProcess(
    `tinyproxy ${options.name}`,
    command!,
    [...args, "/usr/bin/tinyproxy", "-d", "-c", config],
    join(options.dir, `tinyproxy-${options.name}.out`),
  );
  const log = (): Promise<string> => readFile(logFile, "utf8").catch(() => "");
  await waitUntil(managed, async () => /listening on|Accepting connections/i.test(await log()), 15_000);
  return { logFile, log, stop: () => managed.stop() };
}
