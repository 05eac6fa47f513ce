// A Dense kernel kept packed in the engine (src/backend/wasm/packed-weights.ts matmulWeight): with
// the work split by columns, the threads take slivers of 8 columns from a shared counter as they
// come free and read A where it is (asm gemmPrepackedSlivers). On 1, 2 and 3 threads its product
// is the engine's general GEMM's bit for bit (the same multiply-adds in the same order), and the
// reference's within float32 rounding; batch sizes that are not a multiple of 4 take the packed-A
// path, with the same bits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { gemmReference } from '../src/backend/gemm.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { matmulWeight } from '../src/backend/wasm/packed-weights.js';
import { assertClose, assertIdentical, randomArray } from './helpers.js';

// [m, k, n] (k·n ≥ 2^15, where B is kept packed): the seed model's Dense, columns past the last full
// sliver, small and odd shapes.
const shapes: [number, number, number][] = [[32, 4608, 150], [8, 2100, 17], [12, 1000, 64], [4, 300, 200], [6, 1013, 40], [1, 2000, 33]];

test('matmulWeight, slivers taken by threads as they come free: = the general GEMM bit for bit on 1, 2, 3 threads, = reference', () => {
  let version = 1;
  try {
    for (const [m, k, n] of shapes) {
      const a = randomArray(m * k, m + k);
      const b = randomArray(k * n, n);
      const other = randomArray(m * k, m + k + 1);
      const want = new Float32Array(m * n);
      gemmFast(false, false, m, n, k, a, b, want, false);
      const ref = new Float32Array(m * n);
      gemmReference(false, false, m, n, k, a, b, ref, false);
      assertClose(want, ref, { atol: 1e-5 * Math.sqrt(k), rtol: 1e-4 }, `general GEMM = reference [${m}×${k}]·[${k}×${n}]`);
      version++;
      for (const threads of [1, 2, 3]) {
        setBackend('cpu', { threads });
        const what = `[${m}×${k}]·[${k}×${n}], ${threads} thread(s)`;
        // Another A first: a sliver no thread took would keep that product's values.
        assert.ok(matmulWeight(other, b, m, k, n, version) !== null, `the packed path runs ${what}`);
        const y = matmulWeight(a, b, m, k, n, version);
        assert.ok(y !== null, `the packed path runs ${what}`);
        assertIdentical(y!, want, `matmulWeight = general GEMM ${what}`);
      }
    }
  } finally {
    setBackend('cpu');
  }
});

test.run();
