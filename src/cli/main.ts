/**
 * The pullback command line: a commander program whose actions lazy-load their
 * command module, so `--version` and `--help` load neither the Engine client, ssh nor
 * cli-progress. Runs as a function (argv and streams in, exit code out).
 */
import { Command, Option } from "commander";
import { guardOutput, type CliIo } from "./cli-io.js";
import { ExitCode, exitCodeFor, isCommanderError } from "./exit-codes.js";
import { PullbackError } from "../errors.js";
import { packageVersion } from "./version.js";

export type { CliIo } from "./cli-io.js";

/**
 * Run the CLI; resolves to the process exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // A closed pipe (`| head -1`) ends output quietly; the command still finishes its work.
  const output = guardOutput(io);
  const code = await run(argv, io);
  const failure = output.failure;
  if (failure === undefined || code !== ExitCode.success) return code;
  if (!io.stderr.destroyed) io.stderr.write(`error: could not write the output: ${failure.message}\n`);
  return ExitCode.other;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(
    io,
    (result) => {
      code = result;
    },
    wantsJson(argv),
  );
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (wantsJson(argv)) {
      // Under --json every failure is one JSON line on stdout, and nothing human goes to stderr.
      if (!isCommanderError(error) || error.exitCode !== 0) {
        const { errorLine } = await import("./output/json-reporter.js");
        const failure = isCommanderError(error) ? new PullbackError("usage", error.message.replace(/^error: /, "")) : error;
        io.stdout.write(`${JSON.stringify(errorLine(failure))}\n`);
      }
    } else if (!isCommanderError(error)) {
      // A command module reports its own failures; this is a failure to load or start one.
      const { formatError } = await import("./output/format-error.js");
      const { styleFor } = await import("./output/style.js");
      io.stderr.write(
        formatError(error, { style: styleFor(io.stderr, io.env), verbose: argv.includes("-v") || argv.includes("--verbose") }),
      );
    }
    return exitCodeFor(error);
  }
}

/** --json before commander has parsed anything: its own errors must be JSON too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

function buildProgram(io: CliIo, setCode: (code: number) => void, json: boolean): Command {
  const program = new Command("pullback")
    .description(
      "Pull container images onto Docker daemons, remote hosts, k3s nodes and OCI layouts — and keep working when the registry credentials are refused.",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .option("--json", "write newline-delimited JSON events to stdout, nothing else")
    .addOption(new Option("-q, --quiet", "print errors only").conflicts("verbose"))
    .option("-v, --verbose", "print every step and stack traces")
    // Under --json commander's own messages become the JSON error line (see run()); stderr stays quiet.
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => (json ? undefined : io.stderr.write(text)) })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  const pull = program
    .command("pull")
    .description(
      "Pull images onto the local daemon, remote daemons over SSH, or into an OCI layout / docker-archive — one image or a whole set",
    )
    .argument("[image...]", "image references, e.g. ghcr.io/acme/app:1.2 (or --file)")
    .option("--file <file>", "read image references from FILE, one per line (# comments, blank lines); - reads stdin")
    .option(
      "--host <url>",
      "Docker host: ssh://[user@]host[:port] pulls on a remote daemon through your ssh (host may be an ~/.ssh/config alias; also unix://, tcp://); repeat for several hosts",
      collect,
      [],
    )
    .option(
      "--jobs <n>",
      "with several images or hosts: images at once (with --host: hosts at once, each one image at a time), 1 to 64 (default 4)",
    )
    .option("--keep-going", "with several images or hosts: go on after a failure (and write the docker-archive of those that succeeded)")
    .option("-i, --identity <file>", "SSH private key for --host ssh://… (ssh -i, IdentitiesOnly)")
    .option("--known-hosts <file>", "known_hosts file for --host ssh://… (default: ssh's, ~/.ssh/known_hosts)")
    .option("--accept-unknown-host-key", "accept and record an SSH host key not in known_hosts (never a changed one)")
    .option("--ssh-config <file>", "ssh configuration to use instead of ~/.ssh/config (ssh -F), for any ssh:// endpoint")
    .option("--to <destination>", "pull without a daemon into oci:DIR[:TAG] or docker-archive:FILE")
    .option("--platform <os/arch[/variant]>", "platform to pull (default: the daemon's, or this machine's with --to)")
    .option("--all-platforms", "with --to oci:…, keep every platform of a multi-platform image")
    .option("--replace", "with --to docker-archive:FILE, replace an archive that holds another image")
    .option("--tag-as <name>", "also tag the pulled image on the remote host (with --host ssh://…)")
    .addOption(
      new Option(
        "--pull <policy>",
        "always: ask the registry every time, as docker pull does; missing: only when the image is not there; never: use what is there",
      )
        .choices(["always", "missing", "never"])
        .default("always"),
    )
    .option("--no-fallback", "do not retry anonymously when the credentials are refused")
    .option("--fail-on-fallback", "exit 6 when the image came from the anonymous retry")
    .option(
      "--cert-dir <dir>",
      "with --to: trust the *.crt CAs and use the client.cert/client.key in DIR (skopeo's layout) instead of certs.d",
    );
  addCredentialOptions(pull).addHelpText(
    "after",
    `
Examples:
  $ pullback pull ghcr.io/acme/app:1.2
  $ printf '%s' "$TOKEN" | pullback pull ghcr.io/acme/app:1.2 --username ci-bot --password-stdin
  $ pullback pull ghcr.io/acme/app:1.2 --host ssh://build-1 --tag-as app:dev
  $ pullback pull ghcr.io/acme/app:1.2 --host ssh://deploy@10.0.0.7:2222 -i ~/.ssh/deploy_ed25519
  $ pullback pull nginx:1.27 --to oci:./images:nginx --platform linux/arm64
  $ pullback pull ghcr.io/acme/app:1.2 --json --fail-on-fallback
  $ pullback pull ghcr.io/acme/app:1.2 --pull missing
  $ pullback pull --file images.txt --to docker-archive:/var/lib/rancher/k3s/agent/images/bundle.tar
  $ pullback pull ghcr.io/acme/app:1.2 ghcr.io/acme/worker:1.2 --host ssh://build-1 --host ssh://build-2 --keep-going`,
  );
  pull.action(async (images: string[], _options: unknown, command: Command) => {
    const { runPull } = await import("./commands/pull.js");
    setCode(await runPull(images, command.optsWithGlobals(), io));
  });

  const check = program
    .command("check")
    .description("Check the credentials pullback would use for an image or registry, and whether an anonymous pull works")
    .argument("<target...>", "image reference (checks pull access) or registry host (checks login)")
    .option("--insecure", "allow plain HTTP to a registry that is not on loopback")
    .option("--cert-dir <dir>", "trust the *.crt CAs and use the client.cert/client.key in DIR (skopeo's layout) instead of certs.d");
  addCredentialOptions(check).addHelpText(
    "after",
    `
Exit code 0 only when the credentials are accepted, or, with no credentials, when an anonymous pull works.

Examples:
  $ pullback check ghcr.io/acme/app:1.2
  $ pullback check ghcr.io
  $ PULLBACK_REGISTRY_TOKEN=… pullback check registry.example.com/team/app:1 --json`,
  );
  check.action(async (targets: string[], _options: unknown, command: Command) => {
    const { runCheck } = await import("./commands/check.js");
    setCode(await runCheck(targets, command.optsWithGlobals(), io));
  });

  const cluster = program
    .command("cluster-config")
    .description("Write k3s/RKE2 registries.yaml (or a Kubernetes pull secret) with only the credentials the registry accepts")
    .option("--registry <host>", "registry host to configure (repeatable)", collect, [])
    .option("--endpoint <url>", "mirror endpoint for the (single) registry")
    .option("--insecure", "the registry speaks plain HTTP")
    .option(
      "--verify-repo <repo>",
      "repository the cluster will pull, verified with the credentials (repeatable; HOST/REPO with several registries)",
      collect,
      [],
    )
    .option("--output <file>", "where to write (default /etc/rancher/k3s/registries.yaml; for k8s-secret: stdout)")
    .addOption(new Option("--format <format>", "what to write").choices(["k3s", "k8s-secret"]).default("k3s"))
    .option("--secret-name <name>", "metadata.name of the Secret (k8s-secret)")
    .option("--namespace <namespace>", "metadata.namespace of the Secret (k8s-secret)")
    .option("--strict", "fail when a registry cannot be reached, instead of keeping its credentials unverified")
    .option("--dry-run", "print the result (secrets masked) and write nothing")
    .option("--explain", "explain each registry's decision");
  addCredentialOptions(cluster).addHelpText(
    "after",
    `
Examples:
  $ printf '%s' "$TOKEN" | pullback cluster-config --registry ghcr.io --verify-repo acme/app --username ci-bot --password-stdin
  $ pullback cluster-config --registry registry.internal:5000 --insecure --dry-run --explain
  $ pullback cluster-config --registry ghcr.io --format k8s-secret --namespace apps | kubectl apply -f -`,
  );
  cluster.action(async (_options: unknown, command: Command) => {
    const { runClusterConfig } = await import("./commands/cluster-config.js");
    setCode(await runClusterConfig(command.optsWithGlobals(), io));
  });

  program.addHelpText(
    "after",
    `
Credentials: --username with --password-stdin, else PULLBACK_REGISTRY_USERNAME / PULLBACK_REGISTRY_TOKEN, else the Docker config; --no-credentials forces anonymous.
Exit codes: 0 ok (also after a fallback), 1 other, 2 usage, 3 auth, 4 not found, 5 unreachable/registry/rate limit, 6 fallback with --fail-on-fallback, 7 platform.

Examples:
  $ pullback pull ghcr.io/acme/app:1.2
  $ pullback check ghcr.io/acme/app:1.2
  $ pullback cluster-config --registry ghcr.io --dry-run`,
  );
  return program;
}

function addCredentialOptions(command: Command): Command {
  return command
    .option("--username <name>", "registry username (the secret comes from --password-stdin)")
    .option("--password-stdin", "read the password or token from stdin (one trailing newline is stripped)")
    .option("--no-credentials", "pull anonymously: ignore flags, environment and Docker config");
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
