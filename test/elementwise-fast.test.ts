// The WebAssembly element-wise ops of the 'cpu' backend (asm/elementwise.ts via
// src/backend/wasm/elementwise-fast.ts: batch norm train/inference/backward, relu, sigmoid and
// tanh and their gradients, max pool, and batch norm → relu → max pool fused for training) against the plain
// TypeScript reference on random inputs: odd channel counts, batch 1 and 32, large means, max-pool
// ties, NaNs and 'same' padding, one thread and several.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { elementwiseFast } from '../src/backend/wasm/elementwise-fast.js';
import { engineInfo } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { assertClose, assertIdentical, randomArray, rng, withThreads } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;
const f32 = { atol: 1e-5, rtol: 1e-5 };

// Normal-ish values with the given mean and spread (sum of uniforms), deterministic.
function gaussian(n: number, seed: number, mean: number, std: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => mean + std * (r() + r() + r() - 1.5) * 2);
}

const bnShapes: [number, number][] = [
  [1, 3], [7, 5], [32 * 9, 16], [1 * 25, 33], [32, 150], [32 * 100, 16], [32 * 40, 33], [2, 1],
];

function checkBatchNorm(rows: number, C: number, seed: number, mean = 0, std = 1): void {
  const what = `[${rows}, ${C}] mean ${mean} std ${std}`;
  const x = gaussian(rows * C, seed, mean, std);
  const gamma = randomArray(C, seed + 1, 0.5, 2);
  const beta = randomArray(C, seed + 2);
  const want = ref.batchNormTrain(x, gamma, beta, C, 1e-3);
  const got = fast.batchNormTrain(x, gamma, beta, C, 1e-3);
  assertClose(got.mean, want.mean, { atol: 1e-6 * (1 + Math.abs(mean)), rtol: 1e-6 }, `batchNormTrain mean ${what}`);
  assertClose(got.variance, want.variance, { atol: 1e-7, rtol: 1e-5 }, `batchNormTrain variance ${what}`);
  assertClose(got.invStd, want.invStd, { atol: 1e-7, rtol: 1e-5 }, `batchNormTrain invStd ${what}`);
  // Both means come from exact f64 sums (here, shifted by row 0 there), so the f32 means agree and
  // x − mean agrees exactly even at |mean| ≫ std.
  const tol = { atol: 2e-6, rtol: 1e-5 };
  assertClose(got.xHat, want.xHat, tol, `batchNormTrain xHat ${what}`);
  assertClose(got.y, want.y, tol, `batchNormTrain y ${what}`);

  const mm = randomArray(C, seed + 3, mean - 1, mean + 1);
  const mv = randomArray(C, seed + 4, 0.5, 2);
  assertClose(
    fast.batchNormInference(x, gamma, beta, mm, mv, C, 1e-3),
    ref.batchNormInference(x, gamma, beta, mm, mv, C, 1e-3),
    { atol: 1e-5 * (1 + Math.abs(mean)), rtol: 1e-5 },
    `batchNormInference ${what}`,
  );

  const dy = randomArray(rows * C, seed + 5);
  const gw = ref.batchNormBackward(dy, want.xHat, gamma, want.invStd, C);
  const gg = fast.batchNormBackward(dy, want.xHat, gamma, want.invStd, C);
  assertClose(gg.dx, gw.dx, { atol: 1e-5, rtol: 1e-4 }, `batchNormBackward dx ${what}`);
  assertClose(gg.dGamma, gw.dGamma, { atol: 1e-4, rtol: 1e-6 }, `batchNormBackward dGamma ${what}`);
  assertClose(gg.dBeta, gw.dBeta, { atol: 1e-4, rtol: 1e-6 }, `batchNormBackward dBeta ${what}`);
}

test('the WebAssembly element-wise kernels run here (not the fallback)', () => {
  assert.ok(engineInfo().simd, JSON.stringify(engineInfo()));
  assert.ok(elementwiseFast.relu(new Float32Array([1, -1])) instanceof Float32Array);
  assert.ok(elementwiseFast.batchNormTrain(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 1]), new Float32Array(2), 2, 1e-3) !== null);
});

for (const t of [1, 2, 3]) {
  test(`batchNormTrain, batchNormInference, batchNormBackward = reference, ${t} thread(s)`, () => {
    withThreads(t, () => bnShapes.forEach(([rows, C], i) => checkBatchNorm(rows, C, 100 * t + 10 * i)));
  });
}

test('batchNormTrain = reference on data with a large mean (100 ± 1, 1000 ± 0.5)', () => {
  checkBatchNorm(32 * 100, 16, 7, 100, 1);
  checkBatchNorm(32 * 25, 5, 8, 100, 1);
  checkBatchNorm(3200, 3, 9, -1000, 0.5);
  withThreads(2, () => checkBatchNorm(32 * 100, 33, 10, 100, 1));
});

test('batchNormTrain statistics = reference where the one-pass shifted sums give way to two passes: row 0 NaN or ±∞, row 0 far out', () => {
  for (const v of [NaN, Infinity, -Infinity]) {
    const x = gaussian(32 * 25 * 4, 12, 3, 1);
    x[1] = v;
    const want = ref.batchNormTrain(x, new Float32Array(4).fill(1), new Float32Array(4), 4, 1e-3);
    const got = fast.batchNormTrain(x, new Float32Array(4).fill(1), new Float32Array(4), 4, 1e-3);
    for (const key of ['mean', 'variance', 'invStd'] as const) {
      assertIdentical([got[key][1]], [want[key][1]], `${key} of the channel whose row 0 holds ${v}`);
      assertClose([0, 2, 3].map((c) => got[key][c]), [0, 2, 3].map((c) => want[key][c]), { atol: 1e-6, rtol: 1e-5 }, `${key}, the other channels`);
    }
  }
  // 2²¹ rows at 0 ± 0.001 after a row 0 at 1000: S2/R is 2·10⁶ times the variance.
  const x = gaussian(1 << 21, 13, 0, 1e-3);
  x[0] = 1000;
  const want = ref.batchNormTrain(x, Float32Array.of(1), Float32Array.of(0), 1, 1e-3);
  let got = want;
  withThreads(2, () => void (got = fast.batchNormTrain(x, Float32Array.of(1), Float32Array.of(0), 1, 1e-3)));
  assertClose(got.mean, want.mean, { atol: 1e-9, rtol: 1e-6 }, 'mean, row 0 far out');
  assertClose(got.variance, want.variance, { atol: 1e-9, rtol: 1e-5 }, 'variance, row 0 far out');
});

test('batchNormTrain on [32·100·100, 16] (threaded): mean, variance, xHat and y = reference', () => {
  checkBatchNorm(32 * 100 * 100, 16, 11, 0.3, 2);
});

test('relu and its gradient = reference (NaN → 0, −0 → 0), odd lengths, one and two threads', () => {
  for (const t of [1, 2]) {
    withThreads(t, () => {
      for (const n of [1, 3, 5, 17, 150, 32 * 33, 100003]) {
        const x = randomArray(n, n + t);
        const dy = randomArray(n, n + 1);
        x[0] = NaN;
        if (n > 2) x[2] = -0;
        assertIdentical(fast.activation('relu', x, 1, 0), ref.activation('relu', x, 1, 0), `relu [${n}]`);
        assertIdentical(fast.activationBackward('relu', dy, x, x, 1, 0), ref.activationBackward('relu', dy, x, x, 1, 0), `relu' [${n}]`);
      }
    });
  }
  const x = randomArray(64, 1);
  assertClose(fast.activation('elu', x, 16, 1), ref.activation('elu', x, 16, 1), f32, 'elu still the reference loop');
});

test('sigmoid and tanh and their gradients = reference within 2 ulp-ish: wide range, ±0, ±Inf, NaN, the 0.625 branch, odd lengths, threads', () => {
  const specials = [0, -0, 1e-7, -1e-7, 1e-3, 0.6249, 0.625, 0.6251, -0.625, 5, -5, 20, -20, 44, -44, 87, -87, 88.5, -88.5, 89, -89, 100, -100, 1e6, -1e6, Infinity, -Infinity, NaN];
  for (const t of [1, 2]) {
    withThreads(t, () => {
      for (const n of [1024, 1027, 100003]) {
        const x = randomArray(n, n + t, -12, 12);
        x.set(specials, 1);
        const dy = randomArray(n, n + 7);
        for (const kind of ['sigmoid', 'tanh'] as const) {
          const y = fast.activation(kind, x, 1, 0);
          const yRef = ref.activation(kind, x, 1, 0);
          // Relative where it matters: tanh near 0 is x itself, sigmoid's left tail is e^x.
          for (let i = 0; i < n; i++) {
            const a = y[i], b = yRef[i];
            if (Number.isNaN(b)) {
              assert.ok(Number.isNaN(a), `${kind}(${x[i]}) = ${a}, reference NaN`);
              continue;
            }
            const ok = Math.abs(a - b) <= 1e-37 || Math.abs(a - b) <= 4e-7 * Math.abs(b);
            assert.ok(ok, `${kind}(${x[i]}) [${n}, ${t} threads]: ${a} vs reference ${b}`);
          }
          assert.ok(Object.is(y[1], 0.5) || kind === 'tanh', 'sigmoid(0) = 0.5 exactly');
          if (kind === 'tanh') assert.ok(Object.is(y[2], -0), 'tanh(−0) = −0');
          const dx = fast.activationBackward(kind, dy, x, yRef, 1, 0);
          assert.ok(Number.isNaN(dx[specials.length]), `${kind}': NaN in y gives NaN`);
          const yb = yRef.map((v) => (Number.isNaN(v) ? 0.5 : v));
          assertClose(fast.activationBackward(kind, dy, x, yb, 1, 0), ref.activationBackward(kind, dy, x, yb, 1, 0), { atol: 1e-7, rtol: 1e-6 }, `${kind}' [${n}]`);
        }
      }
    });
  }
  assert.ok(!fast.activation('sigmoid', new Float32Array(1023), 1, 0).some((v) => v !== 0.5), 'short arrays: the reference loop');
});

interface PoolCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  k: [number, number];
  s: [number, number];
  pad: Padding;
}

const poolCases: PoolCase[] = [
  { batch: 1, h: 4, w: 4, c: 1, k: [2, 2], s: [2, 2], pad: 'valid' },
  { batch: 2, h: 5, w: 7, c: 3, k: [2, 2], s: [2, 2], pad: 'same' },
  { batch: 32, h: 10, w: 10, c: 16, k: [2, 2], s: [2, 2], pad: 'valid' },
  { batch: 3, h: 9, w: 11, c: 5, k: [3, 3], s: [2, 2], pad: 'same' },
  { batch: 2, h: 7, w: 7, c: 33, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 1, h: 6, w: 5, c: 150, k: [2, 3], s: [1, 2], pad: 'valid' },
  { batch: 32, h: 25, w: 25, c: 33, k: [2, 2], s: [2, 2], pad: 'same' },
  { batch: 32, h: 100, w: 100, c: 16, k: [2, 2], s: [2, 2], pad: 'valid' },
];

function checkPool(t: PoolCase, seed: number, mode: 'random' | 'ties' | 'nan'): void {
  const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.c, t.s, t.pad);
  const n = t.batch * t.h * t.w * t.c;
  const what = `[${t.batch},${t.h},${t.w},${t.c}] pool ${t.k.join('×')} stride ${t.s.join('×')} '${t.pad}' ${mode}`;
  let x = randomArray(n, seed);
  // Few distinct values: most windows hold ties, and the first in window order must win.
  if (mode === 'ties') x = x.map((v) => Math.round(v * 2) / 2);
  if (mode === 'nan') {
    const r = rng(seed);
    x = x.map((v) => (r() < 0.1 ? NaN : Math.round(v * 2) / 2));
  }
  const want = ref.maxPool(x, info);
  const got = fast.maxPool(x, info);
  assertIdentical(got.argmax, want.argmax, `maxPool argmax ${what}`);
  assertIdentical(got.y, want.y, `maxPool y ${what}`);
  const dy = randomArray(want.y.length, seed + 1);
  assertIdentical(fast.maxPoolBackprop(dy, got.argmax, n), ref.maxPoolBackprop(dy, want.argmax, n), `maxPoolBackprop ${what}`);
}

for (const t of [1, 2]) {
  test(`maxPool (y, argmax) and maxPoolBackprop = reference: random, ties, NaN; ${t} thread(s)`, () => {
    withThreads(t, () => {
      poolCases.forEach((c, i) => {
        for (const mode of ['random', 'ties', 'nan'] as const) checkPool(c, 1000 * t + 10 * i, mode);
      });
    });
  });
}

test('maxPool ties: the first cell in window order wins, NaN first in order wins over numbers', () => {
  const info = conv2dInfo([1, 2, 2, 4], [2, 2], 4, [2, 2], 'valid');
  // Pixels (0,0), (0,1), (1,0), (1,1), 4 channels each.
  const x = new Float32Array([
    1, 0, NaN, 5,
    1, 2, 3, NaN,
    0, 2, NaN, 5,
    1, 2, 3, 5,
  ]);
  const { y, argmax } = fast.maxPool(x, info);
  assertIdentical(y, [1, 2, NaN, NaN], 'y');
  assertIdentical(argmax, [0, 5, 2, 7], 'argmax');
});

test('a fast op overwrites: results do not depend on earlier calls', () => {
  const x = randomArray(32 * 16, 3);
  const g = randomArray(16, 4);
  const b = randomArray(16, 5);
  const first = fast.batchNormTrain(x, g, b, 16, 1e-3);
  fast.batchNormTrain(randomArray(32 * 16, 6), g, b, 16, 1e-3);
  assertIdentical(fast.batchNormTrain(x, g, b, 16, 1e-3).y, first.y, 'batchNormTrain y repeated');
  const dy = randomArray(32 * 16, 7);
  const d1 = fast.batchNormBackward(dy, first.xHat, g, first.invStd, 16);
  fast.batchNormBackward(randomArray(32 * 16, 8), first.xHat, g, first.invStd, 16);
  assertIdentical(fast.batchNormBackward(dy, first.xHat, g, first.invStd, 16).dGamma, d1.dGamma, 'batchNormBackward dGamma repeated');
});

test('without the element-wise kernels (null) the cpu backend runs the reference loops', () => {
  const plain = createCpuBackend('cpu', gemmFast, convFast, null);
  const x = gaussian(32 * 5, 1, 3, 2);
  const g = randomArray(5, 2);
  const b = randomArray(5, 3);
  assertIdentical(plain.batchNormTrain(x, g, b, 5, 1e-3).y, ref.batchNormTrain(x, g, b, 5, 1e-3).y, 'batchNormTrain');
});

// Fused batch norm → act → non-overlapping max pool against the three reference ops (and the fused
// backward against maxPoolBackprop → relu' → batchNormBackward).
const fusedCases: { shape: [number, number, number, number]; pool: [number, number] }[] = [
  { shape: [2, 6, 8, 16], pool: [2, 2] },
  { shape: [3, 7, 9, 5], pool: [2, 2] },
  { shape: [2, 9, 9, 4], pool: [3, 3] },
  { shape: [1, 6, 7, 3], pool: [2, 3] },
  { shape: [32, 20, 20, 16], pool: [2, 2] },
];

function checkFused(shape: [number, number, number, number], poolSize: [number, number], activation: 'relu' | 'linear', seed: number): void {
  const [n, h, w, C] = shape;
  const what = `[${shape.join(',')}] pool ${poolSize.join('×')} ${activation}`;
  const x = gaussian(n * h * w * C, seed, 0.3, 1.5);
  const gamma = randomArray(C, seed + 1, 0.5, 2);
  const beta = randomArray(C, seed + 2);
  const pool = conv2dInfo(shape, poolSize, C, poolSize, 'valid');
  const bn = ref.batchNormTrain(x, gamma, beta, C, 1e-3);
  const a = activation === 'relu' ? ref.activation('relu', bn.y, C, 0) : bn.y;
  const want = ref.maxPool(a, pool);
  const got = fast.fused.batchNormActPool!.train(x, gamma, beta, C, 1e-3, activation, pool);
  assertClose(got.y, want.y, { atol: 2e-6, rtol: 1e-5 }, `batchNormActPoolTrain y ${what}`);
  assertIdentical(got.argmax, want.argmax, `batchNormActPoolTrain argmax ${what}`);
  assertClose(got.mean, bn.mean, { atol: 1e-6, rtol: 1e-6 }, `mean ${what}`);
  assertClose(got.variance, bn.variance, { atol: 1e-7, rtol: 1e-5 }, `variance ${what}`);
  assertClose(got.invStd, bn.invStd, { atol: 1e-7, rtol: 1e-5 }, `invStd ${what}`);

  const dy = randomArray(want.y.length, seed + 3);
  const d = ref.maxPoolBackprop(dy, want.argmax, x.length);
  const dz = activation === 'relu' ? ref.activationBackward('relu', d, bn.y, a, C, 0) : d;
  const gw = ref.batchNormBackward(dz, bn.xHat, gamma, bn.invStd, C);
  const gg = fast.fused.batchNormActPool!.backward(dy, x, gamma, beta, got.mean, got.invStd, got.argmax, C, activation, pool);
  assertClose(gg.dx, gw.dx, { atol: 1e-5, rtol: 1e-4 }, `batchNormActPoolBackward dx ${what}`);
  assertClose(gg.dGamma, gw.dGamma, { atol: 1e-4, rtol: 1e-5 }, `batchNormActPoolBackward dGamma ${what}`);
  assertClose(gg.dBeta, gw.dBeta, { atol: 1e-4, rtol: 1e-5 }, `batchNormActPoolBackward dBeta ${what}`);
  // Cells no window covers (odd edges) and cells that lost their window still get the dz = 0 part of dx.
  assert.ok(gg.dx.every(Number.isFinite), `dx finite ${what}`);
}

test('batchNormActPoolTrain / Backward = batchNormTrain → act → maxPool and their gradients (one thread and three)', () => {
  for (const threads of [1, 3]) {
    withThreads(threads, () => {
      fusedCases.forEach((t, i) => {
        checkFused(t.shape, t.pool, 'relu', 900 + 10 * i);
        checkFused(t.shape, t.pool, 'linear', 950 + 10 * i);
      });
    });
  }
});

test.run();
