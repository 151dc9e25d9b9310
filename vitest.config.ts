import { defineConfig } from 'vitest/config';

// Two projects: SQL-level tests (test/db) run on PGlite *and* real PostgreSQL; everything
// else, and any file named *.pg.test.ts (races, several processes), runs on real PostgreSQL only.
// One engine: `npx vitest run --project pglite` or `--project postgres`.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/db/**/*.test.ts'],
          exclude: ['test/**/*.pg.test.ts'],
          env: { SLOTBASE_TEST_ENGINE: 'pglite' },
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          env: { SLOTBASE_TEST_ENGINE: 'postgres' },
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
