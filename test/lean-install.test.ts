// The lean install: gpu.js is an optional peer dependency, loaded only by setBackend('gpu') or
// loadGpuBackend(); without it those calls name the install command. Importing tscnn loads neither
// gpu.js nor, outside the WebAssembly engine and the WebGPU worker, any Node built-in.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, loadGpuBackend, setBackend } from '../src/index.js';
import { GPU_INSTALL_COMMAND, setGpuJsLoader, type GpuJs } from '../src/backend/gpu/gpujs.js';

const root = resolve(import.meta.dirname, '..');

function notFound(code: string): Error {
  return Object.assign(new Error("Cannot find module 'gpu.js'"), { code });
}

function throwsWith(fn: () => unknown, parts: string[]): Error {
  try {
    fn();
  } catch (e) {
    const message = (e as Error).message;
    for (const part of parts) assert.ok(message.includes(part), `expected "${part}" in: ${message}`);
    return e as Error;
  }
  throw new Error('expected a throw');
}

test('setBackend(gpu) without gpu.js names the install command and keeps the active backend', () => {
  const before = setBackend('reference');
  setGpuJsLoader({ require: () => { throw notFound('MODULE_NOT_FOUND'); }, import: () => Promise.reject(notFound('ERR_MODULE_NOT_FOUND')) });
  try {
    for (const mode of ['webasm', 'headlessgl', 'webgpu', 'auto'] as const) {
      const err = throwsWith(() => setBackend('gpu', { mode }), ["setBackend('gpu')", 'gpu.js', GPU_INSTALL_COMMAND]);
      assert.is((err.cause as { code?: string }).code, 'MODULE_NOT_FOUND');
      assert.is(getBackend(), before);
    }
    // Option errors still come first: they do not depend on gpu.js.
    throwsWith(() => setBackend('gpu', { mode: 'webasm', bogus: 1 } as never), ["unknown option 'bogus'"]);
  } finally {
    setGpuJsLoader(null);
    setBackend('cpu');
  }
});

test('loadGpuBackend without gpu.js rejects naming the install command', async () => {
  setGpuJsLoader({ require: () => { throw notFound('MODULE_NOT_FOUND'); }, import: () => Promise.reject(notFound('ERR_MODULE_NOT_FOUND')) });
  try {
    let message = '';
    await loadGpuBackend().catch((e: Error) => (message = e.message));
    assert.ok(message.startsWith('loadGpuBackend:'), message);
    assert.ok(message.includes(GPU_INSTALL_COMMAND), message);
  } finally {
    setGpuJsLoader(null);
  }
});

test('a gpu.js that is installed but broken is reported as such, with its error as the cause', () => {
  const broken = new Error('gl.node: undefined symbol glXCreateContext');
  setGpuJsLoader({ require: () => { throw broken; }, import: () => Promise.reject(broken) });
  try {
    const err = throwsWith(() => setBackend('gpu', { mode: 'webasm' }), ['gpu.js is installed but failed to load', 'undefined symbol glXCreateContext']);
    assert.is(err.cause, broken);
  } finally {
    setGpuJsLoader(null);
    setBackend('cpu');
  }
});

test('loadGpuBackend preloads gpu.js with import(), and setBackend(gpu) then needs no require', async () => {
  const real = (await import('gpu.js')) as unknown as GpuJs;
  let imports = 0;
  setGpuJsLoader({
    require: () => { throw new Error('require must not be called after loadGpuBackend'); },
    import: async () => { imports++; return real; },
  });
  try {
    await loadGpuBackend();
    await loadGpuBackend();
    assert.is(imports, 1);
    const backend = setBackend('gpu', { mode: 'webasm' });
    assert.is(getBackend(), backend);
    // [1×2]·[2×2] on gpu.js' WebAssembly kernels: [1·3 + 2·5, 1·4 + 2·6].
    const y = backend.matmul(new Float32Array([1, 2]), new Float32Array([3, 4, 5, 6]), 1, 2, 2, false, false);
    assert.equal(Array.from(y), [13, 16]);
  } finally {
    setBackend('cpu');
    setGpuJsLoader(null);
  }
});

test('importing tscnn loads no gpu.js; setBackend(gpu) loads it', () => {
  const code = [
    "const { createRequire } = await import('node:module');",
    "const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/gpu.js/'));",
    "const m = await import('./src/index.ts');",
    'const before = loaded();',
    "m.setBackend('gpu', { mode: 'webasm' });",
    'console.log(JSON.stringify({ before, after: loaded() }));',
    "m.setBackend('cpu'); m.shutdownEngineThreads();",
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(JSON.parse(out.trim().split('\n').pop()!), { before: false, after: true });
});

/** Files reachable from src/index.ts that import Node built-ins at their top, by importer. */
async function topLevelBuiltins(): Promise<Record<string, string[]>> {
  const result = await build({
    entryPoints: [join(root, 'src/index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const out: Record<string, string[]> = {};
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    const builtins = input.imports.filter((i) => i.external && i.kind === 'import-statement' && i.path.startsWith('node:')).map((i) => i.path);
    if (builtins.length) out[file] = [...new Set(builtins)].sort();
  }
  return out;
}

test('outside the WebAssembly engine and the WebGPU worker, no module imports a Node built-in at its top', async () => {
  const found = await topLevelBuiltins();
  const allowed = (file: string) => file.startsWith('src/backend/wasm/') || file === 'src/backend/gpu/webgpu-worker.ts' || file === 'src/backend/gpu/webgpu-device-worker.ts';
  const others = Object.entries(found).filter(([file]) => !allowed(file));
  assert.equal(others, [], `top-level Node built-ins: ${JSON.stringify(others)}`);
  // The check sees imports at all: the engine's own are there.
  assert.ok(Object.keys(found).some((f) => f.startsWith('src/backend/wasm/')), JSON.stringify(found));
});

test('the CommonJS build finds the reusable JPEG encoder (import.meta.url is empty there)', async () => {
  const dir = join(root, '.cache', 'lean-install');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'synthetic-cats-dogs.cjs');
  await build({
    entryPoints: [join(root, 'src/data/synthetic-cats-dogs.ts')],
    bundle: true,
    outfile: file,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    logLevel: 'silent',
  });
  const code = "const m = require(process.argv[1]); console.log(m.reusableJpegEncoder() === null ? 'slow' : 'fast');";
  const out = execFileSync(process.execPath, ['-e', code, file], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  assert.is(out.trim(), 'fast');
});

test('without Node (a page): progress lines go to console.log and fit yields through setTimeout', async () => {
  const bundle = await build({ entryPoints: [join(root, 'src/util/host.ts')], bundle: true, write: false, format: 'iife', globalName: 'host', platform: 'browser', logLevel: 'silent' });
  const logged: string[] = [];
  let timeouts = 0;
  // A context with only what a page has: no process, no setImmediate.
  const page = createContext({
    console: { log: (s: string) => logged.push(s) },
    setTimeout: (fn: () => void, ms: number) => { timeouts++; return setTimeout(fn, ms); },
  });
  runInContext(bundle.outputFiles[0].text, page);
  const host = runInContext('host', page) as typeof import('../src/util/host.js');
  assert.is(host.outIsTTY(), false);
  host.writeOut('Epoch 1/2\n');
  host.writeOut('2/2 - 1s - loss: ');
  host.writeOut('0.5000\nEpoch 2/2\n');
  assert.equal(logged, ['Epoch 1/2', '2/2 - 1s - loss: 0.5000', 'Epoch 2/2']);
  await host.yieldToHost();
  assert.is(timeouts, 1);
});

test('package.json: gpu.js and sharp optional peers (and devDependencies), only the bundles and their types shipped', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  assert.is(pkg.dependencies['gpu.js'], undefined);
  assert.ok(typeof pkg.peerDependencies['gpu.js'] === 'string');
  assert.equal(pkg.peerDependenciesMeta['gpu.js'], { optional: true });
  assert.is(pkg.devDependencies['gpu.js'], pkg.peerDependencies['gpu.js']);
  assert.ok(GPU_INSTALL_COMMAND.endsWith(`gpu.js@${String(pkg.peerDependencies['gpu.js'])}`), GPU_INSTALL_COMMAND);
  // sharp (17 MB of prebuilt libvips) the same way: the photo pipeline imports it lazily and names `npm install sharp`.
  assert.ok(typeof pkg.peerDependencies.sharp === 'string');
  assert.equal(pkg.peerDependenciesMeta.sharp, { optional: true });
  assert.is(pkg.devDependencies.sharp, pkg.peerDependencies.sharp);
  assert.is(pkg.optionalDependencies, undefined);
  assert.is(pkg.dependencies.sharp, undefined);
  const files = pkg.files as unknown as string[];
  assert.ok(files.every((f) => !f.startsWith('kernels') && !f.endsWith('.map') && f !== 'dist'), JSON.stringify(files));
});

test.run();
