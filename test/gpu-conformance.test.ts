// Every gpu.js mode against the CPU reference: each op forward and backward on random inputs of
// several shapes, a few training steps of the seed model, kernel source hygiene, and a kernel leak
// check. Modes that cannot start here are skipped with the reason, unless TSCNN_GPU_REQUIRE lists
// them (comma-separated; 'webasm' is always required): then they fail. 'webgpu' runs where Dawn finds a
// Vulkan adapter (README "WebGPU": Mesa 25's lavapipe on Debian 12 without a GPU).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { referenceBackend } from '../src/backend/index.js';
import { getBackend, setBackend } from '../src/backend/index.js';
import { chooseAuto, createGpuBackend, KERNEL_FUNCTIONS, probeMode, type GpuBackend, type GpuMode } from '../src/backend/gpu/index.js';
import { startWebGpuWorker } from '../src/backend/gpu/webgpu-worker.js';
import type { ActivationKind, Backend, ConvGrads, FusedBatchNormOps, FusedConvOps } from '../src/backend/types.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { layers, optimizers, Sequential, setSeed, tensor } from '../src/index.js';
import { buildSeedModel, randomBatch } from '../bench/models.js';
import { assertClose, randomArray, type Tolerance } from './helpers.js';

const TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };
const required = new Set(['webasm', ...(process.env.TSCNN_GPU_REQUIRE ?? '').split(',').map((s) => s.trim()).filter(Boolean)]);

const modes: GpuMode[] = [];
for (const mode of ['webasm', 'headlessgl', 'webgpu'] as const) {
  const status = probeMode(mode);
  if (status.available) {
    modes.push(mode);
    console.log(`gpu-conformance: mode '${mode}' runs (${status.reason})`);
  } else if (required.has(mode)) {
    test(`[${mode}] required by TSCNN_GPU_REQUIRE starts`, () => {
      assert.unreachable(`mode '${mode}' is required but cannot start: ${status.reason}`);
    });
  } else {
    // Logged, not test.skip: test/run.ts subtracts skips from a total that excludes them.
    console.log(`gpu-conformance: mode '${mode}' SKIPPED: ${status.reason}`);
  }
}

const backends = new Map<GpuMode, GpuBackend>();
function gpu(mode: GpuMode): GpuBackend {
  let b = backends.get(mode);
  if (!b) backends.set(mode, (b = createGpuBackend({ mode })));
  return b;
}

function gpuTest(name: string, body: (b: Backend, mode: GpuMode) => void | Promise<void>): void {
  for (const mode of modes) test(`[${mode}] ${name}`, () => body(gpu(mode), mode));
}

let seed = 1;
const rand = (n: number, lo = -1, hi = 1) => randomArray(n, seed++, lo, hi);

interface ConvCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  f: number;
  k: [number, number];
  s: [number, number];
  padding: Padding;
}
const convCases: ConvCase[] = [
  { batch: 1, h: 5, w: 5, c: 3, f: 4, k: [3, 3], s: [1, 1], padding: 'same' },
  { batch: 3, h: 7, w: 6, c: 2, f: 3, k: [3, 2], s: [2, 2], padding: 'valid' },
  { batch: 2, h: 6, w: 7, c: 3, f: 5, k: [3, 3], s: [2, 2], padding: 'same' },
  { batch: 32, h: 5, w: 4, c: 2, f: 3, k: [2, 2], s: [2, 1], padding: 'same' },
  { batch: 2, h: 3, w: 5, c: 4, f: 2, k: [1, 1], s: [1, 1], padding: 'valid' },
];
const caseName = (t: ConvCase) => `${t.batch}x${t.h}x${t.w}x${t.c} k${t.k.join('x')} s${t.s.join('x')} ${t.padding} f${t.f}`;

gpuTest('conv2d forward, input and filter gradients', (b) => {
  for (const t of convCases) {
    const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.f, t.s, t.padding);
    const x = rand(t.batch * t.h * t.w * t.c);
    const w = rand(t.k[0] * t.k[1] * t.c * t.f);
    const dy = rand(t.batch * info.outHeight * info.outWidth * t.f);
    assertClose(b.conv2d(x, w, info), referenceBackend.conv2d(x, w, info), TOL, `conv2d ${caseName(t)}`);
    assertClose(b.conv2dBackpropInput(dy, w, info), referenceBackend.conv2dBackpropInput(dy, w, info), TOL, `conv2dBackpropInput ${caseName(t)}`);
    assertClose(b.conv2dBackpropFilter(x, dy, info), referenceBackend.conv2dBackpropFilter(x, dy, info), { atol: 1e-4, rtol: 1e-4 }, `conv2dBackpropFilter ${caseName(t)}`);
  }
});

gpuTest('maxPool forward, argmax and backprop', (b) => {
  const cases: ConvCase[] = [
    { batch: 1, h: 4, w: 4, c: 3, f: 3, k: [2, 2], s: [2, 2], padding: 'valid' },
    { batch: 2, h: 5, w: 7, c: 2, f: 2, k: [3, 3], s: [2, 2], padding: 'same' },
    { batch: 32, h: 5, w: 5, c: 2, f: 2, k: [2, 2], s: [2, 2], padding: 'same' },
    { batch: 3, h: 7, w: 6, c: 1, f: 1, k: [3, 2], s: [1, 2], padding: 'valid' },
  ];
  for (const t of cases) {
    const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.c, t.s, t.padding);
    const x = rand(t.batch * t.h * t.w * t.c);
    const got = b.maxPool(x, info);
    const want = referenceBackend.maxPool(x, info);
    assertClose(got.y, want.y, TOL, `maxPool y ${caseName(t)}`);
    assert.equal(Array.from(got.argmax), Array.from(want.argmax), `maxPool argmax ${caseName(t)}`);
    const dy = rand(want.y.length);
    assertClose(b.maxPoolBackprop(dy, got.argmax, x.length), referenceBackend.maxPoolBackprop(dy, want.argmax, x.length), TOL, `maxPoolBackprop ${caseName(t)}`);
  }
});

// NaN as the reference: the first NaN in window order wins (value and argmax), also after a larger number,
// in overlapping windows (stride 1) and with several NaNs in one window; ±Infinity stay ordinary values.
gpuTest('maxPool with NaN and infinite inputs matches the reference exactly', (b) => {
  for (const t of [
    { batch: 2, h: 4, w: 4, c: 2, f: 2, k: [2, 2], s: [2, 2], padding: 'valid' },
    { batch: 1, h: 5, w: 5, c: 3, f: 3, k: [3, 3], s: [1, 1], padding: 'same' },
    { batch: 2, h: 5, w: 7, c: 2, f: 2, k: [3, 3], s: [2, 2], padding: 'same' },
  ] as ConvCase[]) {
    const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.c, t.s, t.padding);
    const x = rand(t.batch * t.h * t.w * t.c, -1, 1);
    for (let i = 0; i < x.length; i++) {
      if (i % 7 === 3 || i % 11 === 5) x[i] = NaN;
      else if (i % 13 === 1) x[i] = Infinity;
      else if (i % 17 === 2) x[i] = -Infinity;
    }
    x[0] = 5;
    x[t.c] = NaN;
    const got = b.maxPool(x, info);
    const want = referenceBackend.maxPool(x, info);
    assert.ok(want.y.some(Number.isNaN), `case ${caseName(t)} has no NaN output`);
    const diff = Array.from(want.y).findIndex((v, i) => !Object.is(v, got.y[i]));
    assert.is(diff, -1, `maxPool NaN y ${caseName(t)}: index ${diff}: ${got.y[diff]} vs ${want.y[diff]}`);
    assert.equal(Array.from(got.argmax), Array.from(want.argmax), `maxPool NaN argmax ${caseName(t)}`);
    const dy = rand(want.y.length);
    assertClose(b.maxPoolBackprop(dy, got.argmax, x.length), referenceBackend.maxPoolBackprop(dy, want.argmax, x.length), TOL, `maxPoolBackprop NaN ${caseName(t)}`);
  }
});

// The fused ops against the reference composed exactly as src/backend/cpu.ts's fallbacks compose them.
type Act = 'linear' | 'relu';
type Need = { dx: boolean; dw: boolean; db: boolean };
const R = referenceBackend;
function refFusedConv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, info: ReturnType<typeof conv2dInfo>, act: Act): Float32Array {
  const z = R.conv2d(x, w, info);
  const zb = bias ? R.biasAdd(z, bias, info.outChannels) : z;
  return act === 'relu' ? R.activation('relu', zb, info.outChannels, 0) : zb;
}
function refFusedConv2dBackward(
  x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, info: ReturnType<typeof conv2dInfo>, act: Act, need: Need,
): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null } {
  const F = info.outChannels;
  const dz = act === 'relu' ? R.activationBackward('relu', dy, y, y, F, 0) : dy;
  return {
    dx: need.dx ? R.conv2dBackpropInput(dz, w, info) : null,
    dw: need.dw ? R.conv2dBackpropFilter(x, dz, info) : null,
    db: need.db ? R.biasGrad(dz, F) : null,
  };
}
function refConvPoolBackward(
  x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, argmax: Int32Array, info: ReturnType<typeof conv2dInfo>, act: Act, need: Need,
) {
  const dz = new Float32Array(info.batch * info.outHeight * info.outWidth * info.outChannels);
  for (let i = 0; i < dy.length; i++) if (act === 'linear' || y[i] > 0) dz[argmax[i]] = dy[i];
  return refFusedConv2dBackward(x, w, dz, dz, info, 'linear', need);
}
const GRAD_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const NEEDS: Need[] = [
  { dx: true, dw: true, db: true },
  { dx: false, dw: true, db: true },
  { dx: true, dw: false, db: false },
];
function assertGrads(got: Record<'dx' | 'dw' | 'db', Float32Array | null>, want: Record<'dx' | 'dw' | 'db', Float32Array | null>, what: string): void {
  for (const key of ['dx', 'dw', 'db'] as const) {
    if (!want[key]) assert.is(got[key], null, `${what} ${key} not asked for`);
    else assertClose(got[key]!, want[key]!, GRAD_TOL, `${what} ${key}`);
  }
}
/** In pipeline modes a fused op reads back exactly one array (its results packed); 'webasm' reads every kernel's. */
function assertOneReadback(b: Backend, mode: GpuMode, body: () => void, what: string): void {
  const g = b as GpuBackend;
  const before = g.stats().readbacks;
  body();
  if (mode !== 'webasm') assert.is(g.stats().readbacks - before, 1, `${what}: readbacks`);
  assert.is(g.stats().liveTextures, 0, `${what}: results held after the op`);
}

const fusedCases: (ConvCase & { pool: [number, number] })[] = [
  { batch: 1, h: 7, w: 7, c: 3, f: 4, k: [3, 3], s: [1, 1], padding: 'same', pool: [2, 2] },
  { batch: 3, h: 9, w: 8, c: 2, f: 3, k: [3, 2], s: [2, 2], padding: 'valid', pool: [2, 2] },
  { batch: 2, h: 11, w: 9, c: 3, f: 5, k: [3, 3], s: [2, 2], padding: 'same', pool: [3, 2] },
  { batch: 8, h: 6, w: 7, c: 2, f: 3, k: [2, 2], s: [1, 1], padding: 'same', pool: [2, 3] },
];

gpuTest('fusedConv2d and fusedConv2dBackward match conv2d, biasAdd, relu and their gradients', (b, mode) => {
  for (const t of fusedCases) {
    const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.f, t.s, t.padding);
    for (const act of ['relu', 'linear'] as const) {
      for (const withBias of [true, false]) {
        const what = `${caseName(t)} ${act}${withBias ? ' bias' : ''}`;
        const x = rand(t.batch * t.h * t.w * t.c);
        const w = rand(t.k[0] * t.k[1] * t.c * t.f);
        const bias = withBias ? rand(t.f) : null;
        let y: Float32Array = new Float32Array(0);
        assertOneReadback(b, mode, () => (y = b.fused.conv!.conv2d(x, w, bias, info, act)), `fusedConv2d ${what}`);
        const want = refFusedConv2d(x, w, bias, info, act);
        assertClose(y, want, TOL, `fusedConv2d ${what}`);
        if (act === 'relu') assert.ok(want.some((v) => v === 0) && want.some((v) => v > 0), `${what}: relu clips nothing or everything`);
        const dy = rand(y.length);
        for (const need of NEEDS) {
          let got: ConvGrads = { dx: null, dw: null, db: null };
          assertOneReadback(b, mode, () => (got = b.fused.conv!.conv2dBackward(x, w, dy, want, info, act, need)), `fusedConv2dBackward ${what}`);
          assertGrads(got, refFusedConv2dBackward(x, w, dy, want, info, act, need), `fusedConv2dBackward ${what} ${JSON.stringify(need)}`);
        }
      }
    }
  }
});

gpuTest('fusedConv2dMaxPool(Train) and fusedConv2dMaxPoolBackward match conv, bias, relu, maxPool and their gradients', (b, mode) => {
  // Pooled cells whose relu masks the gradient (a test of the mask needs some).
  let masked = 0;
  for (const t of fusedCases) {
    const info = conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.f, t.s, t.padding);
    const pool = conv2dInfo([t.batch, info.outHeight, info.outWidth, t.f], t.pool, t.f, t.pool, 'valid');
    // Inference takes any pool, overlapping and 'same' too.
    const overlap = conv2dInfo([t.batch, info.outHeight, info.outWidth, t.f], [3, 3], t.f, [2, 2], 'same');
    for (const act of ['relu', 'linear'] as const) {
      const what = `${caseName(t)} pool ${t.pool.join('x')} ${act}`;
      const x = rand(t.batch * t.h * t.w * t.c);
      const w = rand(t.k[0] * t.k[1] * t.c * t.f);
      const bias = act === 'relu' ? rand(t.f) : null;
      const z = refFusedConv2d(x, w, bias, info, act);
      const want = R.maxPool(z, pool);
      let got = {} as ReturnType<FusedConvOps['conv2dMaxPoolTrain']>;
      assertOneReadback(b, mode, () => (got = b.fused.conv!.conv2dMaxPoolTrain(x, w, bias, info, act, pool)), `fusedConv2dMaxPoolTrain ${what}`);
      assertClose(got.y, want.y, TOL, `fusedConv2dMaxPoolTrain y ${what}`);
      assert.equal(Array.from(got.argmax), Array.from(want.argmax), `fusedConv2dMaxPoolTrain argmax ${what}`);
      for (const p of [pool, overlap]) {
        let y: Float32Array = new Float32Array(0);
        assertOneReadback(b, mode, () => (y = b.fused.conv!.conv2dMaxPool(x, w, bias, info, act, p)), `fusedConv2dMaxPool ${what}`);
        assertClose(y, R.maxPool(z, p).y, TOL, `fusedConv2dMaxPool ${what} pool ${p.filterHeight}x${p.filterWidth}/${p.strideHeight}`);
      }
      const dy = rand(want.y.length);
      if (act === 'relu') masked += want.y.filter((v) => v === 0).length;
      for (const need of NEEDS) {
        const expected = refConvPoolBackward(x, w, dy, want.y, want.argmax, info, act, need);
        let g: ConvGrads = { dx: null, dw: null, db: null };
        assertOneReadback(b, mode, () => (g = b.fused.conv!.conv2dMaxPoolBackward(x, w, dy, got.y, got.argmax, info, act, need)), `fusedConv2dMaxPoolBackward ${what}`);
        assertGrads(g, expected, `fusedConv2dMaxPoolBackward ${what} ${JSON.stringify(need)}`);
        // An argmax the backend did not produce (no pool geometry): dz is scattered on the host.
        const foreign = b.fused.conv!.conv2dMaxPoolBackward(x, w, dy, got.y, Int32Array.from(got.argmax), info, act, need);
        assertGrads(foreign, expected, `fusedConv2dMaxPoolBackward (foreign argmax) ${what} ${JSON.stringify(need)}`);
      }
    }
  }
  assert.ok(masked > 0, 'no pooled relu zero in any case');
});

gpuTest('batchNormActPoolTrain and batchNormActPoolBackward match batch norm, relu, maxPool and their gradients', (b, mode) => {
  let masked = 0;
  const cases: [number, number, number, number, [number, number]][] = [
    [1, 5, 7, 3, [2, 2]],
    [4, 8, 6, 5, [2, 2]],
    [2, 9, 9, 2, [3, 3]],
    [8, 6, 7, 4, [2, 3]],
  ];
  for (const [batch, h, w, c, size] of cases) {
    const pool = conv2dInfo([batch, h, w, c], size, c, size, 'valid');
    for (const act of ['relu', 'linear'] as const) {
      const what = `${batch}x${h}x${w}x${c} pool ${size.join('x')} ${act}`;
      const x = rand(batch * h * w * c, -2, 3);
      const gamma = rand(c, 0.5, 1.5);
      const beta = rand(c);
      const eps = 1e-3;
      // The composition of cpu.ts's bnActPoolTrain.
      const bn = R.batchNormTrain(x, gamma, beta, c, eps);
      const want = R.maxPool(act === 'relu' ? R.activation('relu', bn.y, c, 0) : bn.y, pool);
      let got = {} as ReturnType<FusedBatchNormOps['train']>;
      assertOneReadback(b, mode, () => (got = b.fused.batchNormActPool!.train(x, gamma, beta, c, eps, act, pool)), `batchNormActPoolTrain ${what}`);
      assertClose(got.y, want.y, GRAD_TOL, `batchNormActPoolTrain y ${what}`);
      assert.equal(Array.from(got.argmax), Array.from(want.argmax), `batchNormActPoolTrain argmax ${what}`);
      assertClose(got.mean, bn.mean, GRAD_TOL, `batchNormActPoolTrain mean ${what}`);
      assertClose(got.variance, bn.variance, GRAD_TOL, `batchNormActPoolTrain variance ${what}`);
      assertClose(got.invStd, bn.invStd, GRAD_TOL, `batchNormActPoolTrain invStd ${what}`);
      if (act === 'relu') masked += want.y.filter((v) => v === 0).length;
      // The composition of cpu.ts's bnActPoolBackward (x̂ and z recomputed from x, mean and invStd).
      const dy = rand(want.y.length);
      const xHat = new Float32Array(x.length);
      const z = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const ch = i % c;
        xHat[i] = Math.fround((x[i] - bn.mean[ch]) * bn.invStd[ch]);
        z[i] = Math.fround(Math.fround(gamma[ch] * xHat[i]) + beta[ch]);
      }
      const d = R.maxPoolBackprop(dy, want.argmax, x.length);
      const expected = R.batchNormBackward(act === 'relu' ? R.activationBackward('relu', d, z, z, c, 0) : d, xHat, gamma, bn.invStd, c);
      let g = {} as ReturnType<FusedBatchNormOps['backward']>;
      assertOneReadback(
        b, mode, () => (g = b.fused.batchNormActPool!.backward(dy, x, gamma, beta, bn.mean, bn.invStd, got.argmax, c, act, pool)), `batchNormActPoolBackward ${what}`,
      );
      assertClose(g.dx, expected.dx, GRAD_TOL, `batchNormActPoolBackward dx ${what}`);
      assertClose(g.dGamma, expected.dGamma, { atol: 1e-3, rtol: 1e-4 }, `batchNormActPoolBackward dGamma ${what}`);
      assertClose(g.dBeta, expected.dBeta, { atol: 1e-3, rtol: 1e-4 }, `batchNormActPoolBackward dBeta ${what}`);
    }
  }
  assert.ok(masked > 0, 'no pooled relu zero in any case');
});

gpuTest('matmul with every transpose', (b) => {
  for (const [m, k, n] of [
    [1, 7, 3],
    [5, 3, 9],
    [32, 17, 5],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = rand(m * k);
        const bb = rand(k * n);
        assertClose(b.matmul(a, bb, m, k, n, transA, transB), referenceBackend.matmul(a, bb, m, k, n, transA, transB), TOL, `matmul ${m}x${k}x${n} tA=${transA} tB=${transB}`);
      }
    }
  }
});

gpuTest('biasAdd, biasGrad and multiply', (b) => {
  for (const [rows, c] of [
    [1, 5],
    [33, 3],
    [32 * 9, 7],
  ]) {
    const x = rand(rows * c);
    const bias = rand(c);
    assertClose(b.biasAdd(x, bias, c), referenceBackend.biasAdd(x, bias, c), TOL, `biasAdd ${rows}x${c}`);
    assertClose(b.biasGrad(x, c), referenceBackend.biasGrad(x, c), { atol: 1e-4, rtol: 1e-4 }, `biasGrad ${rows}x${c}`);
    const y = rand(rows * c);
    assertClose(b.multiply(x, y), referenceBackend.multiply(x, y), TOL, `multiply ${rows}x${c}`);
  }
});

gpuTest('batch norm: training, inference and backward', (b) => {
  for (const [rows, c] of [
    [2, 3],
    [25, 4],
    [32 * 16, 5],
  ]) {
    const x = rand(rows * c, -2, 3);
    const gamma = rand(c, 0.5, 1.5);
    const beta = rand(c);
    const eps = 1e-3;
    const got = b.batchNormTrain(x, gamma, beta, c, eps);
    const want = referenceBackend.batchNormTrain(x, gamma, beta, c, eps);
    for (const key of ['y', 'mean', 'variance', 'xHat', 'invStd'] as const) {
      assertClose(got[key], want[key], { atol: 1e-4, rtol: 1e-4 }, `batchNormTrain ${key} ${rows}x${c}`);
    }
    const variance = rand(c, 0.1, 2);
    assertClose(
      b.batchNormInference(x, gamma, beta, want.mean, variance, c, eps),
      referenceBackend.batchNormInference(x, gamma, beta, want.mean, variance, c, eps),
      TOL,
      `batchNormInference ${rows}x${c}`,
    );
    const dy = rand(rows * c);
    const gb = b.batchNormBackward(dy, want.xHat, gamma, want.invStd, c);
    const wb = referenceBackend.batchNormBackward(dy, want.xHat, gamma, want.invStd, c);
    assertClose(gb.dx, wb.dx, { atol: 1e-4, rtol: 1e-4 }, `batchNormBackward dx ${rows}x${c}`);
    assertClose(gb.dGamma, wb.dGamma, { atol: 1e-3, rtol: 1e-4 }, `batchNormBackward dGamma ${rows}x${c}`);
    assertClose(gb.dBeta, wb.dBeta, { atol: 1e-3, rtol: 1e-4 }, `batchNormBackward dBeta ${rows}x${c}`);
  }
});

const KINDS: ActivationKind[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'leakyRelu', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'hardSigmoid'];

gpuTest('every activation forward and backward', (b) => {
  for (const kind of KINDS) {
    for (const [rows, c] of [
      [1, 4],
      [9, 5],
    ]) {
      const x = rand(rows * c, -8, 8);
      const dy = rand(rows * c);
      const alpha = 0.3;
      const y = referenceBackend.activation(kind, x, c, alpha);
      // exp(x)−1 stands in for expm1 in the kernels: exact to a few float32 ulps of 1.
      const tol = { atol: 2e-6, rtol: 1e-4 };
      assertClose(b.activation(kind, x, c, alpha), y, tol, `${kind} forward ${rows}x${c}`);
      assertClose(b.activationBackward(kind, dy, x, y, c, alpha), referenceBackend.activationBackward(kind, dy, x, y, c, alpha), tol, `${kind} backward ${rows}x${c}`);
    }
  }
});

gpuTest('sgd (plain, momentum, nesterov), adam and rmsprop updates in place', (b) => {
  const n = 37;
  const run = (backend: Backend) => {
    const s = 7;
    const value = randomArray(n, s);
    const grads = [randomArray(n, s + 1), randomArray(n, s + 2), randomArray(n, s + 3)];
    const out: Record<string, Float32Array> = {};
    const plain = value.slice();
    const mom = value.slice();
    const vel = new Float32Array(n);
    const nes = value.slice();
    const vel2 = new Float32Array(n);
    const adam = value.slice();
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const rms = value.slice();
    const ms = new Float32Array(n);
    grads.forEach((g, i) => {
      backend.sgdUpdate(plain, g, null, 0.1, 0, false);
      backend.sgdUpdate(mom, g, vel, 0.1, 0.9, false);
      backend.sgdUpdate(nes, g, vel2, 0.1, 0.9, true);
      backend.adamUpdate(adam, g, m, v, 0.01, 0.9, 0.999, 1e-7, i + 1);
      backend.rmspropUpdate(rms, g, ms, 0.01, 0.9, 1e-7);
    });
    Object.assign(out, { plain, mom, vel, nes, vel2, adam, m, v, rms, ms });
    return out;
  };
  const got = run(b);
  const want = run(referenceBackend);
  for (const key of Object.keys(want)) assertClose(got[key], want[key], TOL, `update ${key}`);
});

// Training: a few steps of the seed model (16×16 images, batch 4) with the same seed on the reference
// and on each mode; losses and weights must agree within atol 1e-3, rtol 1e-3 (float32 sums in another order).
const FUSED_OPS: Record<'conv' | 'batchNormActPool', readonly string[]> = {
  conv: ['conv2d', 'conv2dBackward', 'conv2dMaxPool', 'conv2dMaxPoolTrain', 'conv2dMaxPoolBackward'],
  batchNormActPool: ['train', 'backward'],
};

async function trainSeed(
  steps: number,
): Promise<{ losses: number[]; weights: Float32Array[]; readbacks: number[]; uploads: number[]; fused: Record<string, number>; predictions: Float32Array }> {
  setSeed(42);
  const model = buildSeedModel(16);
  const losses: number[] = [];
  const readbacks: number[] = [];
  const uploads: number[] = [];
  const b = getBackend() as Partial<GpuBackend>;
  // Calls of the fused ops the backend has, by `group.op` of its fused-op record.
  const fused: Record<string, number> = {};
  const originals: [Record<string, unknown>, string, unknown][] = [];
  let predictions = new Float32Array(0);
  for (const [group, names] of Object.entries(FUSED_OPS)) {
    const ops = (getBackend().fused as unknown as Record<string, Record<string, unknown> | null>)[group];
    if (!ops) continue;
    for (const name of names) {
      const fn = ops[name] as (...a: unknown[]) => unknown;
      const key = `${group}.${name}`;
      originals.push([ops, name, fn]);
      fused[key] = 0;
      ops[name] = (...args: unknown[]) => (fused[key]++, fn(...args));
    }
  }
  try {
    for (let i = 0; i < steps; i++) {
      const { x, y } = randomBatch(4, 16, i + 1);
      const before = b.stats?.();
      const logs = await model.trainOnBatch(tensor(x, [4, 16, 16, 3]), tensor(y, [4, 1]));
      const after = b.stats?.();
      if (before && after) {
        readbacks.push(after.readbacks - before.readbacks);
        uploads.push(after.uploads - before.uploads);
      }
      losses.push(Number(logs.loss));
    }
    // Inference after training: Conv2D runs (batch norm folded in) through fusedConv2dMaxPool where the backend has it.
    const { x } = randomBatch(4, 16, 99);
    predictions = (await model.predict(tensor(x, [4, 16, 16, 3]))).values.slice();
  } finally {
    for (const [ops, name, fn] of originals) ops[name] = fn;
  }
  return { losses, weights: model.getWeightValues(), readbacks, uploads, fused, predictions };
}

// Arrays read back per trainOnBatch step of the seed model. Before the pipelined backend every kernel's
// result was read back: 89 kernel runs, 89 readbacks per step in both modes (measured with gpu.js's
// createKernel wrapped to count calls). Pipelined (headlessgl, webgpu), only what an op returns was read
// back, results an op returns together at once: 77. With the fused ops (src/model/fusion.ts: conv →
// pool and batch norm → relu → pool as one op each way, Conv2D through fusedConv2d) each of those ops
// reads back one packed array: 48 (forward: conv 2 → 1, batch norm + relu + pool 4 → 1, 3 × conv + bias +
// relu + pool 4 → 1; backward: 3 × 5 → 1, 4 → 1, conv 2 → 1). 'webasm' has no device memory and copies
// every kernel's result out: 79, as before the fused ops (they run as many kernels there as the ops they replace).
const READBACKS_PER_STEP: Record<GpuMode, number> = { headlessgl: 48, webasm: 79, webgpu: 48 };

for (const mode of modes) {
  test(`[${mode}] three training steps of the seed model match the reference, reading back ${READBACKS_PER_STEP[mode]} arrays a step (was 89)`, async () => {
    const previous = getBackend();
    try {
      setBackend('reference');
      const want = await trainSeed(3);
      setBackend('gpu', { mode });
      assert.is(getBackend().name, `gpu:${mode}`);
      const got = await trainSeed(3);
      assertClose(got.losses, want.losses, { atol: 1e-3, rtol: 1e-3 }, `${mode} losses`);
      got.weights.forEach((w, i) => assertClose(w, want.weights[i], { atol: 1e-3, rtol: 1e-3 }, `${mode} weight ${i}`));
      assert.equal(got.readbacks, [READBACKS_PER_STEP[mode], READBACKS_PER_STEP[mode], READBACKS_PER_STEP[mode]], `${mode} readbacks per step`);
      // Per step: Conv2D(linear) → BN → relu → pool, then 3 × Conv2D(relu) → pool, fused each way; predict: the
      // same 4 runs (the first with its batch norm folded into the convolution) as fusedConv2dMaxPool.
      const perStep = { 'conv.conv2d': 1, 'conv.conv2dBackward': 1, 'conv.conv2dMaxPoolTrain': 3, 'conv.conv2dMaxPoolBackward': 3, 'batchNormActPool.train': 1, 'batchNormActPool.backward': 1 };
      const calls = { ...Object.fromEntries(Object.entries(perStep).map(([k, n]) => [k, 3 * n])), 'conv.conv2dMaxPool': 4 };
      assert.equal(got.fused, calls, `${mode}: fused ops called in 3 steps and one predict`);
      assertClose(got.predictions, want.predictions, { atol: 1e-3, rtol: 1e-3 }, `${mode} predictions after training`);
      assert.equal(want.fused, calls, 'the reference runs the same plan (its fused ops are its plain ops composed)');
      assert.ok(got.readbacks[0] < 89, `${mode}: ${got.readbacks[0]} readbacks a step, no fewer than the 89 before pipelining`);
      assert.is((getBackend() as GpuBackend).stats().liveTextures, 0);
    } finally {
      setBackend(previous.name === 'reference' ? 'reference' : 'cpu');
    }
  });

  // A small model that runs every kind of multi-kernel op (batch norm forward and backward, max pooling,
  // Adam's packed update) 40 times: after the first step nothing on the device may grow.
  test(`[${mode}] 40 training steps grow neither live kernels nor device textures`, async () => {
    const previous = getBackend();
    try {
      const b = setBackend('gpu', { mode }) as GpuBackend;
      setSeed(7);
      const model = new Sequential();
      model.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 3] }));
      model.add(new layers.BatchNormalization());
      model.add(new layers.Activation('relu'));
      model.add(new layers.MaxPooling2D({ poolSize: 2 }));
      model.add(new layers.Flatten());
      model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
      model.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-3 }), loss: 'binaryCrossentropy' });
      const step = async (i: number) => {
        const { x, y } = randomBatch(4, 8, i);
        await model.trainOnBatch(tensor(x, [4, 8, 8, 3]), tensor(y, [4, 1]));
      };
      await step(1);
      const first = b.stats();
      const kernels1 = b.liveKernels();
      assert.ok(kernels1 > 0 && first.kernelsCompiled === kernels1, `after one step: ${kernels1} live kernels, ${first.kernelsCompiled} compiled`);
      if (mode === 'headlessgl') assert.ok(first.deviceTextures > 0, 'headlessgl: no device textures counted');
      if (mode === 'webgpu') assert.ok(first.deviceBuffers > 0, 'webgpu: no device buffers counted');
      for (let i = 2; i <= 40; i++) await step(i);
      const last = b.stats();
      assert.is(b.liveKernels(), kernels1, `live kernels grew from ${kernels1} to ${b.liveKernels()}`);
      assert.is(last.kernelsCompiled, first.kernelsCompiled, 'kernels compiled after the first step');
      assert.is(last.deviceTextures, first.deviceTextures, `device textures grew from ${first.deviceTextures} to ${last.deviceTextures}`);
      assert.is(last.deviceBuffers, first.deviceBuffers, `device buffers grew from ${first.deviceBuffers} to ${last.deviceBuffers}`);
      assert.is(last.liveTextures, 0, 'textures held between ops');
      assert.is((last.readbacks - first.readbacks) % 39, 0, 'readbacks per step vary');
      b.dispose();
      assert.is(b.liveKernels(), 0);
      assert.is(b.stats().deviceTextures, 0, 'device textures left after dispose');
      assert.is(b.stats().deviceBuffers, 0, 'device buffers left after dispose');
    } finally {
      setBackend(previous.name === 'reference' ? 'reference' : 'cpu');
    }
  });

  test(`[${mode}] many ops on changing shapes do not grow the live kernels`, async () => {
    const b = createGpuBackend({ mode, maxKernels: 8 });
    try {
      const info = conv2dInfo([2, 5, 5, 2], [3, 3], 3, [1, 1], 'same');
      const x = rand(50);
      const w = rand(54);
      const step = (lr: number) => {
        const y = b.conv2d(x, w, info);
        const a = b.activation('relu', y, 3, 0);
        const dy = b.activationBackward('relu', a, y, a, 3, 0);
        const dw = b.conv2dBackpropFilter(x, dy, info);
        b.conv2dBackpropInput(dy, w, info);
        b.sgdUpdate(w, dw, null, lr, 0, false);
        b.batchNormTrain(y, Float32Array.of(1, 1, 1), Float32Array.of(0, 0, 0), 3, 1e-3);
        // A fresh shape every step: evictions must destroy what they drop.
        b.multiply(rand(3 + (Math.floor(lr * 1e4) % 20)), rand(3 + (Math.floor(lr * 1e4) % 20)));
      };
      step(1e-4);
      const after1 = b.liveKernels();
      const textures1 = b.stats().deviceTextures;
      const buffers1 = b.stats().deviceBuffers;
      for (let i = 2; i <= 40; i++) step(i * 1e-4);
      assert.ok(b.liveKernels() <= 8, `live kernels ${b.liveKernels()} exceed the cap 8`);
      assert.ok(b.liveKernels() <= Math.max(after1, 8), `live kernels grew from ${after1} to ${b.liveKernels()}`);
      assert.ok(b.stats().deviceTextures <= Math.max(textures1, 8 * 8), `device textures grew from ${textures1} to ${b.stats().deviceTextures}`);
      // Per webgpu kernel: a uniform buffer, one per array argument, the output and up to 3 staging buffers.
      assert.ok(b.stats().deviceBuffers <= Math.max(buffers1, 8 * 12), `device buffers grew from ${buffers1} to ${b.stats().deviceBuffers}`);
      assert.is(b.stats().liveTextures, 0);
    } finally {
      b.dispose();
    }
    assert.is(b.stats().deviceTextures, 0, 'device textures left after dispose');
    assert.is(b.stats().deviceBuffers, 0, 'device buffers left after dispose');
  });
}

// A real gpu.js fallback, not a simulated one: gpu.js's own WebAssemblyKernel.build() rejects an argument
// of a texture type (what a GL kernel with `pipeline: true` returns), requests the fallback, and gpu.js
// swaps a CPUKernel into the shortcut, warns and sets `fallbackReason`. The only stand-in is the argument:
// an object typed like a gpu.js NumberTexture (`toArray` is what the CPU kernel reads), since no real
// texture can be made without GL. matmul takes its output size from m·n, not from the argument.
test('[webasm] a kernel gpu.js quietly runs on the CPU throws, naming the kernel and the reason', () => {
  const b = createGpuBackend({ mode: 'webasm' });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    const a = Float32Array.of(1, 2, 3);
    const w = Float32Array.of(4, 5, 6);
    const texture = { type: 'NumberTexture', output: [3], size: [3, 1], toArray: () => a };
    assert.throws(
      () => b.matmul(texture as never, w, 1, 3, 1, false, false),
      (e: Error) =>
        /kernel 'matmul' ran on CPUKernel instead of WebAssemblyKernel \(mode 'webasm'\)/.test(e.message) &&
        /argument "a" of type NumberTexture is not supported on the webasm backend/.test(e.message),
    );
    assert.ok(warnings.some((line) => line.includes('Falling back to CPU')), `gpu.js did not fall back: ${JSON.stringify(warnings)}`);
    // The fallen-back kernel is dropped: the same op and shape compiles again in the mode and runs there.
    assert.is(b.liveKernels(), 0);
    assert.equal(Array.from(b.matmul(a, w, 1, 3, 1, false, false)), [32]);
    assert.is(b.liveKernels(), 1);
  } finally {
    console.warn = warn;
    b.dispose();
  }
});

test('[webasm] switching from the gpu backend to another destroys its kernels', () => {
  const b = setBackend('gpu', { mode: 'webasm' }) as GpuBackend;
  try {
    b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
    b.matmul(Float32Array.of(1, 2), Float32Array.of(3, 4), 1, 2, 1, false, false);
    assert.is(b.liveKernels(), 2);
  } finally {
    setBackend('cpu');
  }
  assert.is(b.liveKernels(), 0);
  assert.is(getBackend().name, 'cpu');
});

test('[webasm] a gpu backend that cannot start leaves the active gpu backend usable', () => {
  const b = setBackend('gpu', { mode: 'webasm' }) as GpuBackend;
  try {
    b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
    assert.throws(() => setBackend('gpu', { mode: 'webasm', maxKernels: 0 }), /maxKernels must be a positive integer, got 0/);
    assert.is(getBackend(), b);
    assert.is(b.liveKernels(), 1);
    assert.equal(Array.from(b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4))), [3, 8]);
  } finally {
    setBackend('cpu');
  }
});

test('a mode asked for but unavailable fails loudly, naming the reason', () => {
  const webgpu = probeMode('webgpu');
  if (!webgpu.available) {
    assert.throws(
      () => setBackend('gpu', { mode: 'webgpu' }),
      (e: Error) => e.message === `gpu backend: mode 'webgpu' cannot start here: ${webgpu.reason}`,
    );
  }
  // @ts-expect-error an unknown mode
  assert.throws(() => setBackend('gpu', { mode: 'cuda' }), /unknown mode 'cuda'/);
  assert.throws(() => setBackend('gpu', { mode: 'webasm', pipeline: true } as never), /unknown option 'pipeline'/);
  setBackend('cpu');
});

// 'webgpu' runs gpu.js in a worker thread that owns the device; what that adds is checked here: round
// trips, the shared buffer growing for large arrays, errors coming back from the worker, dispose ending
// the worker and freeing the device, and the probe's answer where there is no usable adapter.
if (modes.includes('webgpu')) {
  test('[webgpu] one blocking round trip per kernel run or readback; 20 MB arrays pass through the growing shared buffer', () => {
    const b = createGpuBackend({ mode: 'webgpu' });
    try {
      const trips = () => b.stats().workerRoundTrips;
      let t = trips();
      assert.equal(Array.from(b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4))), [3, 8]);
      assert.is(trips() - t, 1, 'multiply: run and readback in one round trip');
      t = trips();
      b.batchNormTrain(rand(4 * 3), Float32Array.of(1, 1, 1), Float32Array.of(0, 0, 0), 3, 1e-3);
      // copy (the shared input), mean, stats, normalizeScaleShift read at once, then stats read back.
      assert.is(trips() - t, 5, 'batchNormTrain round trips');
      const n = 5_000_000;
      const x = rand(n, -4, 4);
      const y = rand(n, -4, 4);
      const got = b.multiply(x, y);
      const want = referenceBackend.multiply(x, y);
      const diff = want.findIndex((v, i) => !Object.is(v, got[i]));
      assert.is(diff, -1, `20 MB multiply: index ${diff}: ${got[diff]} vs ${want[diff]}`);
      assert.not.ok(got.buffer instanceof SharedArrayBuffer, 'a result must not alias the shared buffer');
      assert.is(b.stats().liveTextures, 0);
    } finally {
      b.dispose();
    }
  });

  test('[webgpu] an error in the worker comes back naming the kernel; the worker keeps serving; dispose ends it', async () => {
    const w = startWebGpuWorker();
    try {
      assert.throws(
        () => w.run('bad', 'bad', 'function bad(a) { return a[this.thread.x] + notDefinedAnywhere; }', 2, {}, [Float32Array.of(1, 2)], false),
        // gpu.js's parser: "Identifier is not defined on line 1, position 0: …"
        (e: Error) => /^gpu backend \(webgpu\): kernel 'bad': Identifier is not defined/.test(e.message),
      );
      const good = w.run('good', 'good', 'function good(a) { return a[this.thread.x] * 2; }', 2, {}, [Float32Array.of(1, 2)], false);
      assert.equal(Array.from(good as Float32Array), [2, 4]);
      assert.ok(w.stats().deviceBuffers > 0);
    } finally {
      w.dispose();
    }
    assert.throws(() => w.run('good', 'good', '', 2, {}, [Float32Array.of(1, 2)], false), /the device worker was disposed/);
    const code = await Promise.race([w.exited, new Promise((r) => setTimeout(() => r('still running after 5 s'), 5000).unref())]);
    assert.is(code, 1, 'worker exit code (terminate() ends it with 1)');
  });

  test('[webgpu] switching to another backend disposes the device worker', async () => {
    const b = setBackend('gpu', { mode: 'webgpu' }) as GpuBackend;
    try {
      b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
      assert.is(b.liveKernels(), 1);
    } finally {
      setBackend('cpu');
    }
    assert.is(b.liveKernels(), 0);
    assert.is(b.stats().deviceBuffers, 0);
    assert.throws(() => b.multiply(Float32Array.of(1), Float32Array.of(2)), /the device worker was disposed/);
  });
}

test('webgpu without a usable Vulkan driver is unavailable with the reason, and auto never takes a software adapter', () => {
  const here = probeMode('webgpu');
  if (here.available && here.software) assert.is.not(chooseAuto().mode, 'webgpu', `auto took the software adapter: ${here.reason}`);
  // A child process whose Vulkan loader finds no driver at all.
  const code = "const m = await import('./src/backend/gpu/index.ts'); console.log(JSON.stringify({ probe: m.probeMode('webgpu'), auto: m.chooseAuto().mode }));";
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const { probe, auto } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { probe: { available: boolean; reason: string }; auto: string };
  assert.is(probe.available, false, `webgpu available without a Vulkan driver: ${probe.reason}`);
  assert.match(probe.reason, /^requestAdapter\(\) resolved null: (no Vulkan loader|the Vulkan loader found no driver)/);
  assert.is.not(auto, 'webgpu');
});

const ARTEFACTS = ['(0, import_', '__name(', 'import_', 'require('];

// In 'webgpu' the device worker compiles exactly this text (fn.toString() is what it is sent).
test('kernel sources as gpu.js sees them carry no bundler artefacts (tsx)', () => {
  const names = Object.keys(KERNEL_FUNCTIONS);
  assert.ok(names.length >= 24, `only ${names.length} kernels`);
  for (const [name, fn] of Object.entries(KERNEL_FUNCTIONS)) {
    const src = fn.toString();
    assert.ok(src.startsWith('function '), `${name}: source does not start with 'function ': ${src.slice(0, 40)}`);
    for (const bad of ARTEFACTS) assert.not.ok(src.includes(bad), `${name}: source contains '${bad}'`);
  }
});

test('kernel sources in dist/ carry no bundler artefacts (after npm run build)', async () => {
  const dist = new URL('../dist/index.js', import.meta.url);
  if (!existsSync(dist)) {
    console.log('gpu-conformance: dist/index.js missing: run `npm run build` first; dist check SKIPPED');
    return;
  }
  const text = readFileSync(dist, 'utf8');
  for (const name of Object.keys(KERNEL_FUNCTIONS)) {
    const at = text.indexOf(`function ${name}(`);
    assert.ok(at >= 0, `dist/index.js has no 'function ${name}(' (renamed or minified?)`);
    const body = text.slice(at, text.indexOf('\n}\n', at) + 2);
    for (const bad of ARTEFACTS) assert.not.ok(body.includes(bad), `dist ${name}: source contains '${bad}'`);
  }
});

test.after(() => {
  for (const b of backends.values()) b.dispose();
});

test.run();
