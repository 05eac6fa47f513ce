import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gemmReference } from '../src/backend/gemm.js';
import { setBackend } from '../src/backend/index.js';
import { cpuConfig } from '../src/backend/config.js';
import { engineInfo, shutdownEngineThreads } from '../src/backend/wasm/engine.js';
import { engineWasmRelaxedBase64 } from '../src/backend/wasm/engine-wasm.generated.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';

// Deterministic uniform [-1, 1) values (mulberry32), so a failure reproduces.
function random(size: number, seed: number): Float32Array {
  const x = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    x[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return x;
}

function assertClose(actual: Float32Array, expected: Float32Array, { atol, rtol }: { atol: number; rtol: number }, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let bad = -1;
  let maxErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= atol + rtol * Math.abs(expected[i])) && bad < 0) bad = i;
    if (!(err <= maxErr)) maxErr = err;
  }
  if (bad >= 0) {
    assert.unreachable(
      `${what}: first bad index ${bad}: got ${actual[bad]}, expected ${expected[bad]}; max abs error ${maxErr} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

// float32 sums of k products of values in [-1, 1): rounding grows with k, differently per order.
function tolerance(k: number): { atol: number; rtol: number } {
  return { atol: 1e-6 * (8 + Math.sqrt(k) * 4), rtol: 1e-5 };
}

function check(transA: boolean, transB: boolean, m: number, n: number, k: number, accumulate: boolean, seed: number): void {
  const a = random(m * k, seed);
  const b = random(k * n, seed + 1);
  const c0 = random(m * n, seed + 2);
  const expected = c0.slice();
  const actual = c0.slice();
  gemmReference(transA, transB, m, n, k, a, b, expected, accumulate);
  gemmFast(transA, transB, m, n, k, a, b, actual, accumulate);
  const what = `gemm transA=${transA} transB=${transB} m=${m} n=${n} k=${k} accumulate=${accumulate}`;
  assertClose(actual, expected, tolerance(k), what);
}

const odd = [1, 3, 7, 17, 33, 65];

// Whether this process's V8 accepts relaxed SIMD before the engine starts (Node ≥ 22, or the flag set).
const relaxedAccepted = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(Buffer.from(engineWasmRelaxedBase64, 'base64'));

test('gemmFast runs the SIMD WebAssembly kernel here; the relaxed-SIMD build where the relaxedSimd setting and this Node allow it', () => {
  const info = engineInfo();
  assert.ok(info.simd, JSON.stringify(info));
  assert.ok(info.threads >= 1, JSON.stringify(info));
  const setting = cpuConfig().relaxedSimd;
  assert.is(info.relaxedSimd, setting === 'force' || (setting === 'auto' && relaxedAccepted), `${setting}: ${JSON.stringify(info)}`);
});

// The suite runs one build per process; the other build (plain SIMD where relaxed runs, relaxed
// forced where plain runs) runs the GEMM, convolution and element-wise suites again in a child.
if (process.env.TSCNN_WASM_RELAXED === undefined) {
  const other = engineInfo().relaxedSimd ? '0' : 'force';
  test(`the other build (TSCNN_WASM_RELAXED=${other}) passes the gemm, conv-fast and elementwise-fast suites too`, () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/run.ts', 'gemm', 'conv-fast', 'elementwise-fast'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, TSCNN_WASM_RELAXED: other },
      encoding: 'utf8',
      timeout: 300_000,
    });
    const summary = /^(\d+) passed, (\d+) failed$/m.exec(child.stdout)?.slice(1).map(Number);
    assert.ok(child.status === 0 && summary && summary[0] > 10 && summary[1] === 0, `child: status ${child.status}, ${summary ?? 'no summary'}\n${child.stdout.slice(-3000)}${child.stderr.slice(-2000)}`);
  });
}

test('gemmFast = gemmReference: odd m, n, k, all transposes, accumulate on and off (1 thread)', () => {
  setBackend('cpu', { threads: 1 });
  let seed = 1;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const m of odd) {
        for (const n of odd) {
          for (const k of [1, 7, 65, 300]) {
            for (const accumulate of [false, true]) check(transA, transB, m, n, k, accumulate, seed += 3);
          }
        }
      }
    }
  }
});

test('gemmFast [2×3]·[3×2] by hand', () => {
  const c = new Float32Array([100, 100, 100, 100]);
  gemmFast(false, false, 2, 2, 3, new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1, 1, 1]), c, false);
  assert.equal(Array.from(c), [4, 5, 10, 11]);
  gemmFast(false, false, 2, 2, 3, new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1, 1, 1]), c, true);
  assert.equal(Array.from(c), [8, 10, 20, 22]);
});

test('gemmFast k=0 zeroes C unless accumulating; m=0 and n=0 are no-ops', () => {
  const c = new Float32Array([1, 2, 3, 4, 5, 6]);
  gemmFast(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), c, true);
  assert.equal(Array.from(c), [1, 2, 3, 4, 5, 6]);
  gemmFast(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), c, false);
  assert.equal(Array.from(c), [0, 0, 0, 0, 0, 0]);
  const d = new Float32Array([7]);
  gemmFast(false, false, 0, 3, 4, new Float32Array(0), new Float32Array(12), d, false);
  gemmFast(false, false, 1, 0, 4, new Float32Array(4), new Float32Array(0), d, false);
  assert.equal(Array.from(d), [7]);
});

test('gemmFast = gemmReference on the seed CNN shapes: conv1 forward, dW, dCols; dense (2 threads)', () => {
  setBackend('cpu', { threads: 2 });
  check(false, false, 20000, 16, 27, false, 101);
  check(true, false, 27, 16, 20000, true, 102);
  check(false, true, 20000, 27, 16, false, 103);
  check(false, false, 4608, 128, 576, false, 104);
  check(false, false, 32, 150, 4608, true, 105);
  check(false, true, 32, 4608, 150, false, 106);
  check(true, false, 4608, 150, 32, true, 107);
});

test('2 threads give the same bits as 1 thread when splitting m or n, and close when splitting k', () => {
  const cases: [boolean, boolean, number, number, number][] = [
    [false, false, 3001, 33, 70], // split m
    [false, true, 20, 1000, 300], // split n
    [true, false, 27, 16, 30000], // split k
  ];
  for (const [transA, transB, m, n, k] of cases) {
    const a = random(m * k, 7);
    const b = random(k * n, 8);
    const c1 = random(m * n, 9);
    const c2 = c1.slice();
    setBackend('cpu', { threads: 1 });
    gemmFast(transA, transB, m, n, k, a, b, c1, true);
    setBackend('cpu', { threads: 2 });
    gemmFast(transA, transB, m, n, k, a, b, c2, true);
    const what = `threads 1 vs 2: transA=${transA} transB=${transB} m=${m} n=${n} k=${k}`;
    if (m >= n && m > 64) assert.equal(c2, c1, what);
    else if (n > 64) assert.equal(c2, c1, what);
    else assertClose(c2, c1, tolerance(k), what);
  }
});

test('repeated calls reuse WebAssembly memory instead of growing it', () => {
  setBackend('cpu', { threads: 2 });
  const [m, n, k] = [2000, 64, 288];
  const a = random(m * k, 11);
  const b = random(k * n, 12);
  const c = new Float32Array(m * n);
  gemmFast(false, false, m, n, k, a, b, c, false);
  gemmFast(true, false, 100, 100, 100, a, b, c, false);
  // The memory is process-wide and never shrinks: its size here depends on the tests that ran
  // before in this process, so only its growth from now on is this test's to judge.
  const held = engineInfo().memoryBytes;
  assert.ok(held > 0, `memory held ${held}`);
  for (let i = 0; i < 30; i++) {
    gemmFast(i % 2 === 0, i % 3 === 0, m, n, k, a, b, c, i % 2 === 1);
    gemmFast(false, false, 100, 100, 100, a, b, c, false);
  }
  assert.is(engineInfo().memoryBytes, held);
  shutdownEngineThreads();
});

test.run();
