/**
 * The daemon's own TLS and proxy failures. dockerd pulls with its own trust (its host's
 * system store and /etc/docker/certs.d/HOST:PORT/) and its own proxy settings (systemd
 * drop-in or daemon.json "proxies"), not pullback's: the fix is on the daemon's host,
 * and running the same pull again cannot help.
 */
import type { Diagnosis } from "../errors.js";

interface DaemonFailure {
  readonly reason: string;
  readonly registry: string;
  readonly image: string;
}

const UNKNOWN_CA = /x509: certificate signed by unknown authority|x509: .*self[- ]signed/i;
const OTHER_NAME = /x509: certificate is valid for ([^,]+(?:, [^,]+)*?), not (\S+)/i;
const EXPIRED = /x509: certificate has expired or is not yet valid/i;
const PROXY = /proxyconnect tcp/i;

/**
 * A diagnosis for a daemon's TLS or proxy failure, or undefined when the failure is another one.
 *
 * @example
 * daemonNetworkDiagnosis({ reason: 'Get "https://r:5443/v2/": x509: certificate signed by unknown authority', registry: "r:5443", image: "r:5443/a:1" })?.summary
 * // "The Docker daemon does not trust the certificate of r:5443"
 */
export function daemonNetworkDiagnosis(failure: DaemonFailure): Diagnosis | undefined {
  const { reason, registry, image } = failure;
  const certsDir = `/etc/docker/certs.d/${registry}`;
  // Docker Hub is served by registry-1.docker.io.
  const connect = registry === "docker.io" ? "registry-1.docker.io:443" : registry.includes(":") ? registry : `${registry}:443`;
  const chain = {
    text: "See the certificate chain the registry sends",
    command: `openssl s_client -showcerts -connect ${connect} </dev/null`,
  };
  const daemonless = {
    text: "Or pull without the daemon, with pullback's own trust",
    command: `pullback pull ${image} --to oci:./images --cert-dir DIR`,
  };
  if (UNKNOWN_CA.test(reason)) {
    return {
      summary: `The Docker daemon does not trust the certificate of ${registry}`,
      explanation: `The daemon refused the registry's certificate (${reason}). The daemon pulls with its own trust — its host's system store and ${certsDir}/ on that host — not pullback's; running the pull again will not help.`,
      steps: [
        registry === "docker.io"
          ? {
              // Observed with dockerd 20.10: certs.d is not read for Docker Hub, only the system roots.
              text: "Add the CA to the system store of the daemon's host (dockerd verifies Docker Hub with the system roots only), then restart the daemon",
              command:
                "sudo cp ca.crt /usr/local/share/ca-certificates/registry-ca.crt && sudo update-ca-certificates && sudo systemctl restart docker",
            }
          : {
              text: "Give the daemon the registry's CA certificate (read on the next pull; no restart)",
              command: `sudo mkdir -p ${certsDir} && sudo cp ca.crt ${certsDir}/ca.crt`,
            },
        chain,
        daemonless,
      ],
      retryable: false,
    };
  }
  const otherName = OTHER_NAME.exec(reason);
  if (otherName) {
    return {
      summary: `The certificate of ${registry} is for another name`,
      explanation: `The registry presented a certificate for ${otherName[1] ?? "another name"}, not ${otherName[2] ?? registry} (${reason}). The registry is misconfigured, or the name points at another server.`,
      steps: [chain, { text: "Pull by the name the certificate is for, or have the registry's certificate reissued for this name" }],
      retryable: false,
    };
  }
  if (EXPIRED.test(reason)) {
    return {
      summary: `The certificate of ${registry} is expired or not yet valid`,
      explanation: `The daemon refused the registry's certificate (${reason}). Check the clock of the daemon's host; otherwise the registry must renew its certificate.`,
      steps: [chain, { text: "Check the clock of the daemon's host", command: "date -u" }],
      retryable: false,
    };
  }
  if (PROXY.test(reason)) {
    return {
      summary: "The Docker daemon's proxy could not be reached",
      explanation: `The daemon connects through its own proxy settings, not pullback's environment (${reason}).`,
      steps: [
        {
          text: 'Check the daemon\'s proxy: the systemd drop-in (HTTPS_PROXY) or daemon.json "proxies"',
          command: "docker info --format '{{.HTTPSProxy}} {{.NoProxy}}'",
        },
        daemonless,
      ],
      retryable: true,
    };
  }
  return undefined;
}
