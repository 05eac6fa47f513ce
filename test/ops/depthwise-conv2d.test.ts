// depthwiseConv2d and its two gradients on every backend against the reference, a hand-computed
// case, and a float64 central-difference check of the reference's gradients (the adjoints of its
// forward).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { depthwiseFast } from '../../src/backend/wasm/depthwise-fast.js';
import { engineInfo } from '../../src/backend/wasm/engine.js';
import { depthwiseConv2dInfo } from '../../src/geometry.js';
import { assertClose, dot, numericGradient } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';
import { depthwiseInfoOf, depthwiseName, type DepthwiseCase } from './cases.js';

const TOL = { atol: 1e-5, rtol: 1e-4 };

const cases: DepthwiseCase[] = [
  { shape: [2, 7, 7, 3], k: [3, 3], m: 1, s: [1, 1], padding: 'same' },
  { shape: [1, 8, 6, 4], k: [3, 3], m: 2, s: [2, 2], padding: 'same' },
  { shape: [2, 9, 9, 5], k: [3, 2], m: 3, s: [1, 2], padding: 'valid' },
  { shape: [1, 6, 7, 8], k: [5, 5], m: 1, s: [2, 1], padding: 'same' },
  { shape: [2, 8, 8, 6], k: [3, 3], m: 1, s: [1, 1], padding: 'valid', d: [2, 2] },
  { shape: [3, 5, 5, 32], k: [3, 3], m: 1, s: [1, 1], padding: 'same' },
  { shape: [2, 10, 10, 16], k: [3, 3], m: 1, s: [2, 2], padding: 'same' },
  { shape: [1, 4, 4, 1], k: [1, 1], m: 4, s: [1, 1], padding: 'valid' },
  // The cpu backend's WebAssembly path (multiplier 1, channels a multiple of 4): a 16-channel
  // group and a 4-channel remainder, dilation, and one large enough to split over the threads.
  { shape: [2, 7, 6, 20], k: [3, 3], m: 1, s: [1, 1], padding: 'same' },
  { shape: [1, 9, 9, 8], k: [3, 3], m: 1, s: [1, 1], padding: 'same', d: [2, 2] },
  { shape: [2, 8, 7, 12], k: [3, 2], m: 1, s: [1, 1], padding: 'valid' },
  { shape: [8, 24, 24, 36], k: [3, 3], m: 1, s: [1, 1], padding: 'same' },
];

const name = depthwiseName;
const infoOf = depthwiseInfoOf;

opTest('depthwiseConv2d', 'forward, input and filter gradients over strides, padding, multipliers', (b) => {
  for (const t of cases) {
    const info = infoOf(t);
    const [n, h, w, c] = t.shape;
    const x = rand(n * h * w * c);
    const k = rand(t.k[0] * t.k[1] * c * t.m);
    const dy = rand(n * info.outHeight * info.outWidth * c * t.m);
    assertClose(b.depthwiseConv2d(x, k, info), ref.depthwiseConv2d(x, k, info), TOL, `depthwiseConv2d ${name(t)}`);
    assertClose(b.depthwiseConv2dBackpropInput(dy, k, info), ref.depthwiseConv2dBackpropInput(dy, k, info), TOL, `backpropInput ${name(t)}`);
    assertClose(b.depthwiseConv2dBackpropFilter(x, dy, info), ref.depthwiseConv2dBackpropFilter(x, dy, info), { atol: 1e-4, rtol: 1e-4 }, `backpropFilter ${name(t)}`);
  }
});

test('[reference] depthwiseConv2d: 1x3x3x2 k2x2 m2 valid, hand-computed', () => {
  // Channel 0 holds 1..9, channel 1 holds 10× that; w[i,j,c,m] = 1 for m = 0, (i·2+j+1) for m = 1.
  const x = new Float32Array(18);
  for (let p = 0; p < 9; p++) {
    x[2 * p] = p + 1;
    x[2 * p + 1] = 10 * (p + 1);
  }
  const w = new Float32Array(2 * 2 * 2 * 2);
  for (let tap = 0; tap < 4; tap++) {
    for (let c = 0; c < 2; c++) {
      w[(tap * 2 + c) * 2] = 1;
      w[(tap * 2 + c) * 2 + 1] = tap + 1;
    }
  }
  const info = depthwiseConv2dInfo([1, 3, 3, 2], [2, 2], 2, [1, 1], 'valid');
  // Window at (0,0): cells 1, 2, 4, 5. m0 = sum = 12, m1 = 1·1 + 2·2 + 3·4 + 4·5 = 37.
  const want = [
    12, 37, 120, 370, // (0,0)
    16, 47, 160, 470, // (0,1): 2, 3, 5, 6
    24, 67, 240, 670, // (1,0): 4, 5, 7, 8
    28, 77, 280, 770, // (1,1): 5, 6, 8, 9
  ];
  assertClose(ref.depthwiseConv2d(x, w, info), want, { atol: 0, rtol: 1e-7 }, 'y');
});

test('[reference] depthwiseConv2d gradients: central differences in float64', () => {
  for (const t of [cases[1], cases[2], cases[4]]) {
    const info = infoOf(t);
    const [n, h, w, c] = t.shape;
    const x = rand(n * h * w * c);
    const k = rand(t.k[0] * t.k[1] * c * t.m);
    const r = rand(n * info.outHeight * info.outWidth * c * t.m);
    const loss = (): number => dot(r, ref.depthwiseConv2d(x, k, info));
    assertClose(ref.depthwiseConv2dBackpropInput(r, k, info), numericGradient(loss, x, 1e-2), { atol: 1e-3, rtol: 1e-3 }, `dx ${name(t)}`);
    assertClose(ref.depthwiseConv2dBackpropFilter(x, r, info), numericGradient(loss, k, 1e-2), { atol: 1e-3, rtol: 1e-3 }, `dw ${name(t)}`);
  }
});

test('[cpu] depthwiseConv2d: the WebAssembly kernels run (not the fallback) for output channels C·M a multiple of 4', () => {
  assert.ok(engineInfo().simd, 'WebAssembly SIMD engine available');
  for (const t of cases.filter((c) => (c.m * c.shape[3]) % 4 === 0)) {
    const info = infoOf(t);
    const [n, h, w, c] = t.shape;
    const x = rand(n * h * w * c);
    const k = rand(t.k[0] * t.k[1] * c * t.m);
    const dy = rand(n * info.outHeight * info.outWidth * c * t.m);
    assertClose(depthwiseFast.depthwiseConv2d(x, k, info) ?? [], ref.depthwiseConv2d(x, k, info), TOL, `wasm forward ${name(t)}`);
    assertClose(depthwiseFast.depthwiseConv2dBackpropInput(dy, k, info) ?? [], ref.depthwiseConv2dBackpropInput(dy, k, info), TOL, `wasm dx ${name(t)}`);
    assertClose(depthwiseFast.depthwiseConv2dBackpropFilter(x, dy, info) ?? [], ref.depthwiseConv2dBackpropFilter(x, dy, info), { atol: 1e-4, rtol: 1e-4 }, `wasm dw ${name(t)}`);
  }
  assert.is(depthwiseFast.depthwiseConv2d(rand(294), rand(27), infoOf(cases[0])), null, 'C·M = 3 declines');
});

runOps();
