/**
 * The decoys of the hostile environment: unix sockets where a Docker daemon or an SSH
 * agent would be found, and a TCP port standing in for a proxy. Each accepts a
 * connection, writes one line to the log and hangs up — so a test that reached for the
 * machine instead of the world fails, and the log says which decoy it touched.
 *
 *   tsx scripts/hostile-env/decoy.ts LOG PORT_FILE SOCKET...
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname } from "node:path";

const [log, portFile, ...sockets] = process.argv.slice(2);
if (log === undefined || portFile === undefined) throw new Error("usage: decoy.ts LOG PORT_FILE SOCKET...");

function decoy(name: string): Server {
  return createServer((connection) => {
    appendFileSync(log!, `${new Date().toISOString()} connection to ${name}\n`);
    connection.destroy();
  });
}

for (const socket of sockets) {
  mkdirSync(dirname(socket), { recursive: true });
  decoy(socket).listen(socket);
}
const proxy = decoy("the proxy");
proxy.listen(0, "127.0.0.1", () => {
  const address = proxy.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  writeFileSync(portFile, String(address.port));
});
process.on("SIGTERM", () => process.exit(0));
