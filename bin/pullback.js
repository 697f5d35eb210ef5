#!/usr/bin/env node
// The whole CLI is a function in dist/cli/main.js; this file only wires it to the process.
import process from "node:process";
import { main } from "../dist/cli/main.js";

const { stdout, stderr, stdin, env } = process;
process.exitCode = await main(process.argv.slice(2), { stdout, stderr, stdin, env });
