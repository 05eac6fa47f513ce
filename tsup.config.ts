import { defineConfig } from 'tsup';

export default defineConfig({
  // The decoding pool's worker is started by file name, so it is an entry of its own.
  entry: { index: 'src/index.ts', 'decode-worker': 'src/data/decode-worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // gpu.js parses kernel source text: minifiers and keepNames break kernels.
  minify: false,
  keepNames: false,
  target: 'node20',
  platform: 'node',
});
