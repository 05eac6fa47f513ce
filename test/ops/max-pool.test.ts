// maxPool (values and argmax) and maxPoolBackprop on every backend against the reference, ties and
// NaN included (the first cell in window order wins a tie; a NaN wins over any number).
import * as assert from 'uvu/assert';
import { conv2dInfo, type Padding } from '../../src/geometry.js';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const cases: { shape: [number, number, number, number]; k: [number, number]; s: [number, number]; padding: Padding }[] = [
  { shape: [2, 6, 6, 3], k: [2, 2], s: [2, 2], padding: 'valid' },
  { shape: [1, 7, 5, 2], k: [3, 3], s: [2, 2], padding: 'same' },
  { shape: [3, 5, 8, 4], k: [2, 3], s: [1, 2], padding: 'valid' },
  { shape: [2, 9, 9, 16], k: [3, 3], s: [1, 1], padding: 'same' },
];

opTest('maxPool', 'values, argmax, and maxPoolBackprop through that argmax', (b) => {
  for (const t of cases) {
    const [n, h, w, c] = t.shape;
    const info = conv2dInfo(t.shape, t.k, c, t.s, t.padding);
    const what = `${t.shape.join('x')} k${t.k.join('x')} s${t.s.join('x')} ${t.padding}`;
    // Rounded values make ties common.
    const x = rand(n * h * w * c).map((v) => Math.round(v * 4) / 4);
    const got = b.maxPool(x, info);
    const want = ref.maxPool(x, info);
    assertClose(got.y, want.y, { atol: 0, rtol: 0 }, `maxPool y ${what}`);
    assert.equal(Array.from(got.argmax), Array.from(want.argmax), `maxPool argmax ${what}`);
    const dy = rand(want.y.length);
    assertClose(b.maxPoolBackprop(dy, got.argmax, x.length), ref.maxPoolBackprop(dy, want.argmax, x.length), { atol: 1e-6, rtol: 1e-6 }, `maxPoolBackprop ${what}`);
  }
});

// The first NaN in window order wins (value and argmax), also after a larger number, in overlapping
// windows and with several NaNs in one window; ±Infinity stay ordinary values.
opTest('maxPool', 'NaN and infinite inputs, exactly as the reference', (b) => {
  for (const t of cases.slice(0, 3)) {
    const [n, h, w, c] = t.shape;
    const info = conv2dInfo(t.shape, t.k, c, t.s, t.padding);
    const what = `${t.shape.join('x')} k${t.k.join('x')} s${t.s.join('x')} ${t.padding}`;
    const x = rand(n * h * w * c);
    for (let i = 0; i < x.length; i++) {
      if (i % 7 === 3 || i % 11 === 5) x[i] = NaN;
      else if (i % 13 === 1) x[i] = Infinity;
      else if (i % 17 === 2) x[i] = -Infinity;
    }
    x[0] = 5;
    x[c] = NaN;
    const got = b.maxPool(x, info);
    const want = ref.maxPool(x, info);
    assert.ok(want.y.some(Number.isNaN), `case ${what} has no NaN output`);
    const diff = Array.from(want.y).findIndex((v, i) => !Object.is(v, got.y[i]));
    assert.is(diff, -1, `maxPool NaN y ${what}: index ${diff}: ${got.y[diff]} vs ${want.y[diff]}`);
    assert.equal(Array.from(got.argmax), Array.from(want.argmax), `maxPool NaN argmax ${what}`);
    const dy = rand(want.y.length);
    assertClose(b.maxPoolBackprop(dy, got.argmax, x.length), ref.maxPoolBackprop(dy, want.argmax, x.length), { atol: 1e-6, rtol: 1e-6 }, `maxPoolBackprop NaN ${what}`);
  }
});

runOps();
