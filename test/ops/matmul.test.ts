// matmul on every backend against the reference: every transpose combination, odd sizes.
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const sizes: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [17, 9, 13], [32, 64, 7], [5, 130, 33]];

opTest('matmul', 'C = op(A)·op(B), all transposes', (b) => {
  for (const [m, k, n] of sizes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = rand(m * k);
        const bb = rand(k * n);
        assertClose(b.matmul(a, bb, m, k, n, transA, transB), ref.matmul(a, bb, m, k, n, transA, transB), { atol: 1e-5, rtol: 1e-4 }, `matmul ${m}x${k}x${n} tA=${transA} tB=${transB}`);
      }
    }
  }
});

runOps();
