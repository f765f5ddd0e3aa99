import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // ink draws only the final frame when it believes it runs in CI; the dashboard tests look at live frames.
    env: {CI: 'false', CONTINUOUS_INTEGRATION: 'false'},
  },
});
