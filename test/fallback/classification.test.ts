import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PullbackError } from "../../src/errors.js";
import { classifyPullError } from "../../src/fallback/classification.js";
import { TEXT_LIMIT } from "../../src/text/user-text.js";
import type { ErrorKind } from "../../src/errors.js";

/** A dockerode error as docker-modem builds it for a non-2xx answer of the daemon. */
function daemon(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message} `), {
    statusCode,
    reason: "server error",
    json: { message },
  });
}
/** dockerode error whose body was not JSON: only the modem's message remains. */
function daemonText(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message} `), { statusCode, json: null });
}
/** An error line inside the pull's JSON stream (after HTTP 200). */
const stream = (message: string): unknown => ({ error: message, errorDetail: { message } });
/** Our registry client's shape. */
const registry = (status: number | undefined, message: string, code?: string): unknown => ({ status, code, message });
/** A Node / undici network error. */
const node = (code: string, message: string): Error => Object.assign(new Error(message), { code });

const HUB_RATE =
  "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit";
const CTR = "unexpected status from HEAD request to https://x/v2/y/manifests/1";
const PULL_ACCESS =
  "pull access denied for 127.0.0.1:5101/private/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied";

/** podman 4.3's failures (`podman system service`), as test/targets/docker/podman.int.test.ts recorded them. */
const PODMAN = JSON.parse(readFileSync(new URL("../fixtures/podman-messages.json", import.meta.url), "utf8")) as Record<
  string,
  { status: number; message: string }
>;
const podmanCases = new Set<string>();
/** A recorded podman failure: always an error line inside an HTTP 200 pull stream. */
function podman(name: string): unknown {
  const recorded = PODMAN[name];
  if (recorded === undefined) throw new Error(`test/fixtures/podman-messages.json has no ${name}`);
  expect(recorded.status).toBe(200);
  podmanCases.add(name);
  return stream(recorded.message.replaceAll("<registry>", "127.0.0.1:5101"));
}
const PODMAN_403 = "invalid status code from registry 403 (Forbidden)";
const PODMAN_DENIED = "denied: requested access to the resource is denied: unauthorized: authentication required";

/** One row per observed message: [expected kind, error value, expected reason (or undefined to skip), ambiguousNotFound]. */
type Row = readonly [ErrorKind, unknown, string | undefined, boolean?];
const rows: readonly Row[] = [
  // dockerd 20.10 on this machine (see /work/shared/design.md)
  ["auth", daemon(500, "unauthorized: authentication required"), "unauthorized: authentication required"],
  ["auth", daemon(500, 'Head "http://127.0.0.1:5000/v2/team/tiny/manifests/1": no basic auth credentials'), "no basic auth credentials"],
  ["auth", daemon(500, 'Head "http://127.0.0.1:5101/v2/public/app/manifests/1": denied'), "denied", true],
  ["auth", daemon(500, 'Head "http://127.0.0.1:5101/v2/public/app/manifests/1": unauthorized'), "unauthorized"],
  [
    "auth",
    daemon(500, 'Head "http://127.0.0.1:5101/v2/public/app/manifests/1": unauthorized: incorrect username or password'),
    "unauthorized: incorrect username or password",
  ],
  ["auth", daemon(404, PULL_ACCESS), "denied: requested access to the resource is denied", true],
  ["auth", daemonText(500, "unauthorized: authentication required"), "unauthorized: authentication required"],
  // podman 4.3 (containers/image 5.23): HTTP 200, the failure as a stream line
  ["auth", podman("bobPublicOnTokenRegistry"), PODMAN_403],
  ["auth", podman("bobPublicOnOtherRealmRegistry"), PODMAN_403],
  ["auth", podman("bobPrivateOnTokenRegistry"), PODMAN_403],
  ["auth", podman("wrongPasswordOnTokenRegistry"), "invalid username/password: unauthorized"],
  ["auth", podman("bobOnEmptyAccessRegistry"), PODMAN_DENIED, true],
  ["auth", podman("anonymousPrivateOnTokenRegistry"), PODMAN_DENIED, true],
  ["auth", podman("wrongPasswordOnBasicRegistry"), "unauthorized: authentication required"],
  ["auth", podman("anonymousOnBasicRegistry"), "unauthorized: authentication required"],
  ["not-found", podman("missingRepoWithAlice"), "manifest unknown: manifest unknown"],
  ["network", podman("closedPort"), "dial tcp 127.0.0.1:5101: connect: connection refused"],
  ["network", podman("registryNotMarkedInsecure"), "server gave HTTP response to HTTPS client"],
  // the same containers/image path with other token-service statuses (not observed here)
  [
    "rate-limited",
    stream("initializing source docker://r/x:1: Requesting bearer token: invalid status code from registry 429 (Too Many Requests)"),
    "invalid status code from registry 429 (Too Many Requests)",
  ],
  [
    "registry",
    stream("initializing source docker://r/x:1: Requesting bearer token: invalid status code from registry 503 (Service Unavailable)"),
    "invalid status code from registry 503 (Service Unavailable)",
  ],
  // Docker Hub
  ["auth", daemon(500, "unauthorized: incorrect username or password"), "unauthorized: incorrect username or password"],
  [
    "auth",
    "Error response from daemon: pull access denied for nosuch/thing, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    undefined,
    true,
  ],
  ["rate-limited", daemon(500, HUB_RATE), HUB_RATE],
  ["rate-limited", stream(HUB_RATE), HUB_RATE],
  ["rate-limited", stream(`error pulling image configuration: download failed after attempts=6: ${HUB_RATE}`), HUB_RATE],
  [
    "rate-limited",
    daemon(500, 'Head "https://registry-1.docker.io/v2/library/nginx/manifests/latest": toomanyrequests: unauthorized'),
    "toomanyrequests: unauthorized",
  ],
  // ghcr.io
  ["auth", daemon(500, "denied: denied"), "denied: denied", true],
  ["auth", daemon(500, "denied: permission_denied: read_package"), "denied: permission_denied: read_package", true],
  ["auth", daemon(500, 'Head "https://ghcr.io/v2/o/i/manifests/latest": unauthorized'), "unauthorized"],
  // GCR / Artifact Registry
  [
    "auth",
    daemon(500, "UNAUTHORIZED: You don't have the needed permissions to perform this operation, and you may have invalid credentials."),
    "UNAUTHORIZED: You don't have the needed permissions to perform this operation, and you may have invalid credentials.",
  ],
  [
    "auth",
    daemon(
      500,
      'denied: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/p/locations/l/repositories/r" (or it may not exist)',
    ),
    'denied: Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/p/locations/l/repositories/r" (or it may not exist)',
    true,
  ],
  // quay.io
  [
    "auth",
    daemon(500, "unauthorized: access to the requested resource is not authorized"),
    "unauthorized: access to the requested resource is not authorized",
  ],
  // ECR
  [
    "auth",
    daemon(500, "denied: Your authorization token has expired. Reauthenticate and try again."),
    "denied: Your authorization token has expired. Reauthenticate and try again.",
  ],
  [
    "auth",
    daemon(
      500,
      `error parsing HTTP 403 response body: invalid character 'Y' looking for beginning of value: "Your authorization token has expired. Reauthenticate and try again."`,
    ),
    "Your authorization token has expired. Reauthenticate and try again.",
  ],
  [
    "auth",
    daemon(500, 'error parsing HTTP 403 response body: unexpected end of JSON input: ""'),
    "error parsing HTTP 403 response body: unexpected end of JSON input",
  ],
  // containerd (k3s, nerdctl)
  ["auth", `${CTR}: 403 Forbidden`, "403 Forbidden"],
  ["auth", `${CTR}: 401 Unauthorized`, "401 Unauthorized"],
  ["rate-limited", `${CTR}: 429 Too Many Requests`, "429 Too Many Requests"],
  ["registry", `${CTR}: 503 Service Unavailable`, "503 Service Unavailable"],
  [
    "auth",
    'failed to resolve reference "ghcr.io/o/i:1": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized',
    "401 Unauthorized",
  ],
  [
    "auth",
    'failed to resolve reference "r/x:1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
    undefined,
    true,
  ],
  ["not-found", 'failed to resolve reference "r/x:1": r/x:1: not found', "not found"],
  // not found
  [
    "not-found",
    daemon(404, "manifest for x:1 not found: manifest unknown: manifest unknown"),
    "manifest for x:1 not found: manifest unknown: manifest unknown",
  ],
  ["not-found", daemon(404, "manifest for x:1 not found: unauthorized-app"), "manifest for x:1 not found: unauthorized-app"],
  ["not-found", registry(404, "manifest unknown", "MANIFEST_UNKNOWN"), "manifest unknown"],
  ["not-found", registry(404, "repository name not known to registry", "NAME_UNKNOWN"), "repository name not known to registry"],
  [
    "not-found",
    { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }] },
    "repository name not known to registry",
  ],
  ["not-found", { errors: [{ code: "BLOB_UNKNOWN", message: "" }] }, "BLOB_UNKNOWN"],
  ["not-found", daemon(404, "No such image: cluster:dev"), "No such image: cluster:dev"],
  // network
  [
    "network",
    daemon(500, 'Get "https://r/v2/": dial tcp 127.0.0.1:1: connect: connection refused'),
    "dial tcp 127.0.0.1:1: connect: connection refused",
  ],
  ["network", daemon(500, 'Get "https://r/v2/": net/http: TLS handshake timeout'), "TLS handshake timeout"],
  ["network", daemon(500, 'Get "https://r/v2/": dial tcp 10.0.0.1:443: i/o timeout'), "dial tcp 10.0.0.1:443: i/o timeout"],
  ["network", daemon(500, 'Get "https://nosuch.example/v2/": dial tcp: lookup nosuch.example on 127.0.0.53:53: no such host'), undefined],
  [
    "network",
    daemon(500, 'Get "https://auth.docker.io/token?scope=x": dial tcp: lookup auth.docker.io: no such host: unauthorized'),
    undefined,
  ],
  [
    "network",
    daemon(500, 'Get "https://r/v2/": x509: certificate signed by unknown authority'),
    "x509: certificate signed by unknown authority",
  ],
  ["network", daemon(500, 'Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client'), undefined],
  ["network", stream("read tcp 172.17.0.2:40000->1.2.3.4:443: read: connection reset by peer"), undefined],
  ["network", node("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5000"), "connect ECONNREFUSED 127.0.0.1:5000"],
  ["network", node("ECONNRESET", "socket hang up"), "socket hang up"],
  ["network", node("ETIMEDOUT", "connect ETIMEDOUT 10.0.0.1:443"), undefined],
  ["network", node("ENOTFOUND", "getaddrinfo ENOTFOUND nosuch.example"), undefined],
  ["network", node("EAI_AGAIN", "getaddrinfo EAI_AGAIN registry"), undefined],
  ["network", node("UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error"), undefined],
  ["network", node("UND_ERR_SOCKET", "other side closed"), undefined],
  ["network", node("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"), undefined],
  ["network", node("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), undefined],
  [
    "network",
    new TypeError("fetch failed", { cause: node("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1") }),
    "connect ECONNREFUSED 127.0.0.1:1",
  ],
  ["network", { status: 401, code: "ECONNRESET", message: "socket hang up" }, undefined],
  // registry
  ["registry", daemon(500, "received unexpected HTTP status: 502 Bad Gateway"), "502 Bad Gateway"],
  ["registry", daemon(500, "something broke inside the registry"), "something broke inside the registry"],
  // A corrupted layer (dockerd 20.10, seen through the world's fault proxy): the registry's fault, retryable.
  ["integrity", stream("filesystem layer verification failed for digest sha256:" + "ab".repeat(32)), undefined],
  [
    "integrity",
    stream(
      'failed commit on ref "layer-sha256:' +
        "ab".repeat(32) +
        '": unexpected commit digest sha256:' +
        "cd".repeat(32) +
        ", expected sha256:" +
        "ab".repeat(32) +
        ": failed precondition",
    ),
    undefined,
  ],
  ["registry", registry(503, "Service Unavailable"), "Service Unavailable"],
  ["registry", registry(400, "manifest invalid", "MANIFEST_INVALID"), "manifest invalid"],
  // platform
  [
    "platform",
    daemon(404, "no matching manifest for linux/arm64/v8 in the manifest list entries"),
    "no matching manifest for linux/arm64/v8 in the manifest list entries",
  ],
  [
    "platform",
    daemon(
      404,
      "image with reference team/tiny:1 was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64",
    ),
    undefined,
  ],
  ["platform", stream("image architecture mismatch: wanted arm64, got amd64"), undefined],
  // anchoring: the auth word must be the registry's, not part of a name
  ["other", "the tag unauthorized-app could not be used", undefined],
  ["other", "copying unauthorized content failed", undefined],
  ["other", "invalid status code from registry 403 (Forbidden) was the name of a test", undefined],
  ["other", "errors:\nunauthorized-app could not be tagged\n", undefined],
  ["other", "", undefined],
  ["other", 42, undefined],
  ["other", null, undefined],
  // registry client errors with only a status
  ["auth", registry(401, ""), "HTTP 401"],
  ["auth", registry(403, "forbidden"), "forbidden", true],
  ["rate-limited", registry(429, ""), "HTTP 429"],
  ["rate-limited", registry(undefined, "slow down", "TOOMANYREQUESTS"), "slow down"],
  ["auth", registry(undefined, "authentication required", "UNAUTHORIZED"), "authentication required"],
  // our own errors: their kind wins
  ["auth", new PullbackError("auth", "denied"), "denied", true],
  ["not-found", new PullbackError("not-found", "unauthorized"), "unauthorized"],
  // Our own errors keep their kind: the same word from where they arose to the exit code.
  [
    "daemon-unreachable",
    new PullbackError("daemon-unreachable", "cannot reach the Docker daemon at unix:///var/run/docker.sock"),
    undefined,
  ],
  ["integrity", new PullbackError("integrity", "blob sha256:ab… has the wrong digest"), undefined],
  ["limit", new PullbackError("limit", "manifest larger than 4 MiB"), undefined],
  ["reference", new PullbackError("reference", 'invalid image reference "X"'), undefined],
  ["auth", new PullbackError("auth", PULL_ACCESS), undefined, true],
];

describe("classifyPullError", () => {
  it.each(rows.map((row, i) => [i, describeInput(row[1]), ...row] as const))("#%i %s", (_i, _label, kind, input, reason, ambiguous) => {
    const result = classifyPullError(input);
    expect(result.kind).toBe(kind);
    if (reason !== undefined) expect(result.reason).toBe(reason);
    expect(result.ambiguousNotFound).toBe(ambiguous ?? false);
    expect(result.reason).not.toBe("");
  });

  it("has a row for every recorded podman failure", () => {
    expect([...podmanCases].sort()).toEqual(Object.keys(PODMAN).sort());
  });

  it("never calls a rate limit or a network failure auth, whatever the status", () => {
    for (const status of [401, 403, 500]) {
      expect(classifyPullError(registry(status, HUB_RATE)).kind).toBe("rate-limited");
      expect(classifyPullError(registry(status, 'Get "https://r/v2/": dial tcp 127.0.0.1:1: connect: connection refused')).kind).toBe(
        "network",
      );
    }
  });

  it("lets the message decide over dockerd's HTTP 500", () => {
    expect(classifyPullError(daemon(500, "unauthorized: authentication required")).kind).toBe("auth");
    expect(classifyPullError(daemon(500, "manifest unknown")).kind).toBe("not-found");
    expect(classifyPullError(daemon(500, "whatever")).kind).toBe("registry");
  });

  it("keeps secrets out of the reason", () => {
    const cases: ReadonlyArray<readonly [unknown, ErrorKind]> = [
      [daemon(500, 'Get "https://bob:hunter2@r.example/token?access_token=s3cret&scope=x": unexpected EOF'), "network"],
      ['Head "https://bob:hunter2@r.example/v2/x/manifests/1?token=s3cret": 503 Service Unavailable', "registry"],
      ["unauthorized: https://bob:hunter2@r.example/v2/?token=s3cret", "auth"],
      ["unauthorized: Authorization: Basic Ym9iOmh1bnRlcjI= was refused", "auth"],
      ["failed to fetch: Bearer abc.def.ghi.s3cret was rejected", "other"],
      [registry(502, "proxy said https://bob:hunter2@r.example/?sig=s3cret"), "registry"],
    ];
    for (const [input, kind] of cases) {
      const result = classifyPullError(input);
      expect(result.kind).toBe(kind);
      for (const secret of ["hunter2", "s3cret", "Ym9iOmh1bnRlcjI="]) expect(result.reason).not.toContain(secret);
    }
    expect(classifyPullError("unauthorized: https://bob:hunter2@r.example/v2/?token=s3cret").reason).toContain("r.example");
  });

  // Its speed is bench row 12's: a timing here would flake on a loaded machine.
  it("classifies a huge message and keeps its reason short", () => {
    const result = classifyPullError(`manifest unknown ${"y".repeat(100_000)}`);
    expect(result.kind).toBe("not-found");
    expect(result.reason.length).toBeLessThanOrEqual(TEXT_LIMIT + 1);
    expect(classifyPullError(`${"a: ".repeat(50_000)}${"x".repeat(100_000)}`).reason.length).toBeLessThanOrEqual(TEXT_LIMIT + 1);
    // Only the head and tail of a huge message are read: a Go error chain ends with its root cause.
    expect(classifyPullError(`Get "https://r.example/v2/": ${"x".repeat(100_000)}: dial tcp: lookup r.example: no such host`).kind).toBe(
      "network",
    );
  });
});

function describeInput(input: unknown): string {
  const text = input instanceof Error ? `${input.constructor.name}: ${input.message}` : (JSON.stringify(input) ?? String(input));
  return text.length > 90 ? `${text.slice(0, 90)}…` : text;
}
