import { defineConfig } from 'vitest/config';

// The deploy suite (`npm run test:deploy`): real containers on a Docker engine, one test file
// at a time (each brings up a Compose project; the machine has few cores).
export default defineConfig({
  test: {
    include: ['test/deploy/engine/**/*.test.ts'],
    globalSetup: ['test/deploy/engine/setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
