import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifyPullError } from "../../src/fallback/classification.js";

// What the world's real dockerd answered (test/world records these and pins them in
// test/fixtures/dockerd-messages.json): the classifier must read each the way the fallback needs.
const recorded = JSON.parse(readFileSync(new URL("../fixtures/dockerd-messages.json", import.meta.url), "utf8")) as Record<
  string,
  { status: number; message: string }
>;

const expected: Record<string, { kind: string; ambiguousNotFound: boolean }> = {
  // "denied" for a valid account: the token service would say the same for a repository that does not exist.
  bobPublicOnTokenRegistry: { kind: "auth", ambiguousNotFound: true },
  wrongPasswordOnTokenRegistry: { kind: "auth", ambiguousNotFound: false },
  bobOnEmptyAccessRegistry: { kind: "auth", ambiguousNotFound: true },
  anonymousPrivateOnTokenRegistry: { kind: "auth", ambiguousNotFound: true },
  wrongPasswordOnBasicRegistry: { kind: "auth", ambiguousNotFound: false },
  anonymousOnBasicRegistry: { kind: "auth", ambiguousNotFound: false },
  missingRepoWithAlice: { kind: "not-found", ambiguousNotFound: false },
};

describe("classification of the messages dockerd 20.10 returned in the world", () => {
  it("has an expectation for every recorded case", () => {
    expect(Object.keys(recorded).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(recorded))("%s", (name, { status, message }) => {
    const classification = classifyPullError({ statusCode: status, json: { message: message.replaceAll("<registry>", "127.0.0.1:5101") } });
    expect({ kind: classification.kind, ambiguousNotFound: classification.ambiguousNotFound }).toEqual(expected[name]);
  });
});

describe("the reason of a registry's own answer", () => {
  it("reads like dockerd's: code, then the registry's words — not our wrapper around them", async () => {
    const { RegistryResponseError } = await import("../../src/registry/registry-error.js");
    const error = new RegistryResponseError(
      "auth",
      "token request to http://127.0.0.1:1/token: token service answered HTTP 403: requested access to the resource is denied",
      {
        status: 403,
        codes: ["DENIED"],
        registryMessage: "requested access to the resource is denied",
        source: "token-service",
      },
    );
    expect(classifyPullError(error)).toMatchObject({
      kind: "auth",
      reason: "denied: requested access to the resource is denied",
      ambiguousNotFound: true,
    });
  });
});
