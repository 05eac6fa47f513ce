// avgPool and avgPoolBackprop on every backend against the reference ('same' windows divide by
// their cells inside the image), plus hand-computed cases of the reference itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dInfo, type Padding } from '../../src/geometry.js';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };

const cases: { shape: [number, number, number, number]; k: [number, number]; s: [number, number]; padding: Padding }[] = [
  { shape: [2, 6, 6, 3], k: [2, 2], s: [2, 2], padding: 'valid' },
  { shape: [1, 7, 5, 2], k: [3, 3], s: [2, 2], padding: 'same' },
  { shape: [3, 5, 8, 4], k: [2, 3], s: [1, 2], padding: 'valid' },
  { shape: [2, 9, 9, 16], k: [3, 3], s: [1, 1], padding: 'same' },
  // A global pool: one window over the whole image.
  { shape: [2, 5, 7, 6], k: [5, 7], s: [5, 7], padding: 'valid' },
];

opTest('avgPool', 'values and avgPoolBackprop', (b) => {
  for (const t of cases) {
    const [n, h, w, c] = t.shape;
    const info = conv2dInfo(t.shape, t.k, c, t.s, t.padding);
    const what = `${t.shape.join('x')} k${t.k.join('x')} s${t.s.join('x')} ${t.padding}`;
    const x = rand(n * h * w * c);
    assertClose(b.avgPool(x, info), ref.avgPool(x, info), TOL, `avgPool ${what}`);
    const dy = rand(n * info.outHeight * info.outWidth * c);
    assertClose(b.avgPoolBackprop(dy, info), ref.avgPoolBackprop(dy, info), TOL, `avgPoolBackprop ${what}`);
  }
});

// From 16384 input values the cpu backend pools in WebAssembly, with the reference's f64 sums.
const large: typeof cases = [
  // The residual example's global pool at batch 32.
  { shape: [32, 8, 8, 32], k: [8, 8], s: [8, 8], padding: 'valid' },
  // Odd channels (the f64 pair's leftover lane), 'same' borders, overlapping windows.
  { shape: [4, 33, 17, 9], k: [3, 3], s: [2, 2], padding: 'same' },
  { shape: [2, 40, 41, 7], k: [2, 5], s: [1, 3], padding: 'valid' },
];

opTest('avgPool', 'large inputs: the reference values bit for bit, NaN and ±Infinity included', (b, name) => {
  for (const t of large) {
    const [n, h, w, c] = t.shape;
    const info = conv2dInfo(t.shape, t.k, c, t.s, t.padding);
    const what = `${t.shape.join('x')} k${t.k.join('x')} s${t.s.join('x')} ${t.padding}`;
    const x = rand(n * h * w * c);
    if (!name.startsWith('gpu')) x.set([NaN, Infinity, -Infinity, 3e38, 3e38], 5 * c);
    const got = b.avgPool(x, info);
    const want = ref.avgPool(x, info);
    if (name.startsWith('gpu')) {
      assertClose(got, want, TOL, `avgPool ${what}`);
      continue;
    }
    assert.is(got.length, want.length);
    for (let i = 0; i < want.length; i++) {
      if (!(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) assert.unreachable(`avgPool ${what}: [${i}] ${got[i]} against ${want[i]}`);
    }
  }
});

test('[reference] avgPool: 1x3x3x1 pool 2 stride 1 same, hand-computed', () => {
  // x = 1..9 row-major; 'same' pads one row/column after; edge windows divide by their inside cells.
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const info = conv2dInfo([1, 3, 3, 1], [2, 2], 1, [1, 1], 'same');
  const want = [(1 + 2 + 4 + 5) / 4, (2 + 3 + 5 + 6) / 4, (3 + 6) / 2, (4 + 5 + 7 + 8) / 4, (5 + 6 + 8 + 9) / 4, (6 + 9) / 2, (7 + 8) / 2, (8 + 9) / 2, 9];
  assertClose(ref.avgPool(x, info), Float32Array.from(want), { atol: 0, rtol: 1e-7 }, 'avgPool 1x3x3x1 same');
  const dy = new Float32Array(9).fill(1);
  // Cell (0,0) is only in window (0,0): 1/4. Cell (2,2) is in windows of 4, 2, 2 and 1 cells.
  const dx = ref.avgPoolBackprop(dy, info);
  assertClose(dx.subarray(0, 1), Float32Array.of(0.25), { atol: 0, rtol: 1e-7 }, 'dx[0,0]');
  assertClose(dx.subarray(8, 9), Float32Array.of(0.25 + 0.5 + 0.5 + 1), { atol: 0, rtol: 1e-7 }, 'dx[2,2]');
});

test('[reference] avgPool: 1x2x4x2 pool 2 valid, hand-computed', () => {
  const x = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60, 7, 70, 8, 80]);
  const info = conv2dInfo([1, 2, 4, 2], [2, 2], 2, [2, 2], 'valid');
  assertClose(ref.avgPool(x, info), Float32Array.from([3.5, 35, 5.5, 55]), { atol: 0, rtol: 1e-7 }, 'avgPool 1x2x4x2');
});

runOps();
