import { describe, expect, it } from "vitest";
import { exitCodeForSet, type SetItemResult } from "../../src/cli/exit-codes.js";
import { PullbackError, type ErrorKind } from "../../src/errors.js";

const ok = (fellBack = false): SetItemResult => ({ ok: true, fellBack });
const failed = (kind: ErrorKind, reason?: string): SetItemResult => ({ ok: false, error: new PullbackError(kind, "x", { reason }) });
const code = (items: SetItemResult[], failOnFallback = false): number => exitCodeForSet(items, { failOnFallback });

describe("the exit code of a set", () => {
  it("is 0 when every item is there, fallbacks included", () => {
    expect(code([ok(), ok(true)])).toBe(0);
  });

  it("is the failures' code when they share a kind", () => {
    expect(code([ok(), failed("not-found"), failed("not-found")])).toBe(4);
    expect(code([failed("auth"), ok()])).toBe(3);
    expect(code([failed("io")])).toBe(8);
  });

  it("is 1 when the kinds are mixed", () => {
    expect(code([failed("not-found"), failed("auth")])).toBe(1);
    expect(code([failed("platform"), ok(), failed("io")])).toBe(1);
  });

  it("treats kinds that share a code as one (network, registry, rate limit: 5)", () => {
    expect(code([failed("network"), failed("registry"), failed("rate-limited")])).toBe(5);
  });

  it("leaves out items cancelled or not written because another failed", () => {
    expect(code([failed("not-found"), failed("other", "cancelled"), failed("other", "not-written")])).toBe(4);
    expect(code([failed("auth"), failed("io", "not-written")])).toBe(3);
    // An aborted set with nothing failing in its own right: no kind to name.
    expect(code([ok(), failed("other", "cancelled")])).toBe(1);
  });

  it("applies --fail-on-fallback to the set: 6 when any item fell back and nothing failed", () => {
    expect(code([ok(), ok(true)], true)).toBe(6);
    expect(code([ok(), ok()], true)).toBe(0);
    expect(code([ok(true), failed("not-found")], true)).toBe(4);
  });
});
