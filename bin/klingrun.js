#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npx klingrun` works right after `npm install`
// with no build step. tsx is resolved relative to this file, not the caller's folder.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
