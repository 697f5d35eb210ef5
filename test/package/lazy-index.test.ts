/**
 * dist/index.js is built from src/lazy-index.ts (scripts/bundle.ts), dist/index.d.ts from
 * src/index.ts: the two must export the same values, and a lazy entry point must behave as
 * the function it stands for — same name, same validation, same result.
 */
import { describe, expect, it } from "vitest";
import * as api from "../../src/index.js";
import * as lazy from "../../src/lazy-index.js";
import { PullbackError } from "../../src/errors.js";

describe("src/lazy-index.ts", () => {
  it("exports exactly the values of src/index.ts, with their types", () => {
    const typed: typeof api = lazy; // a compile-time check: every export, every signature
    expect(Object.keys(typed).sort()).toEqual(Object.keys(api).sort());
  });

  it("re-exports the synchronous exports themselves, so instanceof and identity hold", () => {
    for (const name of ["PullbackError", "PullError", "Credential", "parseReference", "classifyPullError", "readRegistriesConfig"] as const)
      expect(lazy[name]).toBe(api[name]);
  });

  it("keeps each lazy entry point's name and rejects bad input as the real one does", async () => {
    const lazyOnes = Object.keys(lazy).filter((name) => lazy[name as keyof typeof lazy] !== api[name as keyof typeof api]);
    expect(lazyOnes.sort()).toEqual(
      [
        "connectDocker",
        "ensureImage",
        "ensureImages",
        "pullImage",
        "pullImages",
        "pullRemoteImage",
        "pullRemoteImages",
        "pullWithFallback",
        "renderPullSecret",
        "resolveCredentials",
        "verifyCredentials",
        "writeRegistriesConfig",
      ].sort(),
    );
    for (const name of lazyOnes) {
      const real = api[name as keyof typeof api] as (...args: unknown[]) => Promise<unknown>;
      const stand = lazy[name as keyof typeof lazy] as (...args: unknown[]) => Promise<unknown>;
      expect(stand.name).toBe(name);
      const [a, b] = await Promise.allSettled([real(42, 42), stand(42, 42)]);
      expect(a.status).toBe("rejected");
      expect(b.status).toBe("rejected");
      const reasons = [a, b].map((r) => (r.status === "rejected" ? (r.reason as PullbackError) : undefined));
      expect(reasons[1]).toBeInstanceOf(PullbackError);
      expect(reasons[1]?.message).toBe(reasons[0]?.message);
    }
  });
});
