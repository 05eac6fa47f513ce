// add, concat and concatBackward on every backend against the reference, and concat by hand.
import * as assert from 'uvu/assert';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const TOL = { atol: 1e-7, rtol: 1e-6 };

opTest('add', 'element-wise sum', (b) => {
  for (const n of [1, 7, 4096, 10001]) {
    const x = rand(n);
    const y = rand(n);
    assertClose(b.add(x, y), ref.add(x, y), TOL, `add ${n}`);
  }
  assert.equal(Array.from(b.add(Float32Array.of(1, 2), Float32Array.of(10, -5))), [11, -3]);
});

opTest('concat', 'rows [2] of widths [1, 2] by hand', (b) => {
  const y = b.concat([Float32Array.of(1, 2), Float32Array.of(10, 11, 20, 21)], 2, [1, 2]);
  assert.equal(Array.from(y), [1, 10, 11, 2, 20, 21]);
  const parts = b.concatBackward(Float32Array.of(1, 10, 11, 2, 20, 21), 2, [1, 2]);
  assert.equal(parts.map((p) => Array.from(p)), [[1, 2], [10, 11, 20, 21]]);
});

opTest('concat', 'random parts of 1 to 4 arrays', (b) => {
  for (const [rows, widths] of [[1, [5]], [3, [2, 7]], [37, [16, 1, 9]], [64, [3, 32, 5, 12]]] as [number, number[]][]) {
    const parts = widths.map((w) => rand(rows * w));
    const label = `rows ${rows} widths [${widths.join(', ')}]`;
    const y = b.concat(parts, rows, widths);
    assertClose(y, ref.concat(parts, rows, widths), TOL, `concat ${label}`);
    const dy = rand(y.length);
    const got = b.concatBackward(dy, rows, widths);
    const want = ref.concatBackward(dy, rows, widths);
    assert.is(got.length, widths.length);
    got.forEach((g, i) => assertClose(g, want[i], TOL, `concatBackward ${label} part ${i}`));
  }
});

runOps();
