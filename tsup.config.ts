import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  // Not shipped (package.json "files"): users debug tscnn's sources through tsx, not the bundle.
  sourcemap: false,
  clean: true,
  // gpu.js parses kernel source text: minifiers and keepNames break kernels.
  minify: false,
  keepNames: false,
  target: 'node20',
  platform: 'node',
});
