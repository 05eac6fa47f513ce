// The training doctor (src/train/doctor): for each code a setup that must raise it and a healthy
// one that must not, on real data (MNIST digits, the built-in cats and dogs) where the code is
// about learning. Runs are a few hundred images and a few epochs: seconds each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { BatchNormalization, Dense, Flatten } from '../src/layers/index.js';
import { Sequential, type History } from '../src/model/sequential.js';
import { tensor, type Tensor } from '../src/tensor.js';
import { Adam, SGD, type Optimizer } from '../src/train/optimizers.js';
import type { DiagnosticCode } from '../src/train/doctor/index.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { binary, catsDogs64, digits, images, oneHot, type Digit } from './doctor-data.js';

test.before(() => void setBackend('cpu'));

const ALL = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const train10 = digits(ALL, 60, 0, 1);
const val10 = digits(ALL, 20, 600, 2);

/** Flatten → Dense(hidden, relu) → Dense(10, softmax) on 28×28×1. */
function mlp(hidden = 64, units = 10, activation: 'softmax' | 'sigmoid' | 'linear' = 'softmax'): Sequential {
  const m = new Sequential();
  m.add(new Flatten({ inputShape: [28, 28, 1] }));
  m.add(new Dense({ units: hidden, activation: 'relu', name: 'hidden' }));
  m.add(new Dense({ units, activation }));
  return m;
}

function codes(h: History): DiagnosticCode[] {
  return h.diagnostics.map((d) => d.code);
}

function has(h: History, code: DiagnosticCode): boolean {
  return h.diagnostics.some((d) => d.code === code);
}

function describe(h: History): string {
  return h.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n') || '(none)';
}

async function fit10(optimizer: Optimizer, epochs: number, x = images(train10), y = oneHot(train10)): Promise<History> {
  const m = mlp();
  m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m.fit(x, y, { epochs, batchSize: 32, seed: 1, verbose: 0, validationData: [images(val10), oneHot(val10)] });
}

test('healthy: MNIST 10 digits with Adam 1e-3 learns and the doctor says nothing (no lr-too-low, lr-too-high, not-learning, nor any other code)', async () => {
  const h = await fit10(new Adam({ learningRate: 1e-3 }), 5);
  const loss = h.history.loss;
  assert.ok(loss[4] < 0.6 * loss[0], `it learns: loss ${loss.map((l) => l.toFixed(3)).join(' → ')}`);
  assert.ok(h.history.val_accuracy[4] > 0.7, `val accuracy ${h.history.val_accuracy[4]}`);
  assert.equal(h.diagnostics, [], describe(h));
});

test('lr-too-low and not-learning: MNIST with SGD 1e-4 (the seed\'s optimizer); updates a ~1e-5 of the weights', async () => {
  const h = await fit10(new SGD({ learningRate: 1e-4 }), 1);
  assert.ok(has(h, 'lr-too-low'), describe(h));
  assert.ok(has(h, 'not-learning'), describe(h));
  assert.not.ok(has(h, 'lr-too-high'), describe(h));
  const low = h.diagnostics.find((d) => d.code === 'lr-too-low')!;
  assert.is(low.epoch, 0);
  const ratio = Number(/median ([0-9.e+-]+) of their size/.exec(low.message)?.[1]);
  assert.ok(ratio > 0 && ratio < 1e-4, `ratio in the message: ${low.message}`);
  assert.match(low.message, /SGD \(learning rate 1\.0e-4\)/);
  const nl = h.diagnostics.find((d) => d.code === 'not-learning')!;
  assert.match(nl.message, /no better than 2\.3\b/); // ln 10: ten even classes
});

test('lr-too-high: MNIST with Adam 0.5 names the kernel that moves by its own size; Adam 1e-3 (above) does not', async () => {
  const h = await fit10(new Adam({ learningRate: 0.5 }), 1);
  assert.ok(has(h, 'lr-too-high'), describe(h));
  assert.not.ok(has(h, 'lr-too-low'), describe(h));
  const d = h.diagnostics.find((x) => x.code === 'lr-too-high')!;
  assert.ok(d.layer === 'hidden' || d.layer?.startsWith('dense'), `layer ${d.layer}`);
});

test('not-learning without lr-too-low: MNIST with shuffled labels and Adam 1e-3 stays at the loss of predicting class frequencies', async () => {
  const shuffledLabels = train10.map((s, i) => ({ ...s, digit: train10[(i * 7919) % train10.length].digit }));
  const h = await fit10(new Adam({ learningRate: 1e-3 }), 1, images(train10), oneHot(shuffledLabels));
  assert.ok(has(h, 'not-learning'), describe(h));
  assert.not.ok(has(h, 'lr-too-low'), describe(h));
});

test('non-finite: a diverging regression stops at the first non-finite step, names the layer and step, and keeps finite weights', async () => {
  // A linear model, MSE, SGD far above the stable rate (~2/‖x‖² ≈ 0.02): the weights grow by orders
  // of magnitude per step until they overflow.
  const m = new Sequential();
  m.add(new Flatten({ inputShape: [28, 28, 1] }));
  m.add(new Dense({ units: 10 }));
  m.compile({ optimizer: new SGD({ learningRate: 50 }), loss: 'meanSquaredError' });
  const h = await m.fit(images(train10), oneHot(train10), { epochs: 3, batchSize: 32, seed: 1, verbose: 0 });
  const d = h.diagnostics.find((x) => x.code === 'non-finite');
  assert.ok(d, describe(h));
  assert.is(h.epoch.length, d!.epoch + 1, 'training stopped in the epoch of the finding');
  assert.ok(h.epoch.length < 3);
  assert.ok(d!.step !== undefined && d!.step > 0, `step ${d!.step}`);
  assert.ok(d!.layer, 'names a layer');
  for (const w of m.getWeights()) assert.ok(w.values.every(Number.isFinite), 'weights of the last finite step');
});

/** Digit 3 (positive) against 0, 1 and 2: 25 % positives. */
function threeVsRest(per: number, from: number, seed: number | null): Digit[] {
  return seed === null ? digits([3, 0, 1, 2], per, from, null) : digits([0, 1, 2, 3], per, from, seed);
}

async function fitBinary(samples: Digit[], args: { classWeight?: 'balanced'; validationSplit?: number } = {}): Promise<History> {
  const m = mlp(32, 1, 'sigmoid');
  m.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall'] });
  const val = digits([0, 1, 2, 3], 30, 700, 3);
  return m.fit(images(samples), binary(samples, 3), {
    epochs: 2, batchSize: 32, seed: 1, verbose: 0, ...args,
    ...(args.validationSplit ? {} : { validationData: [images(val), binary(val, 3)] as [Tensor, Tensor] }),
  });
}

test('imbalance: 25 % positives without classWeight is an advisory, raised once; classWeight balanced or even classes raise nothing', async () => {
  const h = await fitBinary(threeVsRest(80, 0, 1));
  assert.equal(codes(h), ['imbalance'], describe(h));
  assert.match(h.diagnostics[0].message, /class 1 is 25 % of the 320 training samples/);
  assert.equal(codes(await fitBinary(threeVsRest(80, 0, 1), { classWeight: 'balanced' })), []);
  const even = digits([3, 5], 120, 0, 4).map((s) => ({ ...s, digit: s.digit === 5 ? 0 : 3 }));
  const h2 = await fitBinary(even);
  assert.not.ok(has(h2, 'imbalance'), describe(h2));
});

test('one-class-validation: arrays in class order with validationSplit hold only one class there; shuffled arrays do not', async () => {
  const ordered = threeVsRest(80, 0, null); // all threes first, then the rest: the last 20 % are negatives
  const h = await fitBinary(ordered, { validationSplit: 0.2 });
  const d = h.diagnostics.find((x) => x.code === 'one-class-validation');
  assert.ok(d, describe(h));
  assert.match(d!.message, /only class 0: all 64 samples/);
  const h2 = await fitBinary(threeVsRest(80, 0, 1), { validationSplit: 0.2 });
  assert.not.ok(has(h2, 'one-class-validation'), describe(h2));
});

test('the seed model (64×64) on the built-in cats vs dogs with SGD 1e-4: lr-too-low and not-learning, not lr-too-high', async () => {
  const { x, y } = await catsDogs64();
  const m = buildUserModel(64);
  m.compile({ optimizer: new SGD({ learningRate: 1e-4 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
  const h = await m.fit(x, y, { epochs: 1, batchSize: 32, seed: 1, verbose: 0, validationSplit: 0.25 });
  assert.ok(has(h, 'lr-too-low'), describe(h));
  assert.ok(has(h, 'not-learning'), describe(h));
  assert.ok(has(h, 'imbalance'), describe(h));
  assert.not.ok(has(h, 'lr-too-high'), describe(h));
});

test('constant-predictions: 3-vs-rest whose output sits above the threshold (bias +4) under SGD 1e-4 calls every image a 3, precision = the 25 % share; Adam with balanced weights does not', async () => {
  const m = mlp(32, 1, 'sigmoid');
  m.compile({ optimizer: new SGD({ learningRate: 1e-4 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
  const w = m.getWeights();
  w[3] = tensor([4], [1]);
  m.setWeights(w);
  const samples = threeVsRest(80, 0, 1);
  const val = digits([0, 1, 2, 3], 30, 700, 3);
  const h = await m.fit(images(samples), binary(samples, 3), { epochs: 2, batchSize: 32, seed: 1, verbose: 0, validationData: [images(val), binary(val, 3)] });
  const d = h.diagnostics.find((c) => c.code === 'constant-predictions');
  assert.ok(d, describe(h));
  assert.is(d!.epoch, 1);
  assert.match(d!.message, /every one of the 120 validation predictions is class 1 \(all on one side of the threshold 0\.5\) for 2 epochs; that class is 25 % of the validation samples, so its precision is 0\.25/);
  assert.is(h.history.val_precision[1], 0.25);
  const healthy = await fitBinary(threeVsRest(80, 0, 1), { classWeight: 'balanced' });
  assert.not.ok(has(healthy, 'constant-predictions'), describe(healthy));
});

test('dead-units: a ReLU layer with biases of -100 never fires and is named; the healthy run above raised no dead-units', async () => {
  const m = mlp();
  m.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
  const w = m.getWeights();
  w[1] = tensor(new Float32Array(64).fill(-100), [64]);
  m.setWeights(w);
  const h = await m.fit(images(train10), oneHot(train10), { epochs: 2, batchSize: 32, seed: 1, verbose: 0 });
  const d = h.diagnostics.find((x) => x.code === 'dead-units');
  assert.not.ok(has(h, 'lr-too-low'), `zero gradients are not a learning-rate problem:\n${describe(h)}`);
  assert.ok(d, describe(h));
  assert.is(d!.layer, 'hidden');
  assert.match(d!.message, /64 of the 64 units/);
});

test('overfitting: 40 MNIST images for 30 epochs: validation loss rises while training loss falls; 600 images for 5 epochs (the healthy run) do not', async () => {
  const few = digits(ALL, 4, 0, 5);
  const m = mlp(128);
  m.compile({ optimizer: new Adam({ learningRate: 3e-3 }), loss: 'categoricalCrossentropy' });
  const h = await m.fit(images(few), oneHot(few), { epochs: 30, batchSize: 8, seed: 1, verbose: 0, validationData: [images(val10), oneHot(val10)] });
  const d = h.diagnostics.find((x) => x.code === 'overfitting');
  assert.ok(d, `${describe(h)}\nval_loss ${h.history.val_loss.map((v) => v.toFixed(3)).join(' ')}`);
  assert.match(d!.message, /EarlyStopping/);
  const { val_loss, loss } = h.history;
  assert.ok(val_loss[d!.epoch] > Math.min(...val_loss.slice(0, d!.epoch)) && loss[d!.epoch] < loss[0]);
});

/** Flatten → BatchNormalization(momentum) → Dense(10, softmax). */
function bnModel(momentum: number): Sequential {
  const m = new Sequential();
  m.add(new Flatten({ inputShape: [28, 28, 1] }));
  m.add(new BatchNormalization({ momentum, name: 'bn' }));
  m.add(new Dense({ units: 10, activation: 'softmax' }));
  return m;
}

test('bn-statistics: inputs around 5 into BatchNormalization(momentum 0.99) for 19 steps leave the moving mean far behind; momentum 0.5 keeps up', async () => {
  const x = images(train10);
  const shifted = tensor(x.values.map((v) => v + 5), x.shape as [number, number, number, number]);
  const run = async (momentum: number): Promise<History> => {
    const m = bnModel(momentum);
    m.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
    return m.fit(shifted, oneHot(train10), { epochs: 1, batchSize: 32, seed: 1, verbose: 0 });
  };
  const h = await run(0.99);
  const d = h.diagnostics.find((c) => c.code === 'bn-statistics');
  assert.ok(d, describe(h));
  assert.is(d!.layer, 'bn');
  const h2 = await run(0.5);
  assert.not.ok(has(h2, 'bn-statistics'), describe(h2));
});

test('diagnose: false turns the doctor off; verbose prints Keras-style warning lines; a non-boolean diagnose throws', async () => {
  const m = mlp();
  m.compile({ optimizer: new SGD({ learningRate: 1e-4 }), loss: 'categoricalCrossentropy' });
  const x = images(train10);
  const y = oneHot(train10);
  const off = await m.fit(x, y, { epochs: 1, verbose: 0, diagnose: false });
  assert.equal(off.diagnostics, []);
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  let on: History;
  try {
    on = await m.fit(x, y, { epochs: 1 });
  } finally {
    process.stdout.write = write;
  }
  assert.ok(on.diagnostics.length > 0);
  const warnings = lines.join('').split('\n').filter((l) => l.startsWith('WARNING:tscnn:doctor: '));
  assert.is(warnings.length, on.diagnostics.length, lines.join(''));
  assert.match(warnings[0], /^WARNING:tscnn:doctor: \[lr-too-low\] \(epoch 1\) each step changes/);
  const err = await m.fit(x, y, { diagnose: 'yes' as never }).catch((e: Error) => e);
  assert.match(String(err), /fit: diagnose must be true or false, got yes/);
});

test.run();
