import { defineConfig } from 'vitest/config';

// `npm test`: everything that needs nothing but Node. AWS (moto) and browser suites have their own configs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/aws/**', 'test/browser/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
