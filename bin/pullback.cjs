#!/usr/bin/env node
// The CLI is one CommonJS bundle, dist/cli/pullback.cjs, compiled through V8's code cache by
// dist/cli/launch.cjs (src/cli/launch/); this file only points it at the bundle.
"use strict";
const { join } = require("node:path");
const { launch } = require("../dist/cli/launch.cjs");

void launch(join(__dirname, "..", "dist", "cli", "pullback.cjs"));
