import { defineConfig } from 'vitest/config';
import { ISOLATED } from './vitest.isolated.config.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run alone afterwards by `npm test` (vitest.isolated.config.ts).
    exclude: ISOLATED,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
