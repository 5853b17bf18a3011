import { defineConfig } from 'vitest/config';

// Two projects: `unit` (beside the code; no build, no Redis or Postgres, seconds) and
// `integration` (test/: real backends, built CLI, processes, browsers). `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // The container suite needs a Docker engine: `npm run test:deploy`.
          exclude: ['test/deploy/engine/**', '**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
