/** Moved to test/support/pull-helpers.ts; kept so tests written against this path still import. */
export * from "../../support/pull-helpers.js";
