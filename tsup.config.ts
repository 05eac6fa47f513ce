import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker thread entries sit beside the bundle: src/backend/wasm/engine.ts starts
  // ./wasm-worker.js (ESM) or ./wasm-worker.cjs (CJS) from the directory of the running bundle,
  // src/backend/gpu/webgpu-worker.ts ./webgpu-worker.js or .cjs; the decoding pool
  // (src/data/decode-pool.ts) ./decode-worker.js or .cjs.
  entry: {
    index: 'src/index.ts',
    'wasm-worker': 'src/backend/wasm/worker.ts',
    'webgpu-worker': 'src/backend/gpu/webgpu-device-worker.ts',
    'decode-worker': 'src/data/decode-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // Not shipped (package.json "files"): users debug tscnn's sources through tsx, not the bundle.
  sourcemap: false,
  clean: true,
  // import.meta.url in the CJS build (where the engine finds its worker entry).
  shims: true,
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
