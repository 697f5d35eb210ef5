import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifyPullError } from "../../src/fallback/classification.js";

// What the world's real dockerd answered (test/world records these and pins them in
// test/fixtures/dockerd-messages.json): the classifier must read each the way the fallback needs.
const recorded = JSON.parse(readFileSync(new URL("../fixtures/dockerd-messages.json", import.meta.url), "utf8")) as Record<string, { status: number; message: string }>;

const expected: Record<string, { kind: string; ambiguousNotFound: boolean }> = {
  bobPublicOnTokenRegistry: { kind: "auth", ambiguousNotFound: false },
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
