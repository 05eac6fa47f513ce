// The WebAssembly convolutions of the 'cpu' backend (asm/conv.ts via src/backend/wasm/conv-fast.ts)
// against the plain TypeScript reference, on random inputs over many geometries, forward
// (plain, fused with bias and relu, and fused with a max pool) and the gradients (separate and fused with relu' and db), on one thread and on several;
// im2col + GEMM, direct (few input channels) and Winograd F(2×2, 3×3) (3×3 stride 1) kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend } from '../src/backend/index.js';
import { setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useWinograd, useWinograd4, useWinograd4Grad, useWinograd4TrainPool, WINOGRAD4_MIN_PAIRS } from '../src/backend/wasm/conv-plan.js';
import { winograd4Filter, winograd4FilterFloats, winogradPools } from '../src/backend/wasm/conv-winograd.js';
import { engineInfo, getEngine, reserve } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Conv2DInfo, type Padding } from '../src/geometry.js';
import { assertClose, assertIdentical, randomArray, withThreads } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

interface Case {
  batch: number;
  h: number;
  w: number;
  c: number;
  f: number;
  k: [number, number];
  s: [number, number];
  pad: Padding;
  d?: [number, number];
}

const cases: Case[] = [
  { batch: 1, h: 5, w: 7, c: 1, f: 1, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 2, h: 9, w: 8, c: 3, f: 16, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 3, h: 11, w: 13, c: 16, f: 33, k: [3, 3], s: [2, 2], pad: 'same' },
  { batch: 2, h: 11, w: 13, c: 33, f: 16, k: [3, 3], s: [2, 2], pad: 'valid' },
  { batch: 1, h: 12, w: 10, c: 3, f: 8, k: [5, 5], s: [1, 1], pad: 'valid' },
  { batch: 4, h: 13, w: 9, c: 16, f: 7, k: [5, 5], s: [1, 1], pad: 'same' },
  { batch: 2, h: 10, w: 11, c: 33, f: 5, k: [5, 5], s: [2, 2], pad: 'same' },
  { batch: 3, h: 7, w: 9, c: 16, f: 33, k: [1, 1], s: [1, 1], pad: 'valid' },
  { batch: 2, h: 7, w: 9, c: 3, f: 16, k: [1, 1], s: [2, 2], pad: 'same' },
  { batch: 1, h: 6, w: 6, c: 33, f: 3, k: [1, 1], s: [1, 1], pad: 'same' },
  { batch: 2, h: 9, w: 10, c: 3, f: 4, k: [2, 3], s: [1, 2], pad: 'same' },
  { batch: 2, h: 12, w: 11, c: 5, f: 6, k: [3, 3], s: [1, 1], pad: 'same', d: [2, 2] },
  { batch: 1, h: 3, w: 3, c: 16, f: 16, k: [5, 5], s: [1, 1], pad: 'same' },
  // Few input channels and outChannels a multiple of 8: the direct forward (useDirect), with its
  // borders, groups of four pixels cut by the row end, strides, dilation and outputs narrower than four.
  { batch: 2, h: 9, w: 10, c: 3, f: 16, k: [3, 3], s: [2, 2], pad: 'same' },
  { batch: 2, h: 12, w: 11, c: 2, f: 8, k: [3, 3], s: [1, 1], pad: 'same', d: [2, 2] },
  { batch: 2, h: 10, w: 13, c: 3, f: 16, k: [3, 3], s: [1, 1], pad: 'same', d: [2, 2] },
  { batch: 3, h: 6, w: 5, c: 4, f: 24, k: [3, 3], s: [1, 1], pad: 'valid' },
  { batch: 2, h: 7, w: 9, c: 1, f: 8, k: [3, 5], s: [2, 1], pad: 'valid' },
  // 3×3 stride 1 with channels in and out multiples of 4: Winograd F(2×2, 3×3) forward and input
  // gradient (useWinograd), with partial tiles (odd sizes, a 1×1 image), 'valid' and 'same'.
  { batch: 1, h: 5, w: 7, c: 4, f: 12, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 3, h: 9, w: 6, c: 8, f: 4, k: [3, 3], s: [1, 1], pad: 'valid' },
  { batch: 2, h: 1, w: 1, c: 8, f: 8, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 2, h: 4, w: 3, c: 12, f: 20, k: [3, 3], s: [1, 1], pad: 'valid' },
  { batch: 8, h: 15, w: 14, c: 32, f: 64, k: [3, 3], s: [1, 1], pad: 'same' },
  // Large enough to split over threads (forward rows, images for dx, rows for dw).
  { batch: 32, h: 20, w: 20, c: 3, f: 16, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 32, h: 13, w: 13, c: 16, f: 32, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 32, h: 9, w: 9, c: 33, f: 33, k: [3, 3], s: [2, 2], pad: 'valid' },
  { batch: 1, h: 40, w: 37, c: 16, f: 33, k: [5, 5], s: [1, 1], pad: 'same' },
  // The pooled gradient's scatter (and its bias gradient) split over threads by images.
  { batch: 8, h: 64, w: 66, c: 8, f: 8, k: [3, 3], s: [1, 1], pad: 'same' },
  { batch: 32, h: 8, w: 8, c: 33, f: 16, k: [1, 1], s: [1, 1], pad: 'valid' },
];

function name(t: Case): string {
  const d = t.d ? ` dilation ${t.d.join('×')}` : '';
  return `[${t.batch},${t.h},${t.w},${t.c}] ⋆ ${t.k.join('×')}×${t.f} stride ${t.s.join('×')} '${t.pad}'${d}`;
}

// float32 sums of k products of values in [-1, 1): rounding grows with the depth of the sum.
function tolerance(depth: number): { atol: number; rtol: number } {
  return { atol: 2e-6 * (4 + Math.sqrt(depth) * 2), rtol: 1e-4 };
}

function check(t: Case, seed: number): void {
  const info: Conv2DInfo = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.f, t.s, t.pad, t.d ?? [1, 1]);
  const K = t.k[0] * t.k[1] * t.c;
  const x = randomArray(t.batch * t.h * t.w * t.c, seed);
  const w = randomArray(K * t.f, seed + 1);
  const bias = randomArray(t.f, seed + 2);
  const dy = randomArray(t.batch * info.outHeight * info.outWidth * t.f, seed + 3);
  const what = name(t);

  const y = ref.conv2d(x, w, info);
  assertClose(fast.conv2d(x, w, info), y, tolerance(K), `conv2d ${what}`);

  const yb = ref.biasAdd(y, bias, t.f);
  const yr = ref.activation('relu', yb, t.f, 0);
  assertClose(fast.fused.conv!.conv2d(x, w, bias, info, 'linear'), yb, tolerance(K), `fusedConv2d linear ${what}`);
  assertClose(fast.fused.conv!.conv2d(x, w, bias, info, 'relu'), yr, tolerance(K), `fusedConv2d relu ${what}`);
  assertClose(fast.fused.conv!.conv2d(x, w, null, info, 'relu'), ref.activation('relu', y, t.f, 0), tolerance(K), `fusedConv2d relu no bias ${what}`);

  // Conv + max-pool in one call (inference): 2×2 'valid' (odd sizes drop a row/column) and 3×3 stride 2 'same'.
  for (const [k, st, pad] of [[2, 2, 'valid'], [3, 2, 'same']] as const) {
    if (info.outHeight < k && pad === 'valid') continue;
    const pool = conv2dInfo([t.batch, info.outHeight, info.outWidth, t.f], [k, k], t.f, [st, st], pad);
    if (pool.outHeight < 1 || pool.outWidth < 1) continue;
    for (const act of ['linear', 'relu'] as const) {
      const want = ref.maxPool(act === 'relu' ? yr : yb, pool).y;
      assertClose(fast.fused.conv!.conv2dMaxPool(x, w, bias, info, act, pool), want, tolerance(K), `fusedConv2dMaxPool ${act} pool ${k}×${k}/${st} ${pad} ${what}`);
    }
  }

  // Training conv + non-overlapping pool: pooled output and argmax, and the gradients from the pooled gradient.
  if (info.outHeight >= 2 && info.outWidth >= 2) {
    const pool = conv2dInfo([t.batch, info.outHeight, info.outWidth, t.f], [2, 2], t.f, [2, 2], 'valid');
    const sizeY = t.batch * info.outHeight * info.outWidth * t.f;
    for (const act of ['linear', 'relu'] as const) {
      const want = ref.maxPool(act === 'relu' ? yr : yb, pool);
      const got = fast.fused.conv!.conv2dMaxPoolTrain(x, w, bias, info, act, pool);
      assertClose(got.y, want.y, tolerance(K), `fusedConv2dMaxPoolTrain ${act} y ${what}`);
      assert.equal([...got.argmax], [...want.argmax], `fusedConv2dMaxPoolTrain ${act} argmax ${what}`);
      const dyP = randomArray(want.y.length, seed + 7);
      const d = ref.maxPoolBackprop(dyP, want.argmax, sizeY);
      const dz = act === 'relu' ? ref.activationBackward('relu', d, yb, yr, t.f, 0) : d;
      const g = fast.fused.conv!.conv2dMaxPoolBackward(x, w, dyP, want.y, want.argmax, info, act, { dx: true, dw: true, db: true });
      const rowsP = t.batch * info.outHeight * info.outWidth;
      assertClose(g.dx!, ref.conv2dBackpropInput(dz, w, info), tolerance(t.f * K), `fusedConv2dMaxPoolBackward ${act} dx ${what}`);
      assertClose(g.dw!, ref.conv2dBackpropFilter(x, dz, info), tolerance(rowsP), `fusedConv2dMaxPoolBackward ${act} dw ${what}`);
      assertClose(g.db!, ref.biasGrad(dz, t.f), { atol: 0, rtol: 0 }, `fusedConv2dMaxPoolBackward ${act} db ${what}`);
      const only = fast.fused.conv!.conv2dMaxPoolBackward(x, w, dyP, want.y, want.argmax, info, act, { dx: false, dw: true, db: false });
      assert.ok(only.dx === null && only.db === null, `fusedConv2dMaxPoolBackward ${act} computes only what is asked ${what}`);
    }
  }

  const dx = ref.conv2dBackpropInput(dy, w, info);
  assertClose(fast.conv2dBackpropInput(dy, w, info), dx, tolerance(t.f * K), `conv2dBackpropInput ${what}`);

  const rows = t.batch * info.outHeight * info.outWidth;
  const dw = ref.conv2dBackpropFilter(x, dy, info);
  assertClose(fast.conv2dBackpropFilter(x, dy, info), dw, tolerance(rows), `conv2dBackpropFilter ${what}`);

  // fusedConv2dBackward from the relu output computed by the reference, so both mask the same cells.
  for (const act of ['linear', 'relu'] as const) {
    const dz = act === 'relu' ? ref.activationBackward('relu', dy, yb, yr, t.f, 0) : dy;
    const all = fast.fused.conv!.conv2dBackward(x, w, dy, act === 'relu' ? yr : yb, info, act, { dx: true, dw: true, db: true });
    assertClose(all.dx!, ref.conv2dBackpropInput(dz, w, info), tolerance(t.f * K), `fusedConv2dBackward ${act} dx ${what}`);
    assertClose(all.dw!, ref.conv2dBackpropFilter(x, dz, info), tolerance(rows), `fusedConv2dBackward ${act} dw ${what}`);
    assertClose(all.db!, ref.biasGrad(dz, t.f), { atol: 0, rtol: 0 }, `fusedConv2dBackward ${act} db ${what}`);
    const some = fast.fused.conv!.conv2dBackward(x, w, dy, yr, info, act, { dx: false, dw: true, db: false });
    assert.is(some.dx, null, `fusedConv2dBackward ${act} dx not asked ${what}`);
    assert.is(some.db, null, `fusedConv2dBackward ${act} db not asked ${what}`);
    assertClose(some.dw!, all.dw!, { atol: 0, rtol: 0 }, `fusedConv2dBackward ${act} dw alone ${what}`);
  }
}

test('the WebAssembly convolutions run here (not the fallback)', () => {
  assert.ok(engineInfo().simd, JSON.stringify(engineInfo()));
  const info = conv2dInfo([1, 4, 4, 2], [3, 3], 3, [1, 1], 'same');
  assert.ok(convFast.conv2d(randomArray(32, 1), randomArray(54, 2), info, null, false) instanceof Float32Array);
});

test('conv2d, fusedConv2d and both gradients = reference, one thread', () => {
  withThreads(1, () => cases.forEach((t, i) => check(t, 100 + 10 * i)));
});

test('conv2d, fusedConv2d and both gradients = reference, three threads', () => {
  withThreads(3, () => cases.forEach((t, i) => check(t, 500 + 10 * i)));
});

test('Winograd (forward and both gradients): runs for 3×3 stride-1 layers with channels in fours (the seed model\'s layers 2–4), not elsewhere; = im2col + GEMM', () => {
  const seed = [[50, 16, 32], [25, 32, 64], [12, 64, 128]].map(([h, c, f]) => conv2dInfo([32, h, h, c], [3, 3], f, [1, 1], 'same'));
  assert.ok(seed.every(useWinograd), 'seed model layers 2–4');
  assert.ok(seed.every(useWinograd4Grad), 'seed model layers 2–4: filter gradient in F(3×3, 4×4)');
  assert.not.ok(useWinograd(conv2dInfo([32, 100, 100, 3], [3, 3], 16, [1, 1], 'same')), 'first layer: direct kernels');
  assert.not.ok(useWinograd(conv2dInfo([2, 9, 9, 16], [3, 3], 16, [2, 2], 'same')), 'stride 2');
  assert.not.ok(useWinograd(conv2dInfo([2, 9, 9, 16], [3, 3], 16, [1, 1], 'same', [2, 2])), 'dilation 2');
  assert.not.ok(useWinograd(conv2dInfo([2, 9, 9, 6], [3, 3], 16, [1, 1], 'same')), '6 input channels');
  assert.not.ok(useWinograd(conv2dInfo([2, 9, 9, 16], [5, 5], 16, [1, 1], 'same')), '5×5');
  const info = conv2dInfo([4, 11, 10, 16], [3, 3], 24, [1, 1], 'same');
  const x = randomArray(4 * 11 * 10 * 16, 80);
  const w = randomArray(9 * 16 * 24, 81);
  const dy = randomArray(4 * 11 * 10 * 24, 82);
  const y = fast.conv2d(x, w, info);
  const dx = fast.conv2dBackpropInput(dy, w, info);
  const dw = fast.conv2dBackpropFilter(x, dy, info);
  setBackend('cpu', { winograd: 0 });
  try {
    assertClose(y, fast.conv2d(x, w, info), tolerance(9 * 16), 'forward: Winograd = im2col');
    assertClose(dx, fast.conv2dBackpropInput(dy, w, info), tolerance(9 * 24 * 16), 'input gradient: Winograd = im2col');
    assertClose(dw, fast.conv2dBackpropFilter(x, dy, info), tolerance(4 * 11 * 10), 'filter gradient: Winograd = im2col');
  } finally {
    setBackend('cpu');
  }
});

test('Winograd filter gradient in F(3×3, 2×2) where F(3×3, 4×4) does not run (over 256 channels) = reference, one and three threads', () => {
  for (const [n, h, w, c, f, pad] of [[2, 5, 6, 260, 12, 'same'], [3, 7, 4, 8, 264, 'valid']] as const) {
    const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
    assert.ok(useWinograd(info) && !useWinograd4Grad(info), `F(3×3, 2×2) [${n},${h},${w},${c}]→${f}`);
    const x = randomArray(n * h * w * c, 60 + c);
    const dy = randomArray(n * info.outHeight * info.outWidth * f, 61 + f);
    const want = ref.conv2dBackpropFilter(x, dy, info);
    for (const t of [1, 3]) {
      withThreads(t, () => assertClose(fast.conv2dBackpropFilter(x, dy, info), want, tolerance(n * info.outHeight * info.outWidth), `conv2dBackpropFilter [${n},${h},${w},${c}]→${f} ${pad}, ${t} threads`));
    }
  }
});

test('the F(4×4) filter transform in wasm (asm winograd4FilterTransform, the input gradient\'s) = winograd4Filter, bit for bit, both orientations', () => {
  const e = getEngine()!;
  for (const [C, F] of [[4, 12], [12, 8], [16, 32], [36, 20]]) {
    const w = randomArray(9 * C * F, C + F);
    w[5] = -0;
    for (const transpose of [false, true]) {
      const n = transpose ? winograd4FilterFloats(F, C) : winograd4FilterFloats(C, F);
      const at = e.workBase;
      const out = at + 9 * C * F * 4;
      assert.ok(reserve(e, out + 2 * n * 4));
      e.f32.set(w, at >> 2);
      e.f32.fill(NaN, out >> 2, (out >> 2) + 2 * n);
      winograd4Filter(e, w, C, F, transpose, out + n * 4);
      e.wasm.winograd4FilterTransform(at, C, F, transpose ? 1 : 0, out);
      const got = e.f32.slice(out >> 2, (out >> 2) + n);
      const want = e.f32.slice((out >> 2) + n, (out >> 2) + 2 * n);
      for (let i = 0; i < n; i++) {
        if (!Object.is(got[i], want[i])) assert.unreachable(`C ${C} F ${F} transpose ${transpose}: index ${i}: got ${got[i]}, expected ${want[i]}`);
      }
    }
  }
});

test('Winograd F(4×4, 3×3) (opt-in, winograd: 4): forward and input gradient = reference within the im2col tolerance', () => {
  setBackend('cpu', { winograd: 4 });
  try {
    for (const [n, h, w, c, f, pad] of [[1, 5, 7, 4, 12, 'same'], [3, 9, 6, 8, 4, 'valid'], [2, 1, 1, 8, 8, 'same'], [4, 15, 14, 32, 64, 'same'], [2, 13, 10, 16, 20, 'valid'], [2, 12, 12, 64, 128, 'same']] as const) {
      const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
      assert.ok(useWinograd(info));
      const x = randomArray(n * h * w * c, h + c);
      const wt = randomArray(9 * c * f, f);
      const bias = randomArray(f, 3);
      const dy = randomArray(n * info.outHeight * info.outWidth * f, 4);
      const tight = tolerance;
      const what = `[${n},${h},${w},${c}]→${f} ${pad}`;
      const y = ref.conv2d(x, wt, info);
      assertClose(fast.conv2d(x, wt, info), y, tight(9 * c), `conv2d ${what}`);
      assertClose(fast.fused.conv!.conv2d(x, wt, bias, info, 'relu'), ref.activation('relu', ref.biasAdd(y, bias, f), f, 0), tight(9 * c), `fusedConv2d relu ${what}`);
      assertClose(fast.conv2dBackpropInput(dy, wt, info), ref.conv2dBackpropInput(dy, wt, info), tight(9 * c * f), `conv2dBackpropInput ${what}`);
    }
  } finally {
    setBackend('cpu');
  }
});

test('conv + 2×2 pool in the Winograd output transform (winogradPools; inference in F(4×4), training with argmax in F(4×4) from 512 channel pairs, else F(2×2)) = the fast conv, then the fast pool, bit for bit', () => {
  // Odd sizes (the last row/column dropped by the pool; tiles partly outside), 'valid', one tile, threads, NaN and ±Infinity inputs (linear keeps them).
  for (const [n, h, w, c, f, pad] of [[2, 7, 9, 8, 8, 'same'], [3, 10, 7, 8, 12, 'valid'], [1, 2, 2, 4, 4, 'same'], [32, 25, 25, 32, 64, 'same'], [4, 12, 12, 16, 8, 'same'], [2, 13, 11, 8, 8, 'same']] as const) {
    const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], pad);
    const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], [2, 2], f, [2, 2], 'valid');
    assert.ok(winogradPools(info, pool) && winogradPools(info, pool, true), `winogradPools [${n},${h},${w},${c}]→${f}`);
    const wide = c * f >= WINOGRAD4_MIN_PAIRS;
    assert.ok(useWinograd4(info, true) && useWinograd4(info) === wide, `F(4×4) for inference pools, for other forwards from ${WINOGRAD4_MIN_PAIRS} channel pairs [${n},${h},${w},${c}]→${f}`);
    assert.ok(useWinograd4(info, false, true), `F(4×4) for the input gradient [${n},${h},${w},${c}]→${f}`);
    assert.equal(useWinograd4TrainPool(info), wide, `training pools in F(4×4) exactly where the forward without its pool is [${n},${h},${w},${c}]→${f}`);
    const x = randomArray(n * h * w * c, 90 + h);
    if (x.length > 40) (x[3] = NaN), (x[17] = Infinity), (x[40] = -Infinity);
    const wt = randomArray(9 * c * f, 91);
    const bias = randomArray(f, 92);
    for (const act of ['linear', 'relu'] as const) {
      const what = `[${n},${h},${w},${c}]→${f} ${pad} ${act}`;
      const want = fast.maxPool(fast.fused.conv!.conv2d(x, wt, bias, info, act), pool);
      setBackend('cpu', { winograd: 4 });
      let want4: { y: Float32Array };
      try {
        want4 = fast.maxPool(fast.fused.conv!.conv2d(x, wt, bias, info, act), pool);
      } finally {
        setBackend('cpu');
      }
      const got = fast.fused.conv!.conv2dMaxPool(x, wt, bias, info, act, pool);
      const train = fast.fused.conv!.conv2dMaxPoolTrain(x, wt, bias, info, act, pool);
      for (const [name, y, expected] of [['conv2dMaxPool (F(4×4))', got, want4.y], ['conv2dMaxPoolTrain y', train.y, want.y]] as const) {
        assert.equal(y.length, expected.length, `${name} length ${what}`);
        for (let i = 0; i < expected.length; i++) {
          if (!Object.is(y[i], expected[i])) assert.unreachable(`${name} ${what}: index ${i}: got ${y[i]}, expected ${expected[i]}`);
        }
      }
      assert.equal(Array.from(train.argmax), Array.from(want.argmax), `conv2dMaxPoolTrain argmax ${what}`);
    }
  }
  const info = conv2dInfo([2, 8, 8, 8], [3, 3], 8, [1, 1], 'same');
  const overlap = conv2dInfo([2, 8, 8, 8], [3, 3], 8, [2, 2], 'same');
  const wide = conv2dInfo([2, 8, 8, 8], [2, 2], 8, [1, 1], 'valid');
  const plain = conv2dInfo([2, 8, 8, 8], [2, 2], 8, [2, 2], 'valid');
  assert.not.ok(winogradPools(info, overlap), '3×3 pool');
  assert.not.ok(winogradPools(info, wide), 'stride 1 pool');
  setBackend('cpu', { winograd: 4 });
  try {
    assert.ok(winogradPools(info, plain), 'F(4×4) pools at inference');
    assert.ok(winogradPools(info, plain, true) && useWinograd4TrainPool(info), 'F(4×4) pools with the argmax in training (convForwardWinograd4PoolArgmax)');
  } finally {
    setBackend('cpu');
  }
  setBackend('cpu', { winograd: 0 });
  try {
    assert.not.ok(winogradPools(info, plain) || useWinograd4(info, true) || useWinograd4(info, false, true) || useWinograd4Grad(info) || useWinograd4TrainPool(info), 'winograd: 0 runs no Winograd');
  } finally {
    setBackend('cpu');
  }
});

test('a fast gradient overwrites: dx and dw do not depend on earlier calls', () => {
  const t = cases[2];
  const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.f, t.s, t.pad);
  const w = randomArray(9 * t.c * t.f, 7);
  const dy = randomArray(t.batch * info.outHeight * info.outWidth * t.f, 8);
  const x = randomArray(t.batch * t.h * t.w * t.c, 9);
  const dx1 = fast.conv2dBackpropInput(dy, w, info);
  const dw1 = fast.conv2dBackpropFilter(x, dy, info);
  fast.conv2d(randomArray(x.length, 10), w, info);
  assertClose(fast.conv2dBackpropInput(dy, w, info), dx1, { atol: 0, rtol: 0 }, 'dx repeated');
  assertClose(fast.conv2dBackpropFilter(x, dy, info), dw1, { atol: 0, rtol: 0 }, 'dw repeated');
});

test('the reference backend\'s fused convolution is its plain ops composed (conv2d → biasAdd → relu, then maxPool)', () => {
  const info = conv2dInfo([2, 7, 6, 3], [3, 3], 5, [1, 1], 'same');
  const x = randomArray(2 * 7 * 6 * 3, 51);
  const w = randomArray(3 * 3 * 3 * 5, 52);
  const bias = randomArray(5, 53);
  const plain = ref.activation('relu', ref.biasAdd(ref.conv2d(x, w, info), bias, 5), 5, 0);
  assertClose(ref.fused.conv!.conv2d(x, w, bias, info, 'relu'), plain, { atol: 0, rtol: 0 }, 'reference fused conv2d');
  const pool = conv2dInfo([2, 7, 6, 5], [2, 2], 5, [2, 2], 'valid');
  assertClose(ref.fused.conv!.conv2dMaxPool(x, w, bias, info, 'relu', pool), ref.maxPool(plain, pool).y, { atol: 0, rtol: 0 }, 'reference fused conv2dMaxPool');
});

test('direct conv + 2×2 pool in registers (inference) = the direct conv, then max pool, bit for bit: NaN and ties, odd sizes, pad 0 and 1, bias or none', () => {
  for (const [h, w, pad, seed] of [[12, 14, 'same', 61], [9, 11, 'valid', 62], [5, 4, 'same', 63]] as const) {
    const info = conv2dInfo([2, h, w, 3], [3, 3], 16, [1, 1], pad);
    const x = randomArray(2 * h * w * 3, seed);
    x[5] = NaN;
    x[2 * w * 3 + 7] = NaN;
    const wt = randomArray(27 * 16, seed + 1);
    // Two equal filters: equal outputs in neighbouring channels, and a zero filter's ties.
    for (let k = 0; k < 27; k++) {
      wt[k * 16 + 9] = wt[k * 16 + 8];
      wt[k * 16 + 15] = 0;
    }
    const pool = conv2dInfo([2, info.outHeight, info.outWidth, 16], [2, 2], 16, [2, 2], 'valid');
    for (const bias of [randomArray(16, seed + 2), null]) {
      for (const act of ['linear', 'relu'] as const) {
        const plain = fast.fused.conv!.conv2d(x, wt, bias, info, act);
        const want = fast.maxPool(plain, pool).y;
        const got = fast.fused.conv!.conv2dMaxPool(x, wt, bias, info, act, pool);
        assertIdentical(got, want, `${h}×${w} ${pad} ${act} ${bias ? 'bias' : 'no bias'}`);
        assert.ok(want.some(Number.isNaN) === (act === 'linear'), `NaN reaches the linear pool only (${h}×${w} ${pad})`);
      }
    }
  }
});

test('direct conv: a pixel computed in a pair of pixels = the same pixel computed alone or in the other place of a pair, bit for bit (NaN, infinities, relu or none)', () => {
  // 'valid' 3×3 over width 7: output columns 0-3 as two pairs, column 4 alone (directPixel). The
  // same image less its first column (width 6): its columns 0-3 (two pairs) are the first image's
  // columns 1-4, each computed in the other place of a pair or alone there.
  const [batch, h, c, f] = [2, 6, 3, 32];
  const x7 = randomArray(batch * h * 7 * c, 81);
  x7[(1 * 7 + 5) * c] = NaN;
  x7[(h * 7 + 2 * 7 + 6) * c + 1] = Infinity;
  x7[(3 * 7 + 3) * c + 2] = -Infinity;
  const x6 = new Float32Array(batch * h * 6 * c);
  for (let r = 0; r < batch * h; r++) x6.set(x7.subarray((r * 7 + 1) * c, (r * 7 + 7) * c), r * 6 * c);
  const wt = randomArray(27 * f, 82);
  wt[13 * f + 20] = Infinity;
  const info7 = conv2dInfo([batch, h, 7, c], [3, 3], f, [1, 1], 'valid');
  const info6 = conv2dInfo([batch, h, 6, c], [3, 3], f, [1, 1], 'valid');
  for (const bias of [randomArray(f, 83), null]) {
    for (const act of ['linear', 'relu'] as const) {
      const y7 = fast.fused.conv!.conv2d(x7, wt, bias, info7, act);
      const y6 = fast.fused.conv!.conv2d(x6, wt, bias, info6, act);
      const cols = new Float32Array(y6.length);
      for (let r = 0; r < batch * info7.outHeight; r++) cols.set(y7.subarray((r * 5 + 1) * f, (r * 5 + 5) * f), r * 4 * f);
      assertIdentical(y6, cols, `${act} ${bias ? 'bias' : 'no bias'}`);
      assert.ok(y6.some(Number.isNaN) === (act === 'linear'), `NaN reaches the linear output only (${act})`);
    }
  }
});

test.run();
