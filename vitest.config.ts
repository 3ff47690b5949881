import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    setupFiles: ['test/helpers/dom-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Vitest's default (cores − 1) is one file at a time on a 2-core machine, where much of the
    // suite waits on Chromium, servers and PostgreSQL: two files at once take 409 s instead of 746.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
