/** Moved to test/support/stub-server.ts; kept so tests written against this path still import. */
export * from "../support/stub-server.js";
