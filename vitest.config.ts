import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: two forks keep the memory-bound tests honest and the suite fast.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // clipanion's .mjs files import a folder (lib/platform), which Node's ESM loader refuses; letting
    // Vite transform it resolves that import the way Node's CommonJS loader does at run time.
    server: { deps: { inline: ['clipanion'] } },
    // Limits that catch a hang, never a slow machine: no test depends on speed (unit tests train tiny
    // models on tiny data; the fixture audits in test/integration take about a minute on a busy
    // 2-core machine and have ten). A test that needs longer says so itself.
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
