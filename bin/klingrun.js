#!/usr/bin/env node
// The installed command: the compiled CLI in dist/. The package ships it built (`prepack` runs
// `npm run build`), so installing it runs no script. A clone has no install script either (npm
// warns about them on every install of the tarball): `npm start`, `npm test` and `npm pack` build
// dist/ first, and the first `npx klingrun` after `npm install` builds its JavaScript here.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
const build = new URL('../scripts/build.ts', import.meta.url);
if (!existsSync(cli) && existsSync(build)) {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(build), '--js'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
}
await import(cli.href);
