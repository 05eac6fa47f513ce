// Sequential model behaviour: summary of the seed model, weight order, seed reproducibility,
// callbacks (EarlyStopping) and the History it returns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { EarlyStopping, LambdaCallback } from '../src/train/callbacks.js';
import type { Initializer } from '../src/initializers.js';
import { Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D } from '../src/layers/index.js';
import { SGD } from '../src/train/optimizers.js';
import { setSeed } from '../src/util/random.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor, type Tensor } from '../src/tensor.js';
import { assertClose, assertSameWeights, randomArray } from './helpers.js';

// Tests run deferred, after every file is imported: choose the backend when this suite starts.
test.before(() => void setBackend('cpu'));

function seedModel(): Sequential {
  const model = new Sequential();
  model.add(new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [100, 100, 3] }));
  model.add(new BatchNormalization());
  model.add(new Activation('relu'));
  model.add(new MaxPooling2D({ poolSize: 2 }));
  model.add(new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new MaxPooling2D({ poolSize: 2 }));
  model.add(new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new MaxPooling2D({ poolSize: 2 }));
  model.add(new Conv2D({ filters: 128, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new MaxPooling2D({ poolSize: 2 }));
  model.add(new Dropout({ rate: 0.5 }));
  model.add(new Flatten());
  model.add(new Dense({ units: 150 }));
  model.add(new Activation('relu'));
  model.add(new Dropout({ rate: 0.5 }));
  model.add(new BatchNormalization());
  model.add(new Dense({ units: 1, activation: 'sigmoid' }));
  return model;
}

test('summary() of the seed model: Keras columns, shapes 100→50→25→12→6, Flatten 4608, and the three totals', () => {
  const model = seedModel();
  const text = model.summary({ print: false });
  const lines = text.split('\n');
  assert.match(lines[2], /Layer \(type\)\s+Output Shape\s+Param #/);
  const tail = lines.slice(-4);
  assert.equal(tail.slice(0, 3), ['Total params: 789,605', 'Trainable params: 789,273', 'Non-trainable params: 332']);
  assert.match(tail[3], /^_+$/);
  for (const [shape, params] of [
    ['(None, 100, 100, 16)', '448'],
    ['(None, 50, 50, 32)', '4,640'],
    ['(None, 25, 25, 64)', '18,496'],
    ['(None, 12, 12, 128)', '73,856'],
    ['(None, 6, 6, 128)', '0'],
    ['(None, 4608)', '0'],
    ['(None, 150)', '691,350'],
    ['(None, 1)', '151'],
  ]) {
    assert.ok(lines.some((l) => l.includes(shape) && l.trimEnd().endsWith(` ${params}`)), `a row with ${shape} and ${params} params`);
  }
  // BatchNormalization rows: 4·16 = 64 and 4·150 = 600 params.
  assert.ok(lines.some((l) => /\(BatchNormalization\)/.test(l) && l.includes('(None, 100, 100, 16)') && l.trimEnd().endsWith(' 64')));
  assert.ok(lines.some((l) => /\(BatchNormalization\)/.test(l) && l.includes('(None, 150)') && l.trimEnd().endsWith(' 600')));
  assert.equal([...model.outputShape], [1]);
});

test('getWeights order: per layer kernel, bias; BatchNormalization gamma, beta, movingMean, movingVariance', () => {
  const constant = (name: string, v: number): Initializer => ({ name, init: (shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  const model = new Sequential();
  model.add(new Conv2D({ filters: 2, kernelSize: 3, inputShape: [4, 4, 1], kernelInitializer: constant('k', 1), biasInitializer: constant('b', 2) }));
  model.add(
    new BatchNormalization({
      gammaInitializer: constant('g', 3),
      betaInitializer: constant('be', 4),
      movingMeanInitializer: constant('mm', 5),
      movingVarianceInitializer: constant('mv', 6),
    }),
  );
  model.add(new Flatten());
  model.add(new Dense({ units: 1, kernelInitializer: constant('k2', 7), biasInitializer: constant('b2', 8) }));
  const weights = model.getWeights();
  assert.equal(
    weights.map((w) => [...w.shape]),
    [[3, 3, 1, 2], [2], [2], [2], [2], [2], [8, 1], [1]],
  );
  assert.equal(
    weights.map((w) => w.values[0]),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  // setWeights takes the same order back.
  const changed = weights.map((w, i) => tensor(new Float32Array(w.size).fill(10 + i), [...w.shape]));
  model.setWeights(changed);
  assert.equal(
    model.getWeights().map((w) => w.values[0]),
    [10, 11, 12, 13, 14, 15, 16, 17],
  );
});

/** A small model with every layer kind, Dropout drawing from the model's generator. */
function smallModel(): Sequential {
  const model = new Sequential();
  model.add(new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 2] }));
  model.add(new BatchNormalization());
  model.add(new MaxPooling2D());
  model.add(new Dropout({ rate: 0.5 }));
  model.add(new Flatten());
  model.add(new Dense({ units: 3, activation: 'relu' }));
  model.add(new Dense({ units: 1, activation: 'sigmoid' }));
  model.compile({ optimizer: new SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
  return model;
}

const X = tensor(randomArray(20 * 6 * 6 * 2, 77), [20, 6, 6, 2]);
const Y = tensor(Array.from({ length: 20 }, (_, i) => i % 2), [20, 1]);

async function trainedWeights(globalSeed: number, fitSeed?: number): Promise<Tensor[]> {
  setSeed(globalSeed);
  const model = smallModel();
  await model.fit(X, Y, { epochs: 2, batchSize: 6, verbose: 0, seed: fitSeed });
  return model.getWeights();
}

test('seed reproducibility: same fit seed from fresh identical models → bit-identical weights; another seed differs', async () => {
  const a = await trainedWeights(1, 42);
  const b = await trainedWeights(2, 42); // the fit seed alone governs init, shuffling and dropout
  assertSameWeights(a, b, 'fit seed 42 twice');
  const c = await trainedWeights(1, 43);
  assert.ok(
    c.some((w, i) => w.values.some((v, j) => v !== a[i].values[j])),
    'a different seed must give different weights',
  );
});

test('seed reproducibility: setSeed before building and fitting (no fit seed) → bit-identical weights', async () => {
  const a = await trainedWeights(7);
  const b = await trainedWeights(7);
  assertSameWeights(a, b, 'setSeed(7) twice');
  const c = await trainedWeights(8);
  assert.ok(c.some((w, i) => w.values.some((v, j) => v !== a[i].values[j])));
});

/** ŷ = x with frozen weights: the loss is the same every epoch. */
function frozenIdentity(): Sequential {
  const model = new Sequential();
  model.add(new Dense({ units: 1, inputShape: [1], trainable: false }));
  model.setWeights([tensor([1], [1, 1]), tensor([0], [1])]);
  model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['precision', 'recall', 'accuracy'] });
  return model;
}

test('EarlyStopping stops as Keras: constant loss with patience 3 runs 4 epochs (epoch 0 best, 3 without improvement)', async () => {
  const model = frozenIdentity();
  const x = tensor([0.2, 0.8, 0.6], [3, 1]);
  const y = tensor([0, 1, 1], [3, 1]);
  for (const [patience, epochsRun] of [
    [0, 2],
    [1, 2],
    [3, 4],
  ]) {
    const stop = new EarlyStopping({ monitor: 'loss', patience });
    const h = await model.fit(x, y, { epochs: 10, verbose: 0, callbacks: [stop] });
    assert.is(h.history.loss.length, epochsRun, `patience ${patience}`);
    assert.is(stop.stoppedEpoch, epochsRun - 1, `patience ${patience} stoppedEpoch`);
  }
  // Monitoring a missing key is an error that names it.
  let message = '';
  try {
    await model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [new EarlyStopping({ monitor: 'val_loss' })] });
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /'val_loss' is not in the logs/);
});

test('EarlyStopping does not stop while the loss improves, and restoreBestWeights restores at train end', async () => {
  setSeed(3);
  const model = new Sequential();
  model.add(new Dense({ units: 1, inputShape: [2] }));
  model.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse' });
  const x = tensor([1, 0, 0, 1, 1, 1, 0.5, -1], [4, 2]);
  const y = tensor([1, -1, 0, 1.5], [4, 1]);
  const improving = new EarlyStopping({ monitor: 'loss', patience: 0 });
  const h = await model.fit(x, y, { epochs: 5, batchSize: 4, verbose: 0, callbacks: [improving] });
  assert.is(h.history.loss.length, 5);
  assert.ok(h.history.loss.every((l, i) => i === 0 || l < h.history.loss[i - 1]), `loss decreases: ${h.history.loss}`);
  assert.is(improving.stoppedEpoch, -1);
  // mode 'max' on a decreasing loss: the "best" epoch is the first; Keras 3 puts its weights back
  // at the end of training even though training did not stop early.
  let afterFirst: Float32Array[] = [];
  const snapshot = new LambdaCallback({ onEpochEnd: (epoch) => void (epoch === 0 && (afterFirst = model.getWeights().map((w) => w.values))) });
  const restore = new EarlyStopping({ monitor: 'loss', mode: 'max', patience: 10, restoreBestWeights: true });
  await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, callbacks: [snapshot, restore] });
  assert.is(restore.stoppedEpoch, -1);
  model.getWeights().forEach((w, i) => assertClose(w.values, afterFirst[i], { atol: 0, rtol: 0 }, `restored weight ${i}`));
});

test('History: keys loss, metrics and val_ metrics, one value per epoch; callbacks see every batch', async () => {
  const model = frozenIdentity();
  const x = tensor([0.9, 0.1, 0.7, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4, 0.95], [10, 1]);
  const y = tensor([1, 0, 1, 0, 1, 1, 1, 0, 1, 1], [10, 1]);
  const seen: string[] = [];
  const cb = new LambdaCallback({
    onBatchEnd: (batch, logs) => void seen.push(`b${batch}:${logs.size}`),
    onEpochEnd: (epoch) => void seen.push(`e${epoch}`),
  });
  const h = await model.fit(x, y, { epochs: 2, batchSize: 3, validationSplit: 0.3, verbose: 0, callbacks: [cb] });
  assert.equal(Object.keys(h.history).sort(), ['accuracy', 'loss', 'precision', 'recall', 'val_accuracy', 'val_loss', 'val_precision', 'val_recall']);
  assert.equal(h.epoch, [0, 1]);
  for (const values of Object.values(h.history)) assert.is(values.length, 2);
  // 7 training samples in batches of 3, the last partial batch kept.
  assert.equal(seen, ['b0:3', 'b1:3', 'b2:1', 'e0', 'b0:3', 'b1:3', 'b2:1', 'e1']);
  // Validation = the last three samples: p = [0.9, 0.4, 0.95], y = [0, 1, 1] → predicted positive
  // 0.9 (FP) and 0.95 (TP): precision 1/2; positives 0.4 (missed), 0.95: recall 1/2; accuracy 1/3.
  assertClose(h.history.val_precision, [0.5, 0.5], { atol: 1e-7, rtol: 0 }, 'val_precision');
  assertClose(h.history.val_recall, [0.5, 0.5], { atol: 1e-7, rtol: 0 }, 'val_recall');
  assertClose(h.history.val_accuracy, [1 / 3, 1 / 3], { atol: 1e-7, rtol: 0 }, 'val_accuracy');
  // Training part (first 7): p > 0.5 at 0.9, 0.7, 0.8, 0.6, all labelled 1 → precision 1;
  // positives at 0.9, 0.7, 0.8, 0.6, 0.2 → recall 4/5; only 0.2 (label 1) is wrong → accuracy 6/7.
  assertClose(h.history.precision, [1, 1], { atol: 1e-7, rtol: 0 }, 'precision');
  assertClose(h.history.recall, [0.8, 0.8], { atol: 1e-7, rtol: 0 }, 'recall');
  assertClose(h.history.accuracy, [6 / 7, 6 / 7], { atol: 1e-7, rtol: 0 }, 'accuracy');
});

test('predict and evaluate do not depend on batchSize; trainOnBatch returns the loss and metrics', async () => {
  setSeed(9);
  const model = smallModel();
  const small = await model.predict(X, { batchSize: 3 });
  const large = await model.predict(X, { batchSize: 64 });
  assert.equal([...small.shape], [20, 1]);
  assertClose(small.values, large.values, { atol: 1e-6, rtol: 1e-6 }, 'predict by batch size');
  const e1 = await model.evaluate(X, Y, { batchSize: 3 });
  const e2 = await model.evaluate(X, Y, { batchSize: 20 });
  assertClose([e1.loss, e1.precision], [e2.loss, e2.precision], { atol: 1e-6, rtol: 1e-6 }, 'evaluate by batch size');
  const logs = await model.trainOnBatch(X, Y);
  assert.equal(Object.keys(logs).sort(), ['loss', 'precision']);
  assert.ok(Number.isFinite(logs.loss) && logs.loss > 0);
});

test.run();
