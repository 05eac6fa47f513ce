// Hostile training input: labels out of range, class weights that lie or overflow, options of
// the wrong type. Every case checks the error names the problem and that nothing changed: the
// weights (BatchNormalization moving statistics included) and the optimizer's step count.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../../src/backend/index.js';
import { BatchNormalization, Dense } from '../../src/layers/index.js';
import { Sequential, type BatchDataset, type FitArgs } from '../../src/model/sequential.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import type { Loss } from '../../src/train/losses.js';
import { SGD } from '../../src/train/optimizers.js';
import { setSeed } from '../../src/util/random.js';
import { assertNear, assertSameWeights, randomArray, rejects, throws } from '../helpers.js';

test.before(() => void setBackend('cpu'));

/** Dense → BatchNormalization → Dense(units): BN's moving statistics change on any training forward. */
function model(units: number, loss: string | Loss): Sequential {
  setSeed(11);
  const m = new Sequential();
  m.add(new Dense({ units: 4, inputShape: [3] }));
  m.add(new BatchNormalization());
  m.add(new Dense({ units, activation: units > 1 ? 'softmax' : 'sigmoid' }));
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss });
  m.getWeights(); // draws the initial weights, so "unchanged" compares real values
  return m;
}

const x = (n: number): Tensor => tensor(randomArray(n * 3, 4), [n, 3]);

async function expectUnchanged(what: string, m: Sequential, call: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const before = m.getWeights();
  await rejects(call(), pattern, what);
  assertSameWeights(m.getWeights(), before, `${what}: weights and moving statistics`);
  assert.is(m.optimizer!.iterations, 0, `${what}: optimizer steps`);
}

test('a sparse label out of range at the end of the data is found before the first step (fit)', async () => {
  const m = model(3, 'sparseCategoricalCrossentropy');
  const y = tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 5], [12]);
  await expectUnchanged('fit', m, () => m.fit(x(12), y, { batchSize: 2, verbose: 0 }), /^fit: y\[11\] = 5 is not a class index in \[0, 2\] \(the model has 3 outputs; 1 of 12 labels are out of range\); nothing was trained/);
  await expectUnchanged('fit 1.5', m, () => m.fit(x(2), tensor([0, 1.5], [2]), { verbose: 0 }), /^fit: y\[1\] = 1.5 is not a class index/);
  await expectUnchanged('fit -1', m, () => m.fit(x(2), tensor([-1, 0], [2]), { verbose: 0 }), /^fit: y\[0\] = -1 is not a class index/);
  await expectUnchanged('validationData', m, () => m.fit(x(2), tensor([0, 1], [2]), { verbose: 0, validationData: [x(2), tensor([0, 3], [2])] }), /^fit: y\[1\] = 3 is not a class index/);
});

test('trainOnBatch rejects a bad sparse label before BatchNormalization updates its moving statistics', async () => {
  const m = model(3, 'sparseCategoricalCrossentropy');
  await expectUnchanged('trainOnBatch', m, () => m.trainOnBatch(x(4), tensor([0, 1, 2, 3], [4])), /^trainOnBatch: y\[3\] = 3 is not a class index in \[0, 2\]/);
  await m.trainOnBatch(x(4), tensor([0, 1, 2, 2], [4]));
  assert.is(m.optimizer!.iterations, 1, 'a good batch still trains');
});

test('a streaming dataset with a bad label: the batch is rejected before its step', async () => {
  const m = model(3, 'sparseCategoricalCrossentropy');
  const batches = [tensor([0, 1], [2]), tensor([2, 7], [2])];
  const ds: BatchDataset = {
    size: 4,
    numBatches: 2,
    async *batches() {
      for (const y of batches) yield { x: x(2), y };
    },
  };
  await rejects(m.fit(ds, { verbose: 0 }), /^fit: y\[1\] = 7 is not a class index in \[0, 2\]/, 'dataset');
  assert.is(m.optimizer!.iterations, 1, 'only the good first batch stepped');
});

test('classWeight: unknown classes on a binary model, overflowing and non-numeric weights, __proto__ keys', async () => {
  const y = tensor([0, 1, 0, 1], [4, 1]);
  const fit = (m: Sequential, classWeight: unknown) => m.fit(x(4), y, { verbose: 0, classWeight } as FitArgs);
  const m = model(1, 'binaryCrossentropy');
  await expectUnchanged('class 2', m, () => fit(m, { 0: 1, 2: 5 }), /^fit: classWeight has class "2", the model has classes 0 to 1/);
  await expectUnchanged('class cat', m, () => fit(m, { 0: 1, cat: 5 }), /classWeight has class "cat"/);
  await expectUnchanged('3e38', m, () => fit(m, { 0: 3e38, 1: 3e38 }), /classWeight for class 0 must be a number in \[0, 1000000\], got 3e\+38/);
  await expectUnchanged('string weight', m, () => fit(m, { 0: '2' }), /classWeight for class 0 must be a number in \[0, 1000000\], got "2"/);
  await expectUnchanged('JSON __proto__', m, () => fit(m, JSON.parse('{"0": 1, "__proto__": 3}')), /classWeight has class "__proto__"/);
  await expectUnchanged('literal __proto__', m, () => fit(m, { 0: 1, __proto__: { 1: 9 } }), /classWeight must be a plain object/);
  await expectUnchanged('array', m, () => fit(m, [1, 2]), /fit: classWeight must be an object \{ class: weight \} or 'balanced', got 1,2/);
  await expectUnchanged('trainOnBatch', m, () => m.trainOnBatch(x(4), y, { classWeight: { 5: 1 } }), /^trainOnBatch: classWeight has class "5"/);
});

test("classWeight 'balanced' on a dataset with numeric class folders (1, 10, 2) weights each class by its own count", async () => {
  const seen: number[][] = [];
  const spy: Loss = {
    name: 'sparseSpy',
    getConfig: () => ({ name: 'sparseSpy' }),
    compute(_yTrue, yPred, _batch, _units, sampleWeight) {
      seen.push([...(sampleWeight ?? [])]);
      return { loss: 0, dyPred: new Float32Array(yPred.length) };
    },
  };
  const m = model(3, spy);
  // classNames in code-point order, as the directory scan gives them; JavaScript orders the
  // keys of classCounts 1, 2, 10 — the old code read the counts in that order.
  const ds: BatchDataset = {
    size: 100,
    numBatches: 1,
    classNames: ['1', '10', '2'],
    classCounts: { '1': 10, '10': 30, '2': 60 },
    async *batches() {
      yield { x: x(3), y: tensor([0, 1, 2], [3]) };
    },
  };
  await m.fit(ds, { verbose: 0, classWeight: 'balanced' });
  const expected = [100 / (3 * 10), 100 / (3 * 30), 100 / (3 * 60)];
  seen[0].forEach((w, i) => assertNear(w, expected[i], { atol: 0, rtol: 1e-6 }, `class ${i} weight`));
  const noNames: BatchDataset = { ...ds, classNames: undefined, batches: ds.batches };
  await rejects(m.fit(noNames, { verbose: 0, classWeight: 'balanced' }), /fit: classWeight 'balanced' needs a dataset with classNames and classCounts/, 'no classNames');
  const lying: BatchDataset = { ...ds, classCounts: { '1': 10, '2': 60 }, batches: ds.batches };
  await rejects(m.fit(lying, { verbose: 0, classWeight: 'balanced' }), /fit: classWeight 'balanced': dataset.classCounts: no entry for "10"/, 'missing count');
});

test("fit options of the wrong type throw: shuffle 'no', callbacks 'x', verbose 2", async () => {
  const m = model(1, 'binaryCrossentropy');
  const y = tensor([0, 1], [2, 1]);
  await expectUnchanged('shuffle', m, () => m.fit(x(2), y, { shuffle: 'no' } as unknown as FitArgs), /^fit: shuffle must be true or false, got "no"/);
  await expectUnchanged('callbacks', m, () => m.fit(x(2), y, { callbacks: 'x' } as unknown as FitArgs), /^fit: callbacks must be an array of callback objects, got "x"/);
  await expectUnchanged('callbacks [1]', m, () => m.fit(x(2), y, { callbacks: [1] } as unknown as FitArgs), /^fit: callbacks must be an array of callback objects, got 1/);
  await expectUnchanged('verbose', m, () => m.fit(x(2), y, { verbose: 2 } as unknown as FitArgs), /^fit: verbose must be 0 or 1, got 2/);
});

test('0 samples are reported as such, not as a shape mismatch; compile names itself, not getLoss', async () => {
  const m = model(1, 'binaryCrossentropy');
  await expectUnchanged('fit 0', m, () => m.fit(tensor(new Float32Array(0), [0, 3]), tensor(new Float32Array(0), [0]), { verbose: 0 }), /^fit: x has 0 samples \(shape \[0\] for y\); there is nothing to train on/);
  await expectUnchanged('evaluate 0', m, () => m.evaluate(tensor(new Float32Array(0), [0, 3]), tensor(new Float32Array(0), [0, 1])), /^evaluate: x has 0 samples .*nothing to evaluate/);
  throws(() => m.compile({ optimizer: 'sgd', loss: 'squaredHinge' }), /^compile: unknown loss 'squaredHinge' \(known: /, 'loss');
  throws(() => m.compile({ optimizer: 'lbfgs', loss: 'mse' }), /^compile: unknown optimizer/, 'optimizer');
  assert.is(m.loss!.name, 'binaryCrossentropy', 'a failed compile keeps the previous loss');
});

test('setWeightValues with a short list or a short array changes nothing', () => {
  const m = model(1, 'binaryCrossentropy');
  const before = m.getWeights();
  const values = m.getWeightValues().map((v) => v.map((e) => e + 1));
  throws(() => m.setWeightValues(values.slice(0, 2)), /setWeightValues: the model has 8 weights, got 2 arrays/, 'short list');
  throws(() => m.setWeightValues(values.map((v, i) => (i === 5 ? v.subarray(1) : v))), /setWeightValues: weight 5 \(.*\) has 4 values, got 3/, 'short array');
  throws(() => m.setWeightValues(values.map((v, i) => (i === 7 ? Float32Array.of(NaN) : v))), /weight 7 .* holds NaN at index 0/, 'NaN');
  throws(() => m.setWeights(before.slice(0, 3)), /setWeights: the model has 8 weights, got 3/, 'setWeights');
  assertSameWeights(m.getWeights(), before, 'weights unchanged');
});

test.run();
