// The inference kernel of a 3×3 convolution + 2×2 max pool in Winograd F(4×4) (asm
// convForwardWinograd4Pool: the pool, the bias and the relu taken in the output transform) against
// the F(4×4) convolution written out and then pooled (bit for bit) and against the reference
// (within the im2col tolerance): border tiles ('same' and 'valid', images smaller than a tile,
// odd sizes whose last row or column the pool drops), 1–3 threads, NaN and ±Infinity inputs,
// windows and biases of NaN.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend, setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useWinograd4 } from '../src/backend/wasm/conv-plan.js';
import { winogradPools } from '../src/backend/wasm/conv-winograd.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { assertClose, randomArray } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

// [batch, h, w, c, f, padding]
const shapes: [number, number, number, number, number, Padding][] = [
  [3, 13, 11, 8, 12, 'same'],
  [2, 9, 14, 16, 8, 'valid'],
  [2, 3, 5, 4, 4, 'same'],
  [1, 4, 5, 8, 8, 'valid'],
  [1, 2, 2, 8, 8, 'same'],
  [5, 12, 12, 12, 20, 'same'],
  [4, 17, 6, 8, 16, 'same'],
];

function identical(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.unreachable(`${what}: index ${i}: got ${got[i]}, expected ${want[i]}`);
  }
}

function check(threads: number, seed: number): void {
  for (const [n, h, w, c, f, pad] of shapes) {
    const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
    if (info.outHeight < 2 || info.outWidth < 2) continue;
    const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], [2, 2], f, [2, 2], 'valid');
    assert.ok(winogradPools(info, pool) && useWinograd4(info, true), `F(4×4) pools [${n},${h},${w},${c}]→${f}`);
    const x = randomArray(n * h * w * c, seed + h);
    const wt = randomArray(9 * c * f, seed + 1);
    const bias = randomArray(f, seed + 2);
    for (const act of ['relu', 'linear'] as const) {
      const what = `${threads} thread(s) [${n},${h},${w},${c}]→${f} ${pad} ${act}`;
      const y = fast.fused.conv!.conv2dMaxPool(x, wt, bias, info, act, pool, 1);
      setBackend('cpu', { threads, winograd: 4 });
      const want = fast.maxPool(fast.fused.conv!.conv2d(x, wt, bias, info, act), pool).y;
      setBackend('cpu', { threads });
      identical(y, want, `conv2dMaxPool = F(4×4) conv, then pool ${what}`);
      const plain = ref.conv2d(x, wt, info);
      const expected = ref.maxPool(act === 'relu' ? ref.activation('relu', ref.biasAdd(plain, bias, f), f, 0) : ref.biasAdd(plain, bias, f), pool).y;
      assertClose(y, expected, { atol: 2e-6 * (4 + Math.sqrt(9 * c) * 2), rtol: 1e-4 }, `conv2dMaxPool = reference ${what}`);
      // Without a weight version the filter is transformed for this call only: the same result.
      identical(fast.fused.conv!.conv2dMaxPool(x, wt, bias, info, act, pool), y, `conv2dMaxPool without the held filter ${what}`);
    }
  }
}

test('F(4×4) conv + pool (inference) = the F(4×4) conv then the pool, bit for bit, and = reference: 1, 2 and 3 threads', () => {
  try {
    for (const threads of [1, 2, 3]) {
      setBackend('cpu', { threads });
      check(threads, 40 * threads);
    }
  } finally {
    setBackend('cpu');
  }
});

test('F(4×4) conv + pool with NaN and ±Infinity: a NaN window pools to 0 under relu, NaN spreads only where the conv spreads it; = F(4×4) conv then pool, bit for bit', () => {
  const [n, h, w, c, f] = [2, 10, 9, 8, 8];
  const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], 'same');
  const pool = conv2dInfo([n, h, w, f], [2, 2], f, [2, 2], 'valid');
  const x = randomArray(n * h * w * c, 7);
  // A NaN at pixel (2, 2) of image 0 reaches every output of the 3×3 block around it, so the
  // pooled windows over rows/columns 1–3 hold only NaN in some channels; ±Infinity in image 1.
  for (let k = 0; k < c; k++) x[(2 * w + 2) * c + k] = NaN;
  x[(h * w + 5 * w + 5) * c + 1] = Infinity;
  x[(h * w + 1 * w + 7) * c + 2] = -Infinity;
  const wt = randomArray(9 * c * f, 8);
  const biases = [randomArray(f, 9), null, Float32Array.from(randomArray(f, 10), (v, i) => (i === 3 ? NaN : i === 5 ? -Infinity : v))];
  try {
    for (const threads of [1, 3]) {
      for (const bias of biases) {
        for (const act of ['relu', 'linear'] as const) {
          const what = `${threads} thread(s) bias ${bias ? Array.from(bias.subarray(0, 6)).join(',') : 'none'} ${act}`;
          setBackend('cpu', { threads });
          const y = fast.fused.conv!.conv2dMaxPool(x, wt, bias, info, act, pool, 1);
          setBackend('cpu', { threads, winograd: 4 });
          const want = fast.maxPool(fast.fused.conv!.conv2d(x, wt, bias, info, act), pool).y;
          identical(y, want, `conv2dMaxPool ${what}`);
          // Window (0, 0) of image 0 covers outputs (0..1, 0..1), all fed by the NaN pixel.
          if (act === 'relu') {
            for (let k = 0; k < f; k++) assert.ok(y[k] === 0 && !Object.is(y[k], -0), `relu NaN window channel ${k}: ${y[k]} ${what}`);
          } else if (bias === null || !Number.isNaN(bias[0])) {
            assert.ok(Number.isNaN(y[0]), `linear NaN window: ${y[0]} ${what}`);
          }
          const finite = y.subarray((pool.outHeight * pool.outWidth - 1) * f, pool.outHeight * pool.outWidth * f);
          if (bias !== biases[2]) assert.ok(finite.every(Number.isFinite), `last window of image 0 finite ${what}`);
        }
      }
    }
  } finally {
    setBackend('cpu');
  }
});

test.run();
