#!/usr/bin/env node
// The whole CLI is a function in dist/cli/main.js; this file only wires it to the process.
/* global process -- the global, not node:process: importing that builds its ESM namespace (~5 ms) */
import { main } from "../dist/cli/main.js";

const { stdout, stderr, stdin, env } = process;
process.exitCode = await main(process.argv.slice(2), { stdout, stderr, stdin, env });
