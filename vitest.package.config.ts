// `npm run test:package`: test/package.test.ts packs the tarball, installs it offline into an
// empty project (and globally with --prefix) and runs it there. It builds everything from a copy
// of the sources and installs ~35 packages twice, one to two minutes on two cores, so it runs on
// its own (CI runs it after `npm test`).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/package.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
