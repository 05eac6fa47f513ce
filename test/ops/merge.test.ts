// add, combine, extremum, concat and their backward ops on every backend against the reference, and by hand.
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

opTest('add', 'large arrays (the cpu backend runs them in WebAssembly): the f32 sums exactly, NaN, ±Infinity and −0 included', (b, name) => {
  for (const n of [1 << 14, 70001]) {
    const x = rand(n);
    const y = rand(n);
    if (!name.startsWith('gpu')) {
      x.set([NaN, Infinity, -Infinity, -0, 1e38, 5], 3);
      y.set([1, -Infinity, -Infinity, -0, 1e38, NaN], 3);
      x[n - 1] = Infinity;
    }
    const got = b.add(x, y);
    const want = ref.add(x, y);
    assert.is(got.length, n);
    for (let i = 0; i < n; i++) {
      if (!(Object.is(got[i], want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) assert.unreachable(`add ${n}: [${i}] ${got[i]} against ${want[i]}`);
    }
  }
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

opTest('combine', 'p·a + q·b by hand and random', (b) => {
  assert.equal(Array.from(b.combine(Float32Array.of(1, 2, 3), Float32Array.of(10, 20, 30), 1, -1)), [-9, -18, -27]);
  assert.equal(Array.from(b.combine(Float32Array.of(1, 2), Float32Array.of(4, 6), 0.5, 0.25)), [1.5, 2.5]);
  for (const n of [1, 33, 4097]) {
    const x = rand(n);
    const y = rand(n);
    assertClose(b.combine(x, y, 0.3, -1.7), ref.combine(x, y, 0.3, -1.7), TOL, `combine ${n}`);
  }
});

opTest('extremum', 'max / min and their gradients by hand: ties go to a (as TF)', (b) => {
  const a = Float32Array.of(1, 5, 2, -3);
  const c = Float32Array.of(4, 5, 1, -3);
  const dy = Float32Array.of(10, 20, 30, 40);
  assert.equal(Array.from(b.extremum('max', a, c)), [4, 5, 2, -3]);
  assert.equal(Array.from(b.extremum('min', a, c)), [1, 5, 1, -3]);
  const max = b.extremumBackward('max', dy, a, c);
  assert.equal([Array.from(max.da), Array.from(max.db)], [[0, 20, 30, 40], [10, 0, 0, 0]]);
  const min = b.extremumBackward('min', dy, a, c);
  assert.equal([Array.from(min.da), Array.from(min.db)], [[10, 20, 0, 40], [0, 0, 30, 0]]);
});

opTest('extremum', 'random, forward and backward against the reference', (b) => {
  for (const kind of ['max', 'min'] as const) {
    for (const n of [3, 1000, 4099]) {
      const x = rand(n);
      const y = rand(n);
      y[0] = x[0];
      const dy = rand(n);
      assertClose(b.extremum(kind, x, y), ref.extremum(kind, x, y), TOL, `${kind} ${n}`);
      const got = b.extremumBackward(kind, dy, x, y);
      const want = ref.extremumBackward(kind, dy, x, y);
      assertClose(got.da, want.da, TOL, `${kind} da ${n}`);
      assertClose(got.db, want.db, TOL, `${kind} db ${n}`);
    }
  }
});

runOps();
