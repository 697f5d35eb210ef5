/** Moved to test/support/run-cli.ts; kept so tests written against this path still import. */
export * from "../support/run-cli.js";
