import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

// The browser bundle takes, in place of a module with Node built-ins, its `.browser.ts` sibling
// (the engine's platform: Web Workers; PNG: the browser's decoder), and for the Node-only WebGPU
// worker host a module whose Node functions throw. Any other Node built-in fails the build.
const SWAPPED = /^\.\.?\/(.*\/)?(platform|png-codec)\.js$/;
const browserSwaps: Plugin = {
  name: 'tscnn-browser-swaps',
  setup(b) {
    b.onResolve({ filter: SWAPPED }, (args) => ({ path: join(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts')) }));
    // gpu.js loads on `await loadGpuBackend()` (src/backend/gpu/gpujs.ts) from its own file beside the bundle.
    b.onResolve({ filter: /^gpu\.js$/ }, () => ({ path: './gpujs.browser.js', external: true }));
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (!args.importer.endsWith(join('src', 'backend', 'gpu', 'webgpu-worker.ts'))) {
        return { errors: [{ text: `${args.path} imported by ${args.importer}: the browser bundle takes no Node built-in` }] };
      }
      return { path: join(dirname(args.importer), '..', '..', 'util', 'node-stub.browser.ts') };
    });
  },
};

/**
 * The "browser" export (dist/index.browser.js), the engine's Web Worker entry beside it
 * (src/backend/wasm/platform.browser.ts starts ./wasm-worker.browser.js) and gpu.js for the gpu
 * backend (./gpujs.browser.js: gpu.js' own minified browser build as an ES module, fetched by
 * `loadGpuBackend()` only): ESM, self-contained but for what import() loads only when asked for
 * (sharp, protobufjs: the page or its bundler provides them).
 */
export async function buildBrowser(outdir = 'dist'): Promise<void> {
  await build({
    entryPoints: { 'index.browser': 'src/index.ts', 'wasm-worker.browser': 'src/backend/wasm/worker-browser.ts' },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // gpu.js parses kernel source text: no minifying.
    minify: false,
    external: ['sharp', 'protobufjs/light.js'],
    plugins: [browserSwaps],
    logLevel: 'warning',
  });
  // gpu.js' UMD script as an ES module (`export default GPU`; its kernel classes are the constructor's
  // statics), minified as gpu.js ships it: the gpu backend checks kernel classes by identity, not by
  // name. Only whitespace is minified again (esbuild would print it out in full).
  await build({
    entryPoints: { 'gpujs.browser': 'node_modules/gpu.js/dist/gpu-browser.min.js' },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minifyWhitespace: true,
    logLevel: 'warning',
  });
}

export default defineConfig({
  // The worker thread entries sit beside the bundle: src/backend/wasm/platform.ts starts
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
  // After dist/ is cleaned and the Node bundles are written.
  onSuccess: () => buildBrowser(),
});
