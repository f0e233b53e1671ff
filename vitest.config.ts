import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against sources so that a change is tested without a rebuild.
    alias: {
      '@tpvjs/tensor': src('tensor'),
      '@tpvjs/t5': src('t5'),
      '@tpvjs/tpv': src('tpv'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
