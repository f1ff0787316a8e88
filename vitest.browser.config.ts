// `npm run test:browser`: the gallery in a real headless Chromium (Debian's package, driven by
// puppeteer-core). Kept out of `npm test`, whose config matches only test/**/*.test.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
