import { defineConfig } from 'vitest/config';

import FailOnSkip from './test/support/fail-on-skip.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env['CI'] === 'true' ? ['default', new FailOnSkip()] : ['default'],
  },
});
