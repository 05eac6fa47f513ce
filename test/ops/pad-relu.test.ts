// zeroPad2d / zeroPad2dBackprop and reluWithOptions / its backward on every backend against the
// reference, and hand-computed cases of the reference.
import { test } from 'uvu';
import { pad2dInfo } from '../../src/geometry.js';
import type { ReluOptions } from '../../src/backend/types.js';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const EXACT = { atol: 0, rtol: 0 };

const padCases: { shape: [number, number, number, number]; pads: [[number, number], [number, number]] }[] = [
  { shape: [2, 3, 4, 3], pads: [[1, 1], [1, 1]] },
  { shape: [1, 5, 2, 1], pads: [[0, 2], [3, 0]] },
  { shape: [3, 4, 4, 8], pads: [[2, 1], [0, 1]] },
];

opTest('zeroPad2d', 'values and zeroPad2dBackprop', (b) => {
  for (const t of padCases) {
    const info = pad2dInfo(t.shape, t.pads);
    const what = `${t.shape.join('x')} pads ${JSON.stringify(t.pads)}`;
    const x = rand(t.shape.reduce((a, d) => a * d, 1));
    assertClose(b.zeroPad2d(x, info), ref.zeroPad2d(x, info), EXACT, `zeroPad2d ${what}`);
    const dy = rand(info.batch * info.outHeight * info.outWidth * info.channels);
    assertClose(b.zeroPad2dBackprop(dy, info), ref.zeroPad2dBackprop(dy, info), EXACT, `zeroPad2dBackprop ${what}`);
  }
});

const reluCases: ReluOptions[] = [
  { maxValue: Infinity, negativeSlope: 0, threshold: 0 },
  { maxValue: 6, negativeSlope: 0, threshold: 0 },
  { maxValue: 0.5, negativeSlope: 0.1, threshold: 0.25 },
  { maxValue: Infinity, negativeSlope: 0.3, threshold: 0 },
];

opTest('reluWithOptions', 'values and gradient over maxValue, negativeSlope, threshold', (b) => {
  // Lengths off a multiple of 4 reach the SIMD kernels' scalar ends; the long one is split over threads.
  for (const n of [1003, 65539]) {
    for (const o of reluCases) {
      const x = rand(n, -8, 8);
      const dy = rand(n);
      const what = `n ${n} ${JSON.stringify(o)}`;
      assertClose(b.reluWithOptions(x, o), ref.reluWithOptions(x, o), { atol: 1e-6, rtol: 1e-6 }, `relu ${what}`);
      assertClose(b.reluWithOptionsBackward(dy, x, o), ref.reluWithOptionsBackward(dy, x, o), { atol: 1e-6, rtol: 1e-6 }, `relu' ${what}`);
    }
  }
});

test('[reference] zeroPad2d: 1x2x2x1 pads [[1, 0], [0, 2]], hand-computed', () => {
  const info = pad2dInfo([1, 2, 2, 1], [[1, 0], [0, 2]]);
  const y = ref.zeroPad2d(Float32Array.of(1, 2, 3, 4), info);
  assertClose(y, [0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0], EXACT, 'y 3x4');
  assertClose(ref.zeroPad2dBackprop(Float32Array.from({ length: 12 }, (_, i) => i), info), [4, 5, 8, 9], EXACT, 'dx');
});

test('[reference] reluWithOptions: Keras relu(x, negative_slope=0.5, max_value=3, threshold=1), hand-computed', () => {
  const o = { maxValue: 3, negativeSlope: 0.5, threshold: 1 };
  const x = Float32Array.of(-2, 0, 1, 1.5, 3, 7);
  // x ≤ 1: 0.5·(x − 1); 1 < x: min(x, 3).
  assertClose(ref.reluWithOptions(x, o), [-1.5, -0.5, 0, 1.5, 3, 3], { atol: 0, rtol: 1e-7 }, 'y');
  assertClose(ref.reluWithOptionsBackward(new Float32Array(6).fill(2), x, o), [1, 1, 0, 2, 0, 0], EXACT, 'dx');
});

runOps();
