/**
 * docs/cli.md's `--json` kind lists and exit codes against the code: the same sets,
 * and each kind's exit code as the CLI maps it. (The emitted lines themselves are checked
 * against the field table in json-schema.int.test.ts, against the real world.)
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { ExitCode, exitCodeFor } from "../../src/cli/exit-codes.js";
import type { FailureKind } from "../../src/fallback/classification.js";
import { PullbackError, type ErrorKind } from "../../src/errors.js";
import { readJsonSchemaDoc, unionMembers } from "./json-schema-doc.js";

const doc = readJsonSchemaDoc();

describe("docs/cli.md --json schema", () => {
  it("lists exactly the ErrorKind union of src/errors.ts as error kinds", () => {
    expect([...doc.errorKinds.keys()].sort()).toEqual([...unionMembers("src/errors.ts", "ErrorKind")].sort());
  });

  it("gives each error kind the exit code the CLI uses", () => {
    for (const [kind, code] of doc.errorKinds) {
      expect(code, `${kind} has an exit code in the list`).toBeDefined();
      expect(exitCodeFor(new PullbackError(kind as ErrorKind, "x")), `exit code of ${kind}`).toBe(code);
    }
  });

  it("says attempt failures carry the error kinds, as the types do", () => {
    expectTypeOf<FailureKind>().toEqualTypeOf<ErrorKind>();
    expect(doc.attemptKindsText).toMatch(/same error kinds as above/);
  });

  it("has one exit code row per ExitCode value", () => {
    expect([...doc.exitCodes].sort((a, b) => a - b)).toEqual([...new Set(Object.values(ExitCode))].sort((a, b) => a - b));
  });

  it("documents every line type, with fields for each", () => {
    const types = [
      "attempt-started",
      "layer",
      "warning",
      "attempt-failed",
      "done",
      "outcome (pull)",
      "outcome (check)",
      "outcome (cluster-config)",
      "summary",
      "error",
    ];
    expect([...doc.fields.keys()].sort()).toEqual(types.sort());
    for (const type of types) expect(doc.fields.get(type)?.length ?? 0).toBeGreaterThan(0);
  });
});
