/**
 * The message of the usage error `fn` throws; fails the test when it throws nothing or something else.
 */
import { isPullbackError } from "../../src/errors.js";

/** @example expect(usageMessage(() => planPull({ jobs: "0" }))).toContain("--jobs") */
export function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isPullbackError(error, "usage")) return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}
