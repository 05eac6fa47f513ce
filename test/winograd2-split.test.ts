// Winograd F(2×2, 3×3), whose threads take their blocks of tiles from a shared counter as they
// come free (asm convForwardWinograd and convForwardWinogradPool, as F(4×4) does): the training
// forward of narrow layers (under WINOGRAD4_MIN_PAIRS channel pairs) and its 2×2 pool with the
// argmax give the same bits on 1, 2 and 3 threads, NaN and ±Infinity included, and the reference
// within the im2col tolerance; odd sizes, 'same' and 'valid'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend, setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useWinograd, useWinograd4, useWinograd4TrainPool } from '../src/backend/wasm/conv-plan.js';
import { THREAD_MIN_MACS } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { assertClose, assertIdentical, randomArray } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

// [batch, h, w, c, f, padding]: each over THREAD_MIN_MACS (split over every thread), under 512 pairs.
const shapes: [number, number, number, number, number, Padding][] = [
  [4, 17, 15, 16, 16, 'same'],
  [5, 20, 22, 8, 12, 'valid'],
  [16, 13, 13, 12, 8, 'same'],
];

test('Winograd F(2×2) forward and its pool with argmax, tiles taken by threads as they come free: 1, 2, 3 threads give the same bits, NaN and ±Infinity included, and = reference', () => {
  try {
    for (const [n, h, w, c, f, pad] of shapes) {
      const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
      const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], [2, 2], f, [2, 2], 'valid');
      const shape = `[${n},${h},${w},${c}]→${f} ${pad}`;
      setBackend('cpu');
      assert.ok(useWinograd(info) && !useWinograd4(info) && !useWinograd4TrainPool(info), `F(2×2) ${shape}`);
      assert.ok(n * info.outHeight * info.outWidth * 9 * c * f >= THREAD_MIN_MACS, `${shape} is split over the threads`);
      const finite = randomArray(n * h * w * c, h + f);
      const x = Float32Array.from(finite);
      x[5] = NaN;
      x[(h * w + 2 * w + 3) * c + 1] = -Infinity;
      x[x.length - 2] = Infinity;
      const other = randomArray(x.length, h + f + 1);
      const wt = randomArray(9 * c * f, f);
      const bias = randomArray(f, 3);
      const plain = ref.biasAdd(ref.conv2d(finite, wt, info), bias, f);
      const tol = { atol: 2e-6 * (4 + Math.sqrt(9 * c) * 2), rtol: 1e-4 };
      setBackend('cpu', { threads: 1 });
      assertClose(fast.fused.conv!.conv2d(finite, wt, bias, info, 'linear'), plain, tol, `F(2×2) = reference ${shape}`);
      const want = fast.fused.conv!.conv2d(x, wt, bias, info, 'relu');
      const wantPool = fast.fused.conv!.conv2dMaxPoolTrain(x, wt, bias, info, 'linear', pool);
      const wantPoolFinite = fast.fused.conv!.conv2dMaxPoolTrain(finite, wt, bias, info, 'relu', pool);
      const expectedPool = ref.maxPool(ref.activation('relu', plain, f, 0), pool).y;
      assertClose(wantPoolFinite.y, expectedPool, tol, `F(2×2) + pool = reference ${shape}`);
      for (const threads of [1, 2, 3]) {
        const what = `${threads} thread(s) ${shape}`;
        setBackend('cpu', { threads });
        // Another input first: a block no thread took would keep that call's values.
        fast.fused.conv!.conv2d(other, wt, bias, info, 'relu');
        assertIdentical(fast.fused.conv!.conv2d(x, wt, bias, info, 'relu'), want, `conv2d + bias + relu with NaN and ±Infinity ${what}`);
        fast.fused.conv!.conv2dMaxPoolTrain(other, wt, bias, info, 'linear', pool);
        const got = fast.fused.conv!.conv2dMaxPoolTrain(x, wt, bias, info, 'linear', pool);
        assertIdentical(got.y, wantPool.y, `conv + pool with NaN and ±Infinity ${what}`);
        assert.equal(Array.from(got.argmax), Array.from(wantPool.argmax), `argmax ${what}`);
        assert.ok(got.y.some(Number.isNaN), `NaN reaches the linear pool ${what}`);
        const gotFinite = fast.fused.conv!.conv2dMaxPoolTrain(finite, wt, bias, info, 'relu', pool);
        assertIdentical(gotFinite.y, wantPoolFinite.y, `conv + relu + pool ${what}`);
        assert.equal(Array.from(gotFinite.argmax), Array.from(wantPoolFinite.argmax), `argmax, relu ${what}`);
      }
    }
  } finally {
    setBackend('cpu');
  }
});

test.run();
