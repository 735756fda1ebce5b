import { defineConfig } from 'vitest/config';

/**
 * Tests that measure the hub's responsiveness (test/attack-stall.test.ts: /healthz within 100 ms
 * while a 60 MB import runs) run alone, after the suite: beside another test file on a 2-core
 * machine they would measure that file's load, not the hub's.
 */
export const ISOLATED = ['test/attack-stall.test.ts'];

export default defineConfig({
  test: {
    include: ISOLATED,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
