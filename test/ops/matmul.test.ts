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

// B as a layer's weight at a version: a backend may keep B prepared between calls (the cpu
// backend packs it once into its engine's memory, for B of at least 32,768 floats).
opTest('matmul', 'C = A·B with B a weight: same B and version twice, then new values under a new version', (b) => {
  for (const [m, k, n] of [[5, 300, 130], [33, 600, 70], [1, 4608, 17]] as [number, number, number][]) {
    const a = rand(m * k);
    const w = rand(k * n);
    const what = `matmul ${m}x${k}x${n} with a weight`;
    // Sums of k float32 products in another order (a GPU's) drift by about √k rounding steps; a
    // stale or misplaced B is off by O(1).
    const tol = { atol: 1e-5 * Math.sqrt(k / 100), rtol: 1e-4 };
    assertClose(b.matmul(a, w, m, k, n, false, false, 1), ref.matmul(a, w, m, k, n, false, false), tol, `${what}, first call`);
    const a2 = rand(m * k);
    assertClose(b.matmul(a2, w, m, k, n, false, false, 1), ref.matmul(a2, w, m, k, n, false, false), tol, `${what}, same version`);
    w.set(rand(k * n));
    assertClose(b.matmul(a2, w, m, k, n, false, false, 2), ref.matmul(a2, w, m, k, n, false, false), tol, `${what}, new version`);
  }
});

runOps();
