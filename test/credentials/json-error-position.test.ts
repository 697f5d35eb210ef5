import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonErrorPosition } from "../../src/credentials/json-error-position.js";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("jsonErrorPosition", () => {
  it("finds no error in any JSON that JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, "\t"), (value, indent) => {
        expect(jsonErrorPosition(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
  });

  it("agrees with JSON.parse on which texts are valid", () => {
    const jsonish = fc.string({ unit: fc.constantFrom(...'{}[]:,"\\ \n0123456789-+.eEtruefalsn/bu'), maxLength: 24 });
    fc.assert(
      fc.property(
        fc.oneof(
          jsonish,
          fc.json().map((j) => j.slice(0, -1)),
          fc.string(),
        ),
        (text) => {
          expect(jsonErrorPosition(text) === undefined).toBe(parses(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['{"a": }', { offset: 6, line: 1, column: 7 }],
    ['{"a": 1,}', { offset: 8, line: 1, column: 9 }],
    ['{\n  "a": 1\n  "b": 2\n}', { offset: 13, line: 3, column: 3 }],
    ["", { offset: 0, line: 1, column: 1 }],
    ['{"a": "x', { offset: 8, line: 1, column: 9 }],
    ["[1] x", { offset: 4, line: 1, column: 5 }],
  ])("locates the error in %j", (text, position) => {
    expect(jsonErrorPosition(text)).toEqual(position);
  });

  it("gives up quietly on nesting deeper than the stack", () => {
    expect(jsonErrorPosition("[".repeat(200_000))).toBeUndefined();
  });
});
