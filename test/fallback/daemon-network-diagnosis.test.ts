/**
 * The daemon's own TLS and proxy failures, as dockerd words them (the unknown-authority
 * message was observed from dockerd 20.10 in the test world's namespace), through the
 * classifier and the diagnosis a user reads.
 */
import { describe, expect, it } from "vitest";
import { classifyPullError } from "../../src/fallback/classification.js";
import { diagnosePullFailure } from "../../src/fallback/diagnose.js";

function diagnose(message: string, registry = "registry.example.test:5443") {
  const classification = classifyPullError({ statusCode: 500, json: { message: `Get "https://${registry}/v2/": ${message}` } });
  return diagnosePullFailure({
    classification,
    attempts: [],
    image: `${registry}/team/app:1`,
    registry,
    credentialSource: undefined,
    fallbackDisabled: false,
  });
}

describe("a daemon's TLS and proxy failures", () => {
  it.each([
    [
      "x509: certificate signed by unknown authority",
      "The Docker daemon does not trust the certificate of registry.example.test:5443",
      "sudo mkdir -p /etc/docker/certs.d/registry.example.test:5443 && sudo cp ca.crt /etc/docker/certs.d/registry.example.test:5443/ca.crt",
      false,
    ],
    [
      "x509: certificate is valid for other.test, not registry.example.test",
      "The certificate of registry.example.test:5443 is for another name",
      "openssl s_client -showcerts -connect registry.example.test:5443 </dev/null",
      false,
    ],
    [
      "x509: certificate has expired or is not yet valid: current time 2026-11-26T01:00:00Z is after 2020-01-01T00:00:00Z",
      "The certificate of registry.example.test:5443 is expired or not yet valid",
      "openssl s_client -showcerts -connect registry.example.test:5443 </dev/null",
      false,
    ],
    [
      "proxyconnect tcp: dial tcp 127.0.0.1:3999: connect: connection refused",
      "The Docker daemon's proxy could not be reached",
      "docker info --format '{{.HTTPSProxy}} {{.NoProxy}}'",
      true,
    ],
  ])("%s", (message, summary, firstCommand, retryable) => {
    const diagnosis = diagnose(message);
    expect(diagnosis.summary).toBe(summary);
    expect(diagnosis.steps[0]?.command).toBe(firstCommand);
    expect(diagnosis.retryable).toBe(retryable);
  });

  it("names port 443 when the registry has no port, and leaves other network failures to the outage diagnosis", () => {
    expect(diagnose("x509: certificate is valid for a.test, not b.test", "b.test").steps[0]?.command).toBe(
      "openssl s_client -showcerts -connect b.test:443 </dev/null",
    );
    expect(diagnose("dial tcp 10.0.0.1:443: connect: connection refused").summary).toBe("registry.example.test:5443 could not be reached");
  });
});
