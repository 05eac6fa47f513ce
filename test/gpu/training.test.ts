// gpu.js modes training the seed model against the reference (losses, weights, predictions, the
// fused ops each step calls, arrays read back per step), and kernels or device memory that must not
// grow over many steps and shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../../src/backend/index.js';
import { createGpuBackend, type GpuBackend, type GpuMode } from '../../src/backend/gpu/index.js';
import { conv2dInfo } from '../../src/geometry.js';
import { layers, optimizers, regularizers, Sequential, setSeed, tensor } from '../../src/index.js';
import { buildSeedModel, randomBatch } from '../../bench/models.js';
import { assertClose } from '../helpers.js';
import { modes, rand } from './modes.js';

// Training: a few steps of the seed model (16×16 images, batch 4) with the same seed on the reference
// and on each mode; losses and weights must agree within atol 1e-3, rtol 1e-3 (float32 sums in another order).
const FUSED_OPS: Record<'conv' | 'batchNormActPool', readonly string[]> = {
  conv: ['conv2d', 'conv2dBackward', 'conv2dMaxPool', 'conv2dMaxPoolTrain', 'conv2dMaxPoolBackward'],
  batchNormActPool: ['train', 'backward'],
};

async function trainSeed(
  steps: number,
): Promise<{
  losses: number[]; weights: Float32Array[]; readbacks: number[]; uploads: number[]; uploadBytes: number[]; trips: number[]; fused: Record<string, number>;
  predictions: Float32Array;
}> {
  setSeed(42);
  const model = buildSeedModel(16);
  const losses: number[] = [];
  const readbacks: number[] = [];
  const uploads: number[] = [];
  const uploadBytes: number[] = [];
  const trips: number[] = [];
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
        uploadBytes.push(after.uploadBytes - before.uploadBytes);
        trips.push(after.workerRoundTrips - before.workerRoundTrips);
      }
      losses.push(Number(logs.loss));
    }
    // Inference after training: Conv2D runs (batch norm folded in) through fusedConv2dMaxPool where the backend has it.
    const { x } = randomBatch(4, 16, 99);
    predictions = (await model.predict(tensor(x, [4, 16, 16, 3]))).values.slice();
  } finally {
    for (const [ops, name, fn] of originals) ops[name] = fn;
  }
  return { losses, weights: model.getWeightValues(), readbacks, uploads, uploadBytes, trips, fused, predictions };
}

// Arrays read back per trainOnBatch step of the seed model. Before the pipelined backend every kernel's
// result was read back: 89 per step; pipelined with the fused ops, 48 (headlessgl, webgpu) and 79 (webasm).
// With device arrays (src/device-storage.ts) activations, gradients, weights, optimizer and batch-norm
// state stay on the device across ops and steps: only the predictions come back, once, for the loss and
// the metrics (bench/gpu-traffic.ts measures the same at 32×32, batch 8).
/** Bytes of one batch of trainSeed: 4 images of 16×16×3 float32. */
const BATCH_BYTES = 4 * 16 * 16 * 3 * 4;
// (webgl2 and webgl run in a browser: test/browser.test.ts.)
const READBACKS_PER_STEP: Record<GpuMode, number> = { headlessgl: 1, webasm: 1, webgpu: 1, webgl2: 1, webgl: 1 };

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
      // Uploads per step: the batch (once), the loss gradient and per-step scalars (dropout masks are drawn on the device).
      // Step 1 also uploads the weights (once); after it, only the per-step inputs.
      got.uploadBytes.slice(1).forEach((bytes, i) => assert.ok(bytes <= 2 * BATCH_BYTES, `${mode} step ${i + 2}: ${bytes} bytes uploaded, over twice the batch's ${BATCH_BYTES}`));
      // 'webgpu': kernel runs are queued to the device worker; a step waits only for its readbacks (the
      // first step also compiles every kernel, one round trip each). Before batching: one per kernel run.
      if (mode === 'webgpu') {
        got.trips.slice(1).forEach((n, i) => assert.ok(n <= READBACKS_PER_STEP.webgpu, `webgpu step ${i + 2}: ${n} worker round trips`));
      }
      assert.is((getBackend() as GpuBackend).stats().liveTextures, 0);
    } finally {
      setBackend(previous.name === 'reference' ? 'reference' : 'cpu');
    }
  });

  // weightDecay and an L2 kernel regularizer's gradient run on the device (deviceCombine): the weights and
  // gradients stay device arrays, so nothing is uploaded again or recompiled after the first step. The
  // penalty (Σw², for the reported loss) still reads each regularized kernel back: one readback each.
  test(`[${mode}] weightDecay and an l2 regularizer: the reference's weights, no re-uploads, 1 + 2 readbacks a step`, async () => {
    const previous = getBackend();
    const train = async (): Promise<{ weights: Float32Array[]; losses: number[]; stats: ReturnType<GpuBackend['stats']>[] }> => {
      setSeed(11);
      const kernelRegularizer = regularizers.l2({ l2: 1e-3 });
      const model = new Sequential();
      model.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 3], kernelRegularizer }));
      model.add(new layers.MaxPooling2D({ poolSize: 2 }));
      model.add(new layers.Flatten());
      model.add(new layers.Dropout({ rate: 0.25 }));
      model.add(new layers.Dense({ units: 1, activation: 'sigmoid', kernelRegularizer }));
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-2, momentum: 0.9, weightDecay: 1e-2 }), loss: 'binaryCrossentropy' });
      const b = getBackend() as Partial<GpuBackend>;
      const losses: number[] = [];
      const stats: ReturnType<GpuBackend['stats']>[] = [];
      for (let i = 1; i <= 3; i++) {
        const { x, y } = randomBatch(4, 8, i);
        losses.push(Number((await model.trainOnBatch(tensor(x, [4, 8, 8, 3]), tensor(y, [4, 1]))).loss));
        if (b.stats) stats.push(b.stats());
      }
      return { weights: model.getWeightValues(), losses, stats };
    };
    try {
      setBackend('reference');
      const want = await train();
      setBackend('gpu', { mode });
      const got = await train();
      assertClose(got.losses, want.losses, { atol: 1e-4, rtol: 1e-4 }, `${mode} losses`);
      got.weights.forEach((w, i) => assertClose(w, want.weights[i], { atol: 1e-4, rtol: 1e-3 }, `${mode} weight ${i}`));
      const [, s2, s3] = got.stats;
      const batchBytes = 4 * 8 * 8 * 3 * 4;
      assert.ok(s3.uploadBytes - s2.uploadBytes <= 2 * batchBytes, `${mode}: ${s3.uploadBytes - s2.uploadBytes} bytes uploaded in step 3`);
      assert.is(s3.kernelsCompiled, s2.kernelsCompiled, `${mode}: kernels compiled in step 3`);
      assert.is(s3.readbacks - s2.readbacks, 3, `${mode}: readbacks in step 3 (predictions, two penalties)`);
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
      // A loop of ops written by hand frees its device arrays per iteration with scope (tidy).
      const step = (lr: number) => b.scope(() => {
        const y = b.conv2d(x, w, info);
        const a = b.activation('relu', y, 3, 0);
        const dy = b.activationBackward('relu', a, y, a, 3, 0);
        const dw = b.conv2dBackpropFilter(x, dy, info);
        b.conv2dBackpropInput(dy, w, info);
        b.sgdUpdate(w, dw, null, lr, 0, false);
        b.batchNormTrain(y, Float32Array.of(1, 1, 1), Float32Array.of(0, 0, 0), 3, 1e-3);
        // A fresh shape every step: evictions must destroy what they drop.
        b.multiply(rand(3 + (Math.floor(lr * 1e4) % 20)), rand(3 + (Math.floor(lr * 1e4) % 20)));
      });
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

test.run();
