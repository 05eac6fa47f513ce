// Inference fusion (src/model/fusion.ts, mode 'inference'): Conv2D(linear) → BatchNormalization [→ Activation]
// folded into one fusedConv2d, and a following MaxPooling2D joined into fusedConv2dMaxPool, against
// the layer-by-layer pass, on the seed model and on variants (scale/center off, no conv bias, no or
// other activation after, pools of other geometry), and training left untouched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../src/backend/index.js';
import { matchRun } from '../src/model/fusion.js';
import type { FusedOps } from '../src/backend/types.js';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D, type Layer } from '../src/layers/index.js';
import { getLoss } from '../src/train/losses.js';
import { SGD } from '../src/train/optimizers.js';
import { Random } from '../src/util/random.js';
import { Sequential } from '../src/model/sequential.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { assertClose, assertSameWeights, randomArray } from './helpers.js';

test.before(() => void setBackend('cpu'));
test.after(() => void setBackend('cpu'));

const TOL = { atol: 1e-5, rtol: 1e-4 };

function images(n: number, h: number, w: number, c: number, seed: number): Tensor {
  return new Tensor(randomArray(n * h * w * c, seed), [n, h, w, c] as unknown as Shape);
}

/** Non-trivial batch-norm statistics (and a non-zero conv bias) on every layer of `model`. */
function randomizeStats(model: Sequential, seed: number): void {
  const ranges: Record<string, [number, number]> = {
    gamma: [0.5, 1.5],
    beta: [-0.5, 0.5],
    moving_mean: [-0.3, 0.3],
    moving_variance: [0.2, 2],
    bias: [-0.2, 0.2],
  };
  model.setWeights(
    model.getWeights().map((w, i) => {
      const kind = model.params()[i].name.split('/').pop()!;
      const range = ranges[kind];
      return range ? new Tensor(randomArray(w.size, seed + i, ...range), w.shape) : w;
    }),
  );
}

/** The plain inference pass: every layer's own forward, no folding. */
function layerByLayer(layers: readonly Layer[], x: Tensor): Tensor {
  const rng = new Random(1);
  return layers.reduce((h, l) => l.forward(h, { training: false, rng }), x);
}

/** Counts fused.conv.conv2d, fused.conv.conv2dMaxPool and batchNormInference calls on the active backend while `body` runs. */
async function countCalls(body: () => Promise<void>): Promise<{ fused: number; pool: number; bn: number }> {
  const backend = getBackend();
  const ops = backend.fused.conv!;
  const { conv2d, conv2dMaxPool } = ops;
  const bn = backend.batchNormInference;
  const counts = { fused: 0, pool: 0, bn: 0 };
  ops.conv2d = (...a) => (counts.fused++, conv2d(...a));
  ops.conv2dMaxPool = (...a) => (counts.pool++, conv2dMaxPool(...a));
  backend.batchNormInference = (...a) => (counts.bn++, bn(...a));
  try {
    await body();
  } finally {
    Object.assign(ops, { conv2d, conv2dMaxPool });
    backend.batchNormInference = bn;
  }
  return counts;
}

/** matchRun in inference mode with every fused op available. */
const ALL: FusedOps = { conv: {} as NonNullable<FusedOps['conv']>, batchNormActPool: {} as NonNullable<FusedOps['batchNormActPool']> };
const matchInference = (layers: readonly Layer[], i: number) => matchRun(layers, i, 'inference', ALL);

test('seed model (24×24, batch 5): predict with folding = layer-by-layer, on the first block and the whole model', async () => {
  const model = buildUserModel(24);
  model.getWeights();
  randomizeStats(model, 10);
  const x = images(5, 24, 24, 3, 1);
  const run = matchInference(model.layers, 0);
  assert.ok(run && run.kind === 'conv' && run.conv === model.layers[0] && run.bn === model.layers[1] && run.pool === model.layers[3], 'Conv2D → BatchNormalization → … → MaxPooling2D found at layer 0');
  assert.equal([run!.activation, run!.length], ['relu', 4], "Activation('relu') folded in");
  const second = matchInference(model.layers, 4);
  assert.ok(second && second.kind === 'conv' && second.bn === null && second.pool === model.layers[5] && second.activation === 'relu', "Conv2D(relu) → MaxPooling2D at layer 4");
  assert.is(matchRun(model.layers, 4, 'inference', { conv: null, batchNormActPool: null }), null, 'without fused convolution ops no run');
  assert.equal(
    model.fusionPlan('inference').map((u) => [u.layers.length, u.op]).slice(0, 5),
    [[4, 'conv.conv2dMaxPool'], [2, 'conv.conv2dMaxPool'], [2, 'conv.conv2dMaxPool'], [2, 'conv.conv2dMaxPool'], [1, null]],
    'the plan says which layers run fused, and as which op',
  );
  const block = new Sequential({ layers: model.layers.slice(0, 3) });
  let yBlock!: Tensor;
  const calls = await countCalls(async () => void (yBlock = await block.predict(x)));
  assert.equal(calls, { fused: 1, pool: 0, bn: 0 }, 'the block runs as one fusedConv2d, without batchNormInference');
  assertClose(yBlock.values, layerByLayer(block.layers, x).values, TOL, 'first block [5,24,24,16]');
  assert.ok(yBlock.values.some((v) => v === 0) && yBlock.values.some((v) => v > 0.5), 'relu is active and the output non-trivial');
  let y!: Tensor;
  const all = await countCalls(async () => void (y = await model.predict(x)));
  assert.equal(all, { fused: 0, pool: 4, bn: 1 }, 'four conv+pool calls; the BatchNormalization after Dense runs on its own');
  assertClose(y.values, layerByLayer(model.layers, x).values, TOL, 'seed model output');
});

test("'reference' backend (fused ops composed of its plain ops): predict runs the same plan and agrees with the folded 'cpu' predict", async () => {
  const model = buildUserModel(24);
  model.getWeights();
  randomizeStats(model, 20);
  const block = new Sequential({ layers: model.layers.slice(0, 3) });
  const x = images(3, 24, 24, 3, 2);
  const folded = await block.predict(x);
  setBackend('reference');
  try {
    assert.equal(block.fusionPlan('inference').map((u) => u.op), ['conv.conv2d'], 'conv → BN → relu folded into one call');
    const plain = await block.predict(x);
    assertClose(plain.values, layerByLayer(block.layers, x).values, TOL, 'reference folded predict = its layer-by-layer pass');
    assertClose(folded.values, plain.values, TOL, 'cpu folded vs reference');
  } finally {
    setBackend('cpu');
  }
});

interface Variant {
  name: string;
  layers: () => Layer[];
  /** fusedConv2d calls expected from one predict (0 when the run must not fold). */
  fused: number;
  /** fusedConv2dMaxPool calls expected. */
  pool?: number;
  bn: number;
}

const conv = (extra: Partial<ConstructorParameters<typeof Conv2D>[0]> = {}) =>
  new Conv2D({ filters: 6, kernelSize: 3, padding: 'same', inputShape: [9, 11, 4], ...extra });

const variants: Variant[] = [
  { name: 'scale and center off', layers: () => [conv(), new BatchNormalization({ scale: false, center: false }), new Activation('relu')], fused: 1, bn: 0 },
  { name: 'scale off, center on', layers: () => [conv(), new BatchNormalization({ scale: false }), new Activation('relu')], fused: 1, bn: 0 },
  { name: 'Conv2D useBias false', layers: () => [conv({ useBias: false }), new BatchNormalization()], fused: 1, bn: 0 },
  { name: 'no Activation after, then MaxPooling2D (odd 9×11 input: the last row and column drop)', layers: () => [conv(), new BatchNormalization(), new MaxPooling2D({ poolSize: 2 })], fused: 0, pool: 1, bn: 0 },
  { name: "Conv2D(relu) → MaxPooling2D 3×3 stride 1 'same'", layers: () => [conv({ activation: 'relu' }), new MaxPooling2D({ poolSize: 3, strides: 1, padding: 'same' })], fused: 0, pool: 1, bn: 0 },
  { name: "Conv2D(linear) → Activation('relu') → MaxPooling2D 2×3 strides [1, 2]", layers: () => [conv(), new Activation('relu'), new MaxPooling2D({ poolSize: [2, 3], strides: [1, 2] })], fused: 0, pool: 1, bn: 0 },
  { name: 'Conv2D strides 2 valid, no bias → MaxPooling2D', layers: () => [conv({ strides: 2, padding: 'valid', useBias: false }), new MaxPooling2D()], fused: 0, pool: 1, bn: 0 },
  { name: "Conv2D with activation 'tanh' → MaxPooling2D: not fused", layers: () => [conv({ activation: 'tanh' }), new MaxPooling2D()], fused: 0, pool: 0, bn: 0 },
  { name: '3 input channels, 16 filters (the direct convolution) → BN → relu → MaxPooling2D', layers: () => [new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [9, 11, 3] }), new BatchNormalization(), new Activation('relu'), new MaxPooling2D()], fused: 0, pool: 1, bn: 0 },
  { name: "Activation('linear') after", layers: () => [conv(), new BatchNormalization({ epsilon: 0.1 }), new Activation('linear')], fused: 1, bn: 0 },
  { name: "Activation('tanh') after: folds conv+BN, tanh runs on its own", layers: () => [conv(), new BatchNormalization(), new Activation('tanh')], fused: 1, bn: 0 },
  { name: 'strides 2, valid padding, then Flatten and Dense', layers: () => [conv({ strides: 2, padding: 'valid' }), new BatchNormalization(), new Activation('relu'), new Flatten(), new Dense({ units: 3 })], fused: 1, bn: 0 },
  { name: 'two folded blocks in a row', layers: () => [conv(), new BatchNormalization(), new Activation('relu'), new Conv2D({ filters: 5, kernelSize: 1 }), new BatchNormalization()], fused: 2, bn: 0 },
  { name: "Conv2D with activation 'relu' before BN: not folded", layers: () => [conv({ activation: 'relu' }), new BatchNormalization(), new Activation('relu')], fused: 1, bn: 1 },
  { name: "Conv2D with activation 'relu' before BN, then MaxPooling2D: BN runs on its own, the pool is not fused", layers: () => [conv({ activation: 'relu' }), new BatchNormalization(), new MaxPooling2D()], fused: 1, bn: 1 },
  { name: 'BN after Dense: not folded', layers: () => [new Flatten({ inputShape: [9, 11, 4] }), new Dense({ units: 7 }), new BatchNormalization()], fused: 0, bn: 1 },
];

for (const v of variants) {
  test(`variant: ${v.name} → folded predict = layer-by-layer`, async () => {
    const model = new Sequential({ layers: v.layers() });
    model.getWeights();
    randomizeStats(model, 30);
    const inC = model.layers[0].inputShape?.[2] ?? 4;
    const x = images(4, 9, 11, inC, 3);
    let y!: Tensor;
    const calls = await countCalls(async () => void (y = await model.predict(x)));
    assert.equal(calls, { fused: v.fused, pool: v.pool ?? 0, bn: v.bn }, 'fusedConv2d / fusedConv2dMaxPool / batchNormInference calls');
    assertClose(y.values, layerByLayer(model.layers, x).values, TOL, v.name);
  });
}

test('folding reads the current weights: changing BN statistics after a predict changes the next predict', async () => {
  const model = new Sequential({ layers: [conv(), new BatchNormalization(), new Activation('relu')] });
  model.getWeights();
  randomizeStats(model, 40);
  const x = images(2, 9, 11, 4, 4);
  const before = await model.predict(x);
  randomizeStats(model, 50);
  const after = await model.predict(x);
  assert.ok(before.values.some((v, i) => Math.abs(v - after.values[i]) > 1e-3), 'new statistics must show in the output');
  assertClose(after.values, layerByLayer(model.layers, x).values, TOL, 'after new statistics');
});

function smallModel(): Sequential {
  const model = new Sequential({
    layers: [conv(), new BatchNormalization({ momentum: 0.5 }), new Activation('relu'), new MaxPooling2D({ poolSize: 2 }), new Flatten(), new Dense({ units: 1 })],
  });
  model.compile({ optimizer: new SGD({ learningRate: 0.002 }), loss: 'meanSquaredError' });
  model.getWeights();
  randomizeStats(model, 60);
  return model;
}

test('training unchanged: trainOnBatch = a hand-written layer-by-layer training step, bit for bit (batch statistics, moving updates)', async () => {
  const a = smallModel();
  const b = smallModel();
  b.setWeights(a.getWeights());
  const x = images(6, 9, 11, 4, 5);
  const y = new Tensor(randomArray(6, 6), [6, 1] as unknown as Shape);
  const optimizer = new SGD({ learningRate: 0.002 });
  for (let step = 0; step < 3; step++) {
    const logs = await a.trainOnBatch(x, y);
    const params = b.params();
    for (const p of params) p.grad.fill(0);
    const rng = new Random(1);
    const yPred = b.layers.reduce((h, l) => l.forward(h, { training: true, rng }), x);
    const r = getLoss('meanSquaredError').compute(y.values, yPred.values, 6, 1);
    let dy: Tensor | null = new Tensor(r.dyPred, yPred.shape);
    for (let i = b.layers.length - 1; i >= 0 && dy; i--) dy = b.layers[i].backward(dy, i > 0);
    optimizer.apply(params.filter((p) => p.trainable));
    assert.is(logs.loss, r.loss, `step ${step} loss`);
    assertSameWeights(a.getWeights(), b.getWeights(), `step ${step} weights`);
  }
});

test('training unchanged: fit with validationData (folded inference between epochs) = fit without, bit for bit; val_loss = layer-by-layer', async () => {
  const a = smallModel();
  const b = smallModel();
  b.setWeights(a.getWeights());
  const x = images(12, 9, 11, 4, 7);
  const y = new Tensor(randomArray(12, 8), [12, 1] as unknown as Shape);
  const xv = images(5, 9, 11, 4, 9);
  const yv = new Tensor(randomArray(5, 10), [5, 1] as unknown as Shape);
  const ha = await a.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, seed: 3, validationData: [xv, yv] });
  const hb = await b.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, seed: 3 });
  assert.equal(ha.history.loss, hb.history.loss, 'training losses');
  assertSameWeights(a.getWeights(), b.getWeights(), 'weights after fit');
  const plain = layerByLayer(a.layers, xv);
  const valLoss = getLoss('meanSquaredError').compute(yv.values, plain.values, 5, 1).loss;
  assertClose([ha.history.val_loss[2]], [valLoss], TOL, 'val_loss of the last epoch');
});

test.run();
