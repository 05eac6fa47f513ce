// Configuration of the `cpu` engine through the API (src/backend/config.ts, setBackend,
// getBackendConfig): defaults follow the machine, the environment is read when a backend starts,
// and bad values fail setBackend (naming them), never `import`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackendConfig, setBackend } from '../src/backend/index.js';
import { resolveCpuConfig, type CpuBackendOptions } from '../src/backend/config.js';
import { threadCount } from '../src/backend/wasm/parts.js';
import { THREAD_MIN_MACS } from '../src/backend/wasm/engine.js';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the default thread count is the machine\'s available parallelism (stubbed core counts), at most 64', () => {
  for (const [cores, threads] of [[1, 1], [2, 2], [16, 16], [96, 64]]) {
    assert.is(resolveCpuConfig({}, { env: {}, cores }).threads, threads, `${cores} cores`);
  }
  assert.is(resolveCpuConfig({}, { env: { TSCNN_THREADS: '3' }, cores: 16 }).threads, 3, 'TSCNN_THREADS');
  assert.is(resolveCpuConfig({ threads: 5 }, { env: { TSCNN_THREADS: '3' }, cores: 16 }).threads, 5, 'the option wins over the environment');
  assert.equal(resolveCpuConfig({}, { env: {}, cores: 4 }), { threads: 4, winograd: 2, relaxedSimd: 'auto', residentOutputs: true });
});

test('each op uses at most the configured threads, fewer when its work is small', () => {
  setBackend('cpu', { threads: 16 });
  try {
    assert.is(threadCount(THREAD_MIN_MACS * 100, 1000), 16);
    assert.is(threadCount(THREAD_MIN_MACS * 100, 5), 5, 'bounded by the units of work');
    assert.is(threadCount(THREAD_MIN_MACS - 1, 1000), 1, 'small: one thread');
  } finally {
    setBackend('cpu');
  }
});

test('environment values: TSCNN_WINOGRAD, TSCNN_WASM_RELAXED (0/1 aliases), TSCNN_RESIDENT', () => {
  const env = (e: Record<string, string>) => resolveCpuConfig({}, { env: e, cores: 2 });
  assert.is(env({ TSCNN_WINOGRAD: '0' }).winograd, 0);
  assert.is(env({ TSCNN_WINOGRAD: '4' }).winograd, 4);
  assert.is(env({ TSCNN_WASM_RELAXED: '0' }).relaxedSimd, 'off');
  assert.is(env({ TSCNN_WASM_RELAXED: '1' }).relaxedSimd, 'force');
  assert.is(env({ TSCNN_WASM_RELAXED: 'auto' }).relaxedSimd, 'auto');
  assert.is(env({ TSCNN_RESIDENT: '0' }).residentOutputs, false);
  assert.is(env({ TSCNN_THREADS: '' }).threads, 2, 'empty = unset');
});

test('bad options and environment values throw naming the option or variable and the value', () => {
  const cases: [CpuBackendOptions | Record<string, unknown>, Record<string, string>, RegExp][] = [
    [{ threads: 0 }, {}, /setBackend\('cpu'\): threads must be an integer in \[1, 64\], got 0/],
    [{ threads: 1.5 }, {}, /threads must be an integer in \[1, 64\], got 1.5/],
    [{ winograd: 3 }, {}, /winograd must be 0 \(im2col \+ GEMM\), 2 \(F\(2×2, 3×3\)\) or 4 \(F\(4×4, 3×3\)\), got 3/],
    [{ relaxedSimd: true }, {}, /relaxedSimd must be 'auto', 'force' or 'off', got true/],
    [{ residentOutputs: 1 }, {}, /residentOutputs must be true or false, got 1/],
    [{ thread: 2 }, {}, /unknown option 'thread'; known: threads, winograd, relaxedSimd, residentOutputs/],
    [{}, { TSCNN_THREADS: 'many' }, /TSCNN_THREADS \("many"\) must be an integer in \[1, 64\], got null/],
    [{}, { TSCNN_WINOGRAD: '3' }, /TSCNN_WINOGRAD \("3"\) must be 0/],
    [{}, { TSCNN_WASM_RELAXED: 'yes' }, /TSCNN_WASM_RELAXED \("yes"\) must be 'auto', 'force' or 'off'/],
    [{}, { TSCNN_RESIDENT: 'no' }, /TSCNN_RESIDENT must be 0 or 1, got "no"/],
  ];
  for (const [options, env, pattern] of cases) {
    assert.throws(() => resolveCpuConfig(options as CpuBackendOptions, { env, cores: 2 }), pattern, JSON.stringify({ options, env }));
  }
});

test('setBackend(\'cpu\', options) sets the engine; getBackendConfig reads it back; a bad call changes nothing', () => {
  setBackend('cpu', { threads: 3, winograd: 0, residentOutputs: false });
  try {
    const c = getBackendConfig();
    assert.is(c.backend, 'cpu');
    assert.is(c.cpu.threads, 3);
    assert.is(c.cpu.winograd, 0);
    assert.is(c.cpu.residentOutputs, false);
    if (c.engine.simd) assert.is(c.engine.threads, 3);
    assert.throws(() => setBackend('cpu', { threads: 3, winograd: 5 as 2 }), /winograd must be/);
    assert.equal({ ...getBackendConfig().cpu }, { ...c.cpu }, 'unchanged after the bad call');
    setBackend('reference');
    assert.is(getBackendConfig().backend, 'reference');
    assert.throws(() => setBackend('reference', { threads: 2 }), /backend 'reference' takes no options/);
  } finally {
    setBackend('cpu');
  }
});

test('a bad environment value fails setBackend, not import; relaxedSimd auto leaves V8 flags alone, force sets them', () => {
  const script = `
    const t = await import('./src/index.ts');
    console.log('imported');
    try { t.setBackend('cpu'); } catch (e) { console.log('setBackend: ' + e.message); }
    const relaxed = Buffer.from((await import('./src/backend/wasm/engine-wasm.generated.ts')).engineWasmRelaxedBase64, 'base64');
    const before = WebAssembly.validate(relaxed);
    t.setBackend('cpu', { relaxedSimd: 'auto', winograd: 2 });
    console.log('auto ' + before + ' ' + t.getBackendConfig().engine.relaxedSimd + ' ' + WebAssembly.validate(relaxed));
    t.setBackend('cpu', { relaxedSimd: 'force', winograd: 2 });
    console.log('force ' + t.getBackendConfig().engine.relaxedSimd);
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root, env: { ...process.env, TSCNN_WINOGRAD: '7', TSCNN_WASM_RELAXED: '' }, encoding: 'utf8',
  });
  const out = child.stdout.trim().split('\n');
  assert.is(child.status, 0, child.stderr);
  assert.is(out[0], 'imported');
  assert.match(out[1], /^setBackend: setBackend\('cpu'\): TSCNN_WINOGRAD \("7"\) must be 0/);
  // auto: relaxed exactly where V8 accepted it before (Node ≥ 22), and acceptance unchanged.
  const [, before, running, after] = out[2].split(' ');
  assert.is(running, before, out[2]);
  assert.is(after, before, `auto changed V8's flags: ${out[2]}`);
  assert.is(out[3], 'force true');
});

test.run();
