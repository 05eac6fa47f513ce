// The Keras 3 losses meanAbsoluteError, huber, hinge, binaryFocalCrossentropy (hand-computed
// values and central-difference gradients) and the metrics mae, mse, topKCategoricalAccuracy
// with TF.js' spellings in compile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layers, losses, metrics, optimizers, Sequential, tensor } from '../src/index.js';
import type { Loss } from '../src/train/losses.js';
import { assertClose, assertNear, numericGradient, randomArray, throws } from './helpers.js';

const EXACT = { atol: 1e-9, rtol: 1e-9 };
const f32 = (a: number[]): Float32Array => Float32Array.from(a);

test('meanAbsoluteError: mean |p − y| per sample, weighted mean over the batch', () => {
  const mae = losses.meanAbsoluteError();
  assertNear(mae.compute(f32([1, 0]), f32([0.5, 0.25]), 1, 2).loss, 0.375, EXACT);
  // Rows: (0.5 + 0.25)/2 = 0.375 and (1 + 1)/2 = 1; weights 2 and 1 → (0.75 + 1) / 2.
  const r = mae.compute(f32([1, 0, 0, 2]), f32([0.5, 0.25, 1, 1]), 2, 2, f32([2, 1]));
  assertNear(r.loss, 0.875, EXACT);
  assertClose(r.dyPred, [-0.5, 0.5, 0.25, -0.25], EXACT, 'sign(p − y)·w/(batch·units)');
  assert.is(losses.getLoss('mae').name, 'meanAbsoluteError');
});

test('huber: ½e² inside delta, delta·|e| − ½delta² outside', () => {
  assertNear(losses.huber().compute(f32([0, 0]), f32([0.5, 3]), 1, 2).loss, 1.3125, EXACT);
  const d2 = losses.huber({ delta: 2 }).compute(f32([0, 0]), f32([-1, 3]), 1, 2);
  assertNear(d2.loss, (0.5 + 4) / 2, EXACT);
  assertClose(d2.dyPred, [-0.5, 1], EXACT, 'e inside, delta·sign(e) outside, over units');
  assert.equal(losses.huber({ delta: 2 }).getConfig(), { name: 'huber', delta: 2 });
  throws(() => losses.huber({ delta: 0 }), /huber: delta must be a positive finite number, got 0/);
});

test('hinge: 0/1 labels become −1/1 (Keras 3), other labels are used as they are', () => {
  assertNear(losses.hinge().compute(f32([1, 0]), f32([0.3, 0.4]), 1, 2).loss, (1 - Math.fround(0.3) + 1 + Math.fround(0.4)) / 2, EXACT);
  assertNear(losses.hinge().compute(f32([1, -1]), f32([0.3, -2]), 1, 2).loss, (1 - Math.fround(0.3)) / 2, EXACT);
  const r = losses.hinge().compute(f32([1, -1]), f32([2, 0.5]), 1, 2);
  assertClose(r.dyPred, [0, 0.5], EXACT, '−y/units where the margin is violated');
});

test('binaryFocalCrossentropy: (1 − p_t)^γ·bce, class balancing, logits, label smoothing', () => {
  const log2 = Math.log(2);
  assertNear(losses.binaryFocalCrossentropy().compute(f32([1]), f32([0.5]), 1, 1).loss, 0.25 * log2, EXACT);
  assertNear(losses.binaryFocalCrossentropy().compute(f32([0]), f32([0.2]), 1, 1).loss, 0.04 * -Math.log(Math.fround(0.8)), { atol: 1e-8, rtol: 1e-6 });
  assertNear(losses.binaryFocalCrossentropy({ applyClassBalancing: true }).compute(f32([1, 0]), f32([0.5, 0.5]), 1, 2).loss, ((0.25 + 0.75) * 0.25 * log2) / 2, EXACT);
  assertNear(losses.binaryFocalCrossentropy({ fromLogits: true }).compute(f32([1]), f32([0]), 1, 1).loss, 0.25 * log2, EXACT);
  // Smoothing 0.2: y = 0.9; p = 0.5 → p_t = 0.5, bce = log 2.
  assertNear(losses.binaryFocalCrossentropy({ labelSmoothing: 0.2 }).compute(f32([1]), f32([0.5]), 1, 1).loss, 0.25 * log2, EXACT);
  assertNear(losses.binaryFocalCrossentropy({ gamma: 0 }).compute(f32([1]), f32([0.25]), 1, 1).loss, -Math.log(0.25), EXACT);
  throws(() => losses.binaryFocalCrossentropy({ gamma: -1 }), /binaryFocalCrossentropy: gamma must be a non-negative finite number, got -1/);
  throws(() => losses.binaryFocalCrossentropy({ focus: 1 } as never), /binaryFocalCrossentropy: unknown option 'focus'/);
});

test('every new loss: dyPred matches central differences of the loss (away from kinks)', () => {
  const batch = 3;
  const units = 4;
  const w = f32([0.5, 1, 2]);
  const cases: [string, Loss, Float32Array, Float32Array][] = [
    ['mae', losses.meanAbsoluteError(), randomArray(12, 1), randomArray(12, 2)],
    ['huber', losses.huber({ delta: 0.5 }), randomArray(12, 3), randomArray(12, 4, -2, 2)],
    ['hinge', losses.hinge(), randomArray(12, 5).map((v) => (v > 0 ? 1 : -1)), randomArray(12, 6, -3, 3)],
    ['focal', losses.binaryFocalCrossentropy({ applyClassBalancing: true, gamma: 1.5 }), randomArray(12, 7, 0, 1).map((v) => (v > 0.5 ? 1 : 0)), randomArray(12, 8, 0.05, 0.95)],
    ['focal logits', losses.binaryFocalCrossentropy({ fromLogits: true, labelSmoothing: 0.1 }), randomArray(12, 9, 0, 1).map((v) => (v > 0.5 ? 1 : 0)), randomArray(12, 10, -3, 3)],
  ];
  for (const [name, loss, yTrue, yPred] of cases) {
    const { dyPred } = loss.compute(yTrue, yPred, batch, units, w);
    const numeric = numericGradient(() => loss.compute(yTrue, yPred, batch, units, w).loss, yPred, 1e-3);
    assertClose(dyPred, numeric, { atol: 1e-5, rtol: 1e-3 }, `${name} gradient`);
    assert.ok(dyPred.some((g) => g !== 0), `${name}: gradient is not all zero`);
  }
});

test('mae and mse metrics: weighted mean over samples of the per-sample mean error', () => {
  const mae = new metrics.MeanAbsoluteError();
  mae.update(f32([1, 0]), f32([0.5, 0.25]), 2, 1);
  assertNear(mae.result(), 0.375, EXACT);
  mae.update(f32([0, 0, 1, 1]), f32([1, 1, 1, 1]), 2, 2, f32([1, 3]));
  assertNear(mae.result(), (0.5 + 0.25 + 1) / (2 + 4), EXACT);
  const mse = new metrics.MeanSquaredError();
  mse.update(f32([1, 0]), f32([0.5, 0.25]), 2, 1);
  assertNear(mse.result(), 0.15625, EXACT);
});

test('topKCategoricalAccuracy: ties at the k-th place count (in_top_k), sparse labels, non-finite target', () => {
  const m = new metrics.TopKCategoricalAccuracy({ k: 2 });
  m.update(f32([0, 2]), f32([0.5, 0.3, 0.2, 0.1, 0.2, 0.7]), 2, 3);
  assert.is(m.result(), 1);
  const tie = new metrics.TopKCategoricalAccuracy({ k: 1 });
  tie.update(f32([0, 0, 1, 0, 0, 0, 0, 1]), f32([0.5, 0.5, 0.5, 0.1, 0.5, 0.5, 0.5, 0.1]), 2, 4);
  assert.is(tie.result(), 0.5, 'class 2 ties for first (in); class 3 has 3 above (out)');
  const inf = new metrics.TopKCategoricalAccuracy({ k: 3 });
  inf.update(f32([0]), f32([-Infinity, 1, 2]), 1, 3);
  assert.is(inf.result(), 0, 'a non-finite target score is never in the top k');
  throws(() => new metrics.TopKCategoricalAccuracy({ k: 0 }), /top_k_categorical_accuracy: k must be a positive integer, got 0/);
});

test('getMetric: TF.js and Keras spellings, named after the identifier as Keras does', () => {
  const cases: [string, unknown, string][] = [
    ['binaryAccuracy', metrics.BinaryAccuracy, 'binaryAccuracy'],
    ['categoricalAccuracy', metrics.Accuracy, 'categoricalAccuracy'],
    ['sparse_categorical_accuracy', metrics.Accuracy, 'sparse_categorical_accuracy'],
    ['mae', metrics.MeanAbsoluteError, 'mae'],
    ['MSE', metrics.MeanSquaredError, 'MSE'],
    ['meanAbsoluteError', metrics.MeanAbsoluteError, 'meanAbsoluteError'],
    ['topKCategoricalAccuracy', metrics.TopKCategoricalAccuracy, 'topKCategoricalAccuracy'],
  ];
  for (const [id, cls, name] of cases) {
    const m = metrics.getMetric(id, 10);
    assert.ok(m instanceof (cls as new () => object), id);
    assert.is(m.name, name);
  }
  assert.is((metrics.getMetric('top_k_categorical_accuracy', 10) as InstanceType<typeof metrics.TopKCategoricalAccuracy>).k, 5);
});

test('compile with new losses and metric spellings: fit logs them under the given names', async () => {
  const model = new Sequential({ layers: [new layers.Dense({ units: 2, inputShape: [3] })] });
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.01 }), loss: 'huber', metrics: ['mae', 'mse', 'binaryAccuracy'] });
  const x = tensor(randomArray(12, 1), [4, 3]);
  const y = tensor([1, 0, 0, 1, 1, 0, 0, 1], [4, 2]);
  const h = await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, seed: 3 });
  assert.equal(Object.keys(h.history).sort(), ['binaryAccuracy', 'loss', 'mae', 'mse']);
  const logs = await model.evaluate(x, y);
  const p = (await model.predict(x)).values;
  let mae = 0;
  let mse = 0;
  for (let i = 0; i < 8; i++) {
    mae += Math.abs(p[i] - y.values[i]) / 8;
    mse += (p[i] - y.values[i]) ** 2 / 8;
  }
  assertNear(logs.mae, mae, { atol: 1e-7, rtol: 1e-6 });
  assertNear(logs.mse, mse, { atol: 1e-7, rtol: 1e-6 });
  assertNear(logs.loss, losses.huber().compute(y.values, p, 4, 2).loss, { atol: 1e-7, rtol: 1e-6 });
});

test.run();
