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
  // import.meta is empty in the CommonJS bundle; the only readers (moduleLocation in src/util/node-builtins.ts,
  // the WebGPU worker's paths) take __filename there first.
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
  },
  platform: 'node',
});
