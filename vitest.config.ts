import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Packing and installing the tarball takes a minute: `npm run test:package`.
    exclude: [...configDefaults.exclude, 'test/package.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: forks keep child-process tests (SIGKILL suites) isolated from each other.
    pool: 'forks',
  },
});
