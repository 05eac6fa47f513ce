// The direct convolution of few input channels, whose threads take their blocks (rows of pixels;
// with the pool, pooled rows) from a shared counter as they come free (asm convForwardDirect and
// convForwardDirectPool): on 1, 2 and 3 threads, the same bits, the pooled kernel the same as the
// direct convolution written out and then pooled, and the reference within the im2col tolerance;
// pair, 2×2-block and scratch (3×3 pool) paths, odd sizes, 'same' and 'valid', NaN and ±Infinity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend, setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useDirect } from '../src/backend/wasm/conv-plan.js';
import { THREAD_MIN_MACS } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { assertClose, assertIdentical, randomArray } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

// [batch, h, w, c, f, padding, pool size]: each over THREAD_MIN_MACS, so that it runs on every thread.
const shapes: [number, number, number, number, number, Padding, number][] = [
  [5, 34, 30, 3, 16, 'same', 2],
  [6, 21, 19, 3, 32, 'valid', 2],
  [16, 33, 36, 1, 8, 'same', 2],
  [4, 24, 26, 4, 24, 'same', 3],
];

test('direct conv + pool (inference), pooled rows taken by threads as they come free: 1, 2, 3 threads = the direct conv then max pool, bit for bit, and = reference', () => {
  try {
    for (const [n, h, w, c, f, pad, k] of shapes) {
      const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
      const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], [k, k], f, [k, k], 'valid');
      assert.ok(useDirect(info), `direct kernel [${n},${h},${w},${c}]→${f}`);
      assert.ok(n * info.outHeight * info.outWidth * 9 * c * f >= THREAD_MIN_MACS, `[${n},${h},${w},${c}]→${f} is split over the threads`);
      const finite = randomArray(n * h * w * c, h + f);
      const x = Float32Array.from(finite);
      x[7] = NaN;
      x[(h * w + 3 * w + 4) * c] = Infinity;
      x[x.length - 1] = -Infinity;
      const other = randomArray(x.length, h + f + 1);
      const wt = randomArray(9 * c * f, f);
      const bias = randomArray(f, 3);
      for (const act of ['relu', 'linear'] as const) {
        setBackend('cpu', { threads: 1 });
        const want = fast.maxPool(fast.fused.conv!.conv2d(x, wt, bias, info, act), pool).y;
        const wantFinite = fast.maxPool(fast.fused.conv!.conv2d(finite, wt, bias, info, act), pool).y;
        const plain = ref.biasAdd(ref.conv2d(finite, wt, info), bias, f);
        const expected = ref.maxPool(act === 'relu' ? ref.activation('relu', plain, f, 0) : plain, pool).y;
        assertClose(wantFinite, expected, { atol: 2e-6 * (4 + Math.sqrt(9 * c) * 2), rtol: 1e-4 }, `direct conv then pool = reference [${n},${h},${w},${c}]→${f} ${act}`);
        for (const threads of [1, 2, 3]) {
          const what = `${threads} thread(s) [${n},${h},${w},${c}]→${f} ${pad} pool ${k} ${act}`;
          setBackend('cpu', { threads });
          // Another input first: a block no thread took would keep that call's values.
          fast.fused.conv!.conv2dMaxPool(other, wt, bias, info, act, pool);
          assertIdentical(fast.fused.conv!.conv2dMaxPool(finite, wt, bias, info, act, pool), wantFinite, `conv2dMaxPool = direct conv, then pool ${what}`);
          const y = fast.fused.conv!.conv2dMaxPool(x, wt, bias, info, act, pool);
          assertIdentical(y, want, `conv2dMaxPool with NaN and ±Infinity = direct conv, then pool ${what}`);
          assert.ok(y.some(Number.isNaN) === (act === 'linear'), `NaN reaches the linear pool only ${what}`);
        }
      }
    }
  } finally {
    setBackend('cpu');
  }
});

test('direct conv (the training forward), rows taken by threads as they come free: 1, 2, 3 threads give the same bits, NaN and ±Infinity included, and = reference', () => {
  try {
    for (const [n, h, w, c, f, pad] of shapes) {
      const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
      const x = randomArray(n * h * w * c, h + f);
      const finite = Float32Array.from(x);
      x[11] = NaN;
      x[(2 * h * w + 5 * w + 1) * c] = -Infinity;
      const other = randomArray(x.length, h + f + 2);
      const wt = randomArray(9 * c * f, f + 1);
      const bias = randomArray(f, 5);
      const plain = ref.biasAdd(ref.conv2d(finite, wt, info), bias, f);
      setBackend('cpu', { threads: 1 });
      const want = fast.fused.conv!.conv2d(x, wt, bias, info, 'relu');
      const wantPlain = fast.conv2d(finite, wt, info);
      assertClose(fast.fused.conv!.conv2d(finite, wt, bias, info, 'linear'), plain, { atol: 2e-6 * (4 + Math.sqrt(9 * c) * 2), rtol: 1e-4 }, `direct conv = reference [${n},${h},${w},${c}]→${f}`);
      for (const threads of [1, 2, 3]) {
        const what = `${threads} thread(s) [${n},${h},${w},${c}]→${f} ${pad}`;
        setBackend('cpu', { threads });
        fast.fused.conv!.conv2d(other, wt, bias, info, 'relu');
        assertIdentical(fast.fused.conv!.conv2d(x, wt, bias, info, 'relu'), want, `conv2d + bias + relu with NaN and ±Infinity ${what}`);
        fast.conv2d(other, wt, info);
        assertIdentical(fast.conv2d(finite, wt, info), wantPlain, `conv2d ${what}`);
      }
    }
  } finally {
    setBackend('cpu');
  }
});

test.run();
