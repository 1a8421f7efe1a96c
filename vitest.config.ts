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
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
