/**
 * The browser tests' own Vitest config (`npm run test:e2e`): Node environment, one platform
 * for all scenarios (global setup), files one after another, generous timeouts because the
 * platform replays real data before the first signal exists.
 */
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    environment: 'node',
    include: ['tests/e2e/**/*.e2e.ts'],
    globalSetup: ['tests/e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 300_000,
    teardownTimeout: 90_000,
  },
});
