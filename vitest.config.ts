import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'attacks/**/*.test.ts', 'defenses/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Off by default (so `npm test` pays nothing); `npm run coverage` turns it on with --coverage.
    // Every file under include counts, loaded or not (an unloaded file is 0 %). The AssemblyScript kernels are
    // compiled to build/*.wasm and never run as TypeScript, so they are left out.
    coverage: {
      enabled: false,
      provider: 'v8',
      include: ['src/**/*.ts', 'attacks/**/*.ts', 'defenses/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.d.ts', 'src/engine/assembly/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'out/coverage',
      // A failing test must not hide the measurement (vitest's default writes no report then).
      reportOnFailure: true,
    },
  },
});
