// The cpu backend's WebAssembly depthwise kernels (src/backend/wasm/depthwise-fast.ts) against the
// reference loops: odd shapes, every padding, strides, dilations and depth multipliers, on one and
// three threads; the filter gradient bit-identical for any thread count; NaN and ±Infinity
// carried where the reference carries them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referenceBackend as ref } from '../src/backend/reference/index.js';
import { depthwiseFast as fast } from '../src/backend/wasm/depthwise-fast.js';
import { engineInfo } from '../src/backend/wasm/engine.js';
import type { Conv2DInfo } from '../src/geometry.js';
import { assertClose, assertIdentical, randomArray, withThreads } from './helpers.js';
import { depthwiseInfoOf, depthwiseName, type DepthwiseCase } from './ops/cases.js';

const cases: DepthwiseCase[] = [];
// Output channels C·M a multiple of 4: 16-channel groups, 4-channel remainders, M = 2 on channels
// not in fours, M = 3 and 4.
const channels: [number, number][] = [[4, 1], [20, 1], [2, 2], [6, 2], [12, 2], [4, 3], [1, 4]];
const windows: Pick<DepthwiseCase, 'k' | 's' | 'd'>[] = [
  { k: [3, 3], s: [1, 1] }, { k: [3, 3], s: [2, 2] }, { k: [3, 2], s: [1, 2] }, { k: [5, 3], s: [2, 1] },
  { k: [1, 1], s: [1, 1] }, { k: [2, 2], s: [3, 3] }, { k: [3, 3], s: [1, 1], d: [2, 2] }, { k: [2, 3], s: [1, 1], d: [3, 1] },
];
channels.forEach(([c, m], i) => {
  for (const [j, win] of windows.entries()) {
    for (const padding of ['same', 'valid'] as const) {
      const h = 5 + ((i + j) % 5), w = 4 + ((i * 3 + j) % 6);
      cases.push({ shape: [1 + ((i + j) % 3), h, w, c], m, padding, ...win });
    }
  }
});
// Large enough that the engine splits them over its threads.
cases.push({ shape: [8, 20, 19, 24], k: [3, 3], m: 2, s: [1, 1], padding: 'same' });
cases.push({ shape: [6, 23, 21, 36], k: [3, 3], m: 1, s: [2, 2], padding: 'same' });
cases.push({ shape: [8, 24, 24, 36], k: [3, 3], m: 1, s: [1, 1], padding: 'valid' });

const name = depthwiseName;
const infoOf = depthwiseInfoOf;
// float32 sums of up to kh·kw (forward, dx·M) or batch·OH·OW (dw) terms against float64 ones.
const TOL = { atol: 1e-5, rtol: 1e-4 };
const TOL_DW = { atol: 1e-4, rtol: 1e-4 };

function operands(t: DepthwiseCase, seed: number): { info: Conv2DInfo; x: Float32Array; w: Float32Array; dy: Float32Array } {
  const info = infoOf(t);
  const [n, h, wd, c] = t.shape;
  return {
    info,
    x: randomArray(n * h * wd * c, seed),
    w: randomArray(t.k[0] * t.k[1] * c * t.m, seed + 1),
    dy: randomArray(n * info.outHeight * info.outWidth * c * t.m, seed + 2),
  };
}

function checkAll(seed: number): void {
  cases.forEach((t, i) => {
    const { info, x, w, dy } = operands(t, seed + 3 * i);
    assertClose(fast.depthwiseConv2d(x, w, info) ?? [], ref.depthwiseConv2d(x, w, info), TOL, `forward ${name(t)}`);
    assertClose(fast.depthwiseConv2dBackpropInput(dy, w, info) ?? [], ref.depthwiseConv2dBackpropInput(dy, w, info), TOL, `dx ${name(t)}`);
    assertClose(fast.depthwiseConv2dBackpropFilter(x, dy, info) ?? [], ref.depthwiseConv2dBackpropFilter(x, dy, info), TOL_DW, `dw ${name(t)}`);
  });
}

test('the WebAssembly depthwise kernels run here: every case with C·M in fours, not C·M = 3 or 6', () => {
  assert.ok(engineInfo().simd, JSON.stringify(engineInfo()));
  for (const t of cases) {
    const { info, x, w } = operands(t, 1);
    assert.ok(fast.depthwiseConv2d(x, w, info) instanceof Float32Array, name(t));
  }
  for (const t of [{ shape: [1, 5, 5, 3], k: [3, 3], m: 1, s: [1, 1], padding: 'same' }, { shape: [1, 5, 5, 3], k: [3, 3], m: 2, s: [1, 1], padding: 'same' }] as DepthwiseCase[]) {
    const { info, x, w, dy } = operands(t, 1);
    assert.is(fast.depthwiseConv2d(x, w, info), null, `forward declines ${name(t)}`);
    assert.is(fast.depthwiseConv2dBackpropInput(dy, w, info), null, `dx declines ${name(t)}`);
    assert.is(fast.depthwiseConv2dBackpropFilter(x, dy, info), null, `dw declines ${name(t)}`);
  }
});

test(`forward, input and filter gradients = reference, one thread (${cases.length} cases)`, () => {
  withThreads(1, () => checkAll(100));
});

test(`forward, input and filter gradients = reference, three threads (${cases.length} cases)`, () => {
  withThreads(3, () => checkAll(5000));
});

test('filter gradient: bit-identical on 1, 2 and 3 threads and from run to run (channels split, no parts)', () => {
  for (const t of cases.slice(-3)) {
    const { info, x, dy } = operands(t, 77);
    let first: Float32Array | null = null;
    for (const threads of [1, 2, 3, 3]) {
      withThreads(threads, () => {
        const dw = fast.depthwiseConv2dBackpropFilter(x, dy, info);
        assert.ok(dw, name(t));
        if (first === null) first = dw;
        else assertIdentical(dw, first, `dw ${name(t)} on ${threads} threads vs 1`);
      });
    }
  }
});

// NaN where the reference has NaN, the same infinities, finite values close.
function assertSameSpecials(actual: Float32Array | null, expected: Float32Array, what: string): void {
  assert.ok(actual, what);
  let specials = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isFinite(e)) continue;
    specials++;
    if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) assert.unreachable(`${what}: index ${i}: got ${a}, expected ${e}`);
  }
  assert.ok(specials > 0, `${what}: the case has non-finite outputs`);
  const finite = (v: ArrayLike<number>) => Array.from(v, (u, i) => (Number.isFinite(expected[i]) ? u : 0));
  assertClose(finite(actual), finite(expected), TOL_DW, what);
}

test('NaN and ±Infinity in x, w and dy propagate as in the reference (forward, both gradients, M = 1 and 2, strides 1 and 2)', () => {
  for (const t of [
    { shape: [2, 7, 6, 8], k: [3, 3], m: 1, s: [1, 1], padding: 'same' },
    { shape: [2, 7, 6, 6], k: [3, 3], m: 2, s: [2, 2], padding: 'same' },
    { shape: [1, 9, 8, 4], k: [3, 2], m: 2, s: [1, 1], padding: 'valid', d: [2, 2] },
  ] as DepthwiseCase[]) {
    const { info, x, w, dy } = operands(t, 300);
    x[5] = NaN;
    x[x.length - 3] = Infinity;
    w[1] = -Infinity;
    dy[7] = NaN;
    dy[dy.length - 2] = Infinity;
    assertSameSpecials(fast.depthwiseConv2d(x, w, info), ref.depthwiseConv2d(x, w, info), `forward ${name(t)}`);
    assertSameSpecials(fast.depthwiseConv2dBackpropInput(dy, w, info), ref.depthwiseConv2dBackpropInput(dy, w, info), `dx ${name(t)}`);
    assertSameSpecials(fast.depthwiseConv2dBackpropFilter(x, dy, info), ref.depthwiseConv2dBackpropFilter(x, dy, info), `dw ${name(t)}`);
  }
});

test.run();
