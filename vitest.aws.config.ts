import { defineConfig } from 'vitest/config';

// `npm run test:aws`: integration tests against moto (started by the global setup) and a local
// CodePipeline stub. They share one moto server, so files run one after another.
export default defineConfig({
  test: {
    include: ['test/aws/**/*.test.ts'],
    globalSetup: ['test/aws/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
