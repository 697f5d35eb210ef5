import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { errorLine } from "../../src/cli/output/json-reporter.js";
import { Credential } from "../../src/credentials/credential.js";
import { PullbackError } from "../../src/errors.js";
import type { PullEvent } from "../../src/events.js";
import { PullError } from "../../src/fallback/pull-outcome.js";
import { pullWithFallback } from "../../src/fallback/pull-with-fallback.js";

// The policy's decisions in isolation; the integration tests prove them against dockerd.
const SECRET = "s3cret-sentinel-9f2c";
const token = Credential.basic("__token__", SECRET, { type: "env", secretVariable: "PULLBACK_REGISTRY_TOKEN" });
const daemonError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode, json: { message } });

async function run(failures: Error[], credential: Credential | undefined, fallback?: boolean) {
  const events: PullEvent[] = [];
  const seen: (Credential | undefined)[] = [];
  const result = pullWithFallback(
    (cred) => {
      seen.push(cred);
      const failure = failures.shift();
      return failure ? Promise.reject(failure) : Promise.resolve({ digest: "sha256:abc" });
    },
    {
      image: "r.example/app:1",
      registry: "r.example",
      credential,
      onEvent: (e) => events.push(e),
      ...(fallback === undefined ? {} : { fallback }),
    },
  );
  return {
    result: await result.then(
      (v) => ({ ok: v }),
      (e: unknown) => ({ error: e }),
    ),
    events,
    seen,
  };
}

describe("pullWithFallback", () => {
  it("retries once anonymously when the credential is refused, and warns naming the source", async () => {
    const { result, events, seen } = await run([daemonError(500, 'Head "http://r/v2/public/app/manifests/1": denied')], token);
    expect(seen).toEqual([token, undefined]);
    expect("ok" in result && result.ok.fellBack).toBe(true);
    const warning = events.find((e) => e.type === "warning");
    expect(warning?.type === "warning" && warning.message).toMatch(/token from PULLBACK_REGISTRY_TOKEN was refused by r\.example: denied/);
    expect(events.map((e) => e.type)).toEqual(["attempt-started", "attempt-failed", "warning", "attempt-started", "done"]);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it.each([
    ["not found", daemonError(404, "manifest for r/app:1 not found: manifest unknown: manifest unknown"), "not-found"],
    ["rate limit", daemonError(500, "toomanyrequests: You have reached your pull rate limit."), "rate-limited"],
    ["network", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), "network"],
    ["registry 5xx", daemonError(500, "received unexpected HTTP status: 502 Bad Gateway"), "registry"],
  ])("never falls back on %s", async (_name, failure, kind) => {
    const { result, seen } = await run([failure], token);
    expect(seen).toHaveLength(1);
    expect("error" in result && result.error instanceof PullError && result.error.kind).toBe(kind);
  });

  it("does not retry when no credential was sent", async () => {
    const { result, seen } = await run([daemonError(500, "unauthorized: authentication required")], undefined);
    expect(seen).toEqual([undefined]);
    const error = "error" in result ? (result.error as PullError) : undefined;
    expect(error?.kind).toBe("auth");
    expect(error?.attempts).toHaveLength(1);
    expect(error?.diagnosis.steps.some((s) => s.command?.startsWith("docker login r.example"))).toBe(true);
  });

  it("does not retry when fallback is off", async () => {
    const { result, seen } = await run([daemonError(500, "unauthorized: incorrect username or password")], token, false);
    expect(seen).toHaveLength(1);
    expect("error" in result && (result.error as PullError).diagnosis.explanation).toMatch(/switched off/);
  });

  it("reports auth with both attempts when the anonymous retry is refused too, without the secret", async () => {
    const ambiguous = daemonError(
      404,
      "pull access denied for r/private/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    );
    const { result } = await run([daemonError(500, 'Head "http://r/v2/private/app/manifests/1": denied'), ambiguous], token);
    const error = (result as { error: PullError }).error;
    expect(error.kind).toBe("auth");
    expect(error.attempts.map((a) => a.identity.anonymous)).toEqual([false, true]);
    expect(`${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.diagnosis)}`).not.toContain(SECRET);
  });

  it("says exactly what an ambiguous refusal means, with one kind on every attempt and at the end", async () => {
    const ambiguous = () =>
      daemonError(
        404,
        "pull access denied for nope, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      );
    const { result } = await run([ambiguous(), ambiguous()], token);
    const error = (result as { error: PullError }).error;
    expect(error.kind).toBe("auth");
    expect(error.reason).toBe("not-found-or-denied");
    expect(error.diagnosis.summary).toMatch(/was not found, or these credentials may not read it$/);
    expect(error.attempts.map((a) => a.failure?.kind)).toEqual(["auth", "auth"]);
  });

  it("keeps auth when the credentials themselves were wrong, however the anonymous retry was refused", async () => {
    const ambiguous = daemonError(
      404,
      "pull access denied for nope, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    );
    const { result } = await run([daemonError(500, "unauthorized: incorrect username or password"), ambiguous], token);
    const error = (result as { error: PullError }).error;
    expect(error.reason).toBeUndefined();
    expect(error.diagnosis.summary).toMatch(/^Access to .* was refused$/);
  });

  it("keeps the kind, reason and diagnosis of an error raised inside an attempt (a TLS failure, a full disk)", async () => {
    const diagnosis = {
      summary: "127.0.0.1:5443 presented a certificate signed by an unknown authority",
      explanation: "x",
      steps: [],
      retryable: false,
    };
    const inner = new PullbackError("network", "TLS handshake with 127.0.0.1:5443 failed", { reason: "tls-unknown-ca", diagnosis });
    const events: PullEvent[] = [];
    const error = await pullWithFallback(() => Promise.reject(inner), {
      image: "r/app:1",
      registry: "r",
      credential: undefined,
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullError);
    expect(error).toMatchObject({ kind: "network", reason: "tls-unknown-ca", diagnosis });
    expect(events.find((e) => e.type === "attempt-failed")).toMatchObject({ kind: "network", reason: "tls-unknown-ca" });
    expect(exitCodeFor(error)).toBe(5);
    expect(errorLine(error)).toMatchObject({ kind: "network", reason: "tls-unknown-ca", diagnosis });
  });

  it("ignores a listener that throws", async () => {
    const outcome = await pullWithFallback(() => Promise.resolve({ digest: undefined }), {
      image: "x",
      registry: "r",
      credential: undefined,
      onEvent: () => {
        throw new Error("display broke");
      },
    });
    expect(outcome.attempts).toHaveLength(1);
  });
});
