// The training forward of a 3×3 convolution with its 2×2 max pool in F(4×4, 3×3) (asm
// convForwardWinograd4PoolArgmax, conv2dMaxPoolTrain with `winograd: 4`): pooled output
// and argmax against the reference, on shapes with tiles partly outside the input and outputs the
// pool drops (odd sizes), channel counts whose halves are not multiples of 4, one to three threads;
// and with NaN inputs, against asm maxPool over the F(4×4) convolution's own output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend, setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useWinograd4TrainPool } from '../src/backend/wasm/conv-plan.js';
import { winogradPools } from '../src/backend/wasm/conv-winograd.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { assertClose, randomArray } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

// [batch, h, w, c, f, padding]: 13×11 'same' (odd: last row and
// column dropped, border tiles on every side), 10×7 'valid' (8×5 out: one tile row, odd width), 2×2
// (one pooled output), 21×18 (several tiles a row, the last half past the pooled output; C = 12:
// halves of 6 channels, F = 44: a last sliver of 4 filters), 14×14.
const shapes: [number, number, number, number, number, Padding][] = [
  [2, 13, 11, 16, 32, 'same'], [3, 10, 7, 16, 32, 'valid'], [1, 2, 2, 32, 16, 'same'], [5, 21, 18, 12, 44, 'same'], [2, 14, 14, 32, 24, 'same'],
];

// The op tests' conv tolerance (test/conv-fast.test.ts) for a sum over `depth` products.
function tolerance(depth: number): { atol: number; rtol: number } {
  return { atol: 2e-6 * (4 + Math.sqrt(depth) * 2), rtol: 1e-4 };
}

// body with the cpu backend on `threads` threads and F(4×4) (then back to the defaults).
function withF4(threads: number, body: () => void): void {
  setBackend('cpu', { threads, winograd: 4 });
  try {
    body();
  } finally {
    setBackend('cpu');
  }
}

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: index ${i}: got ${a[i]}, expected ${b[i]}`);
}

test('conv2dMaxPoolTrain in F(4×4): pooled output and argmax = the reference, odd sizes, border tiles, 1 to 3 threads', () => {
  let checked = 0;
  for (const [n, h, w, c, f, pad] of shapes) {
    const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
    const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], [2, 2], f, [2, 2], 'valid');
    const x = randomArray(n * h * w * c, 11 + h);
    const wt = randomArray(9 * c * f, 12 + f, -0.5, 0.5);
    const bias = randomArray(f, 13);
    for (const act of ['linear', 'relu'] as const) {
      const what = `[${n},${h},${w},${c}]→${f} ${pad} ${act}`;
      const want = ref.fused.conv!.conv2dMaxPoolTrain(x, wt, act === 'relu' ? bias : null, info, act, pool);
      let first: { y: Float32Array; argmax: Int32Array } | null = null;
      for (const threads of [1, 2, 3]) {
        withF4(threads, () => {
          assert.ok(useWinograd4TrainPool(info) && winogradPools(info, pool, true), `F(4×4) pooled training forward runs ${what}`);
          const got = fast.fused.conv!.conv2dMaxPoolTrain(x, wt, act === 'relu' ? bias : null, info, act, pool);
          assertClose(got.y, want.y, tolerance(9 * c), `y ${what} ${threads} threads`);
          same(got.argmax, want.argmax, `argmax ${what} ${threads} threads`);
          // Which thread takes which block varies from run to run; the values must not.
          if (first) {
            same(got.y, first.y, `y on ${threads} threads = on 1 ${what}`);
            same(got.argmax, first.argmax, `argmax on ${threads} threads = on 1 ${what}`);
          } else first = got;
          checked += want.y.length;
        });
      }
    }
  }
  assert.ok(checked > 10000, `${checked} pooled outputs checked`);
});

test('conv2dMaxPoolTrain in F(4×4) with NaN and ±Infinity inputs = asm maxPool over the F(4×4) conv output, bit for bit; NaN windows win with a NaN cell', () => {
  for (const [n, h, w, c, f, pad] of shapes) {
    const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
    const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], [2, 2], f, [2, 2], 'valid');
    const x = randomArray(n * h * w * c, 21 + h);
    // One NaN in the first image, ±Infinity further on (Winograd turns them into NaN across a tile).
    x[5] = NaN;
    if (x.length > 3 * h * w) (x[2 * h * w + 1] = Infinity), (x[3 * h * w - 2] = -Infinity);
    const wt = randomArray(9 * c * f, 22);
    const bias = randomArray(f, 23);
    for (const act of ['linear', 'relu'] as const) {
      const what = `[${n},${h},${w},${c}]→${f} ${pad} ${act}`;
      let conv: Float32Array = new Float32Array(0);
      withF4(1, () => void (conv = fast.fused.conv!.conv2d(x, wt, bias, info, act)));
      const want = fast.maxPool(conv, pool);
      for (const threads of [1, 2]) {
        withF4(threads, () => {
          const got = fast.fused.conv!.conv2dMaxPoolTrain(x, wt, bias, info, act, pool);
          same(got.y, want.y, `y ${what} ${threads} threads`);
          same(got.argmax, want.argmax, `argmax ${what} ${threads} threads`);
          let nan = 0;
          for (let i = 0; i < got.y.length; i++) {
            if (Number.isNaN(got.y[i])) {
              nan++;
              assert.ok(Number.isNaN(conv[got.argmax[i]]), `${what}: pooled NaN at ${i} points at a number`);
            }
          }
          // relu maps NaN to 0 in the kernels; linear keeps it, and the pool propagates it.
          if (act === 'linear' && pool.outHeight * pool.outWidth > 0) assert.ok(nan > 0, `${what}: no NaN reached the pooled output`);
        });
      }
    }
  }
});

test.run();
