import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the web pages in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core). Without the browser these tests fail; they never skip.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
