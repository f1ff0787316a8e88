#!/usr/bin/env node
// The installed command: the compiled CLI in dist/ (built by `npm run build`, which `prepare` runs
// on `npm install` in a clone and before `npm pack`).
import '../dist/cli.js';
