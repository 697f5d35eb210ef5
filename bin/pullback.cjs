#!/usr/bin/env node
// The CLI is one CommonJS bundle, dist/cli/pullback.cjs (or its route's own: check.cjs, pull-daemon.cjs),
// compiled through V8's code cache by dist/cli/launch.cjs (src/cli/launch/); this file only points it at
// the bundle.
"use strict";
const { join } = require("node:path");
const { argv } = require("node:process");
const { launch, cliBundle } = require("../dist/cli/launch.cjs");

void launch(cliBundle(join(__dirname, "..", "dist", "cli"), argv.slice(2)));
