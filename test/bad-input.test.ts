// Bad input: every mistake gets an error that names what is wrong (checked with a regex), the
// model's weights are unchanged afterwards (snapshot getWeights before, compare after), and the
// model still works.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D } from '../src/layers/index.js';
import type { ActivationName } from '../src/layers/activations.js';
import { SGD } from '../src/train/optimizers.js';
import { Random, setSeed } from '../src/util/random.js';
import { Sequential, type FitArgs } from '../src/model/sequential.js';
import { tensor, type Tensor } from '../src/tensor.js';
import { assertSameWeights, randomArray, rejects, throws } from './helpers.js';

// Tests run deferred, after every file is imported: choose the backend when this suite starts.
test.before(() => void setBackend('cpu'));

function model(): Sequential {
  setSeed(5);
  const m = new Sequential();
  m.add(new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [4, 4, 2] }));
  m.add(new BatchNormalization());
  m.add(new MaxPooling2D());
  m.add(new Dropout({ rate: 0.5 }));
  m.add(new Flatten());
  m.add(new Dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: new SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
  return m;
}

const x = (n = 6, seed = 1): Tensor => tensor(randomArray(n * 4 * 4 * 2, seed), [n, 4, 4, 2]);
const y = (n = 6): Tensor => tensor(Array.from({ length: n }, (_, i) => i % 2), [n, 1]);

/**
 * Runs `bad` on a fresh model and checks: it rejects with `pattern`, no weight changed (moving
 * statistics included), the optimizer took no step, and the model still trains and predicts.
 */
async function expectRejected(what: string, bad: (m: Sequential) => Promise<unknown>, pattern: RegExp): Promise<void> {
  const m = model();
  const before = m.getWeights();
  await rejects(bad(m), pattern, what);
  assertSameWeights(m.getWeights(), before, `${what}: weights after the error`);
  assert.is(m.optimizer!.iterations, 0, `${what}: no optimizer step`);
  const h = await m.fit(x(), y(), { epochs: 1, batchSize: 3, verbose: 0 });
  assert.ok(Number.isFinite(h.history.loss[0]), `${what}: model still trains`);
  assert.equal([...(await m.predict(x(2))).shape], [2, 1], `${what}: model still predicts`);
}

// ---------------------------------------------------------------- shapes and ranks

test('new Sequential([...layers]) (an array, as tf.sequential takes { layers }) and unknown options throw instead of building an empty model', () => {
  const dense = new Dense({ units: 1, inputShape: [2] });
  throws(() => new Sequential([dense] as never), /Sequential: the constructor takes \{ layers: \[\.\.\.\], name \}, got an array/);
  throws(() => new Sequential({ layer: [dense] } as never), /Sequential: unknown option 'layer'; known: name, layers/);
  throws(() => new Sequential({ layers: dense } as never), /Sequential: layers must be an array of layers, got object/);
  assert.is(new Sequential({ layers: [dense] }).layers.length, 1);
});

test('fit/predict/evaluate/trainOnBatch with the wrong input shape name both shapes', async () => {
  const wrong = tensor(new Float32Array(6 * 5 * 4 * 2), [6, 5, 4, 2]);
  const pattern = /x has shape \[6, 5, 4, 2\], the model expects \(None, 4, 4, 2\)/;
  await expectRejected('fit', (m) => m.fit(wrong, y(), { verbose: 0 }), new RegExp(`^fit: ${pattern.source}`));
  await expectRejected('predict', (m) => m.predict(wrong), new RegExp(`^predict: ${pattern.source}`));
  await expectRejected('evaluate', (m) => m.evaluate(wrong, y()), new RegExp(`^evaluate: ${pattern.source}`));
  await expectRejected('trainOnBatch', (m) => m.trainOnBatch(wrong, y()), new RegExp(`^trainOnBatch: ${pattern.source}`));
  // Wrong channel count only.
  const channels = tensor(new Float32Array(6 * 4 * 4 * 3), [6, 4, 4, 3]);
  await expectRejected('fit channels', (m) => m.fit(channels, y(), { verbose: 0 }), /fit: x has shape \[6, 4, 4, 3\], the model expects \(None, 4, 4, 2\)/);
});

test('fit/predict/evaluate with the wrong input rank name the rank mismatch', async () => {
  const rank3 = tensor(new Float32Array(4 * 4 * 2), [4, 4, 2]); // a single image without the batch axis
  await expectRejected('fit rank 3', (m) => m.fit(rank3, y(4), { verbose: 0 }), /fit: x has shape \[4, 4, 2\], the model expects \(None, 4, 4, 2\)/);
  await expectRejected('predict rank 3', (m) => m.predict(rank3), /predict: x has shape \[4, 4, 2\], the model expects \(None, 4, 4, 2\)/);
  const rank5 = tensor(new Float32Array(32), [1, 1, 4, 4, 2]);
  await expectRejected('evaluate rank 5', (m) => m.evaluate(rank5, y(1)), /evaluate: x has shape \[1, 1, 4, 4, 2\]/);
  await expectRejected('predict not a tensor', (m) => m.predict([1, 2, 3] as unknown as Tensor), /predict: x must be a Tensor/);
});

test('labels of the wrong length or width name the counts', async () => {
  await expectRejected('fit short y', (m) => m.fit(x(6), y(5), { verbose: 0 }), /fit: y has 5 samples \(shape \[5, 1\]\) but x has 6/);
  await expectRejected('evaluate long y', (m) => m.evaluate(x(6), y(7)), /evaluate: y has 7 samples .* but x has 6/);
  await expectRejected('trainOnBatch short y', (m) => m.trainOnBatch(x(6), y(2)), /trainOnBatch: y has 2 samples/);
  const wide = tensor(new Float32Array(12), [6, 2]);
  await expectRejected('fit y width', (m) => m.fit(x(6), wide, { verbose: 0 }), /fit: y has shape \[6, 2\], the model outputs \(None, 1\)/);
  await expectRejected('validationData y', (m) => m.fit(x(6), y(6), { verbose: 0, validationData: [x(3), y(2)] }), /fit: y has 2 samples .* but x has 3/);
  await expectRejected('sampleWeight length', (m) => m.fit(x(6), y(6), { verbose: 0, sampleWeight: new Float32Array(4) }), /fit: sampleWeight has 4 entries but there are 6 samples/);
});

// ---------------------------------------------------------------- non-finite values

test('NaN or Infinity in inputs, labels or sample weights is named with its position', async () => {
  const nanX = x();
  nanX.values[37] = NaN;
  await expectRejected('fit NaN x', (m) => m.fit(nanX, y(), { verbose: 0 }), /fit: x contains NaN at flat index 37/);
  await expectRejected('predict NaN x', (m) => m.predict(nanX), /predict: x contains NaN at flat index 37/);
  const infX = x();
  infX.values[0] = -Infinity;
  await expectRejected('evaluate -Infinity x', (m) => m.evaluate(infX, y()), /evaluate: x contains -Infinity at flat index 0/);
  const infY = y();
  infY.values[4] = Infinity;
  await expectRejected('fit Infinity y', (m) => m.fit(x(), infY, { verbose: 0 }), /fit: y contains Infinity at flat index 4/);
  const nanY = y();
  nanY.values[1] = NaN;
  await expectRejected('trainOnBatch NaN y', (m) => m.trainOnBatch(x(), nanY), /trainOnBatch: y contains NaN at flat index 1/);
  const w = new Float32Array(6).fill(1);
  w[2] = NaN;
  await expectRejected('fit NaN sampleWeight', (m) => m.fit(x(), y(), { verbose: 0, sampleWeight: w }), /fit: sampleWeight contains NaN at flat index 2/);
  // A NaN in the validation data must also be caught before any training step.
  const nanVal = x(2);
  nanVal.values[3] = NaN;
  await expectRejected('fit NaN validation x', (m) => m.fit(x(), y(), { verbose: 0, validationData: [nanVal, y(2)] }), /fit: x contains NaN at flat index 3/);
});

// ---------------------------------------------------------------- unknown names

test('unknown activation, loss, optimizer and metric names are named, with the known ones', async () => {
  throws(() => new Dense({ units: 1, activation: 'relux' as ActivationName }), /Dense '.*': unknown activation 'relux'; known: .*relu/);
  throws(() => new Conv2D({ filters: 1, kernelSize: 1, activation: 'Relu' as ActivationName }), /Conv2D '.*': unknown activation 'Relu'/);
  throws(() => new Activation('gelu2' as ActivationName), /Activation '.*': unknown activation 'gelu2'/);
  const compileWith = (args: object) => async (m: Sequential): Promise<void> => m.compile({ optimizer: 'sgd', loss: 'mse', ...args });
  await expectRejected('unknown loss', compileWith({ loss: 'binary_crossentropyy' }), /unknown loss 'binary_crossentropyy'/);
  await expectRejected('unknown optimizer', compileWith({ optimizer: 'sgdd' }), /unknown optimizer "sgdd"; known: sgd, adam, adamw, rmsprop/);
  await expectRejected('unknown metric', compileWith({ metrics: ['precission'] }), /unknown metric 'precission' \(known: .*precision/);
  // A failed compile leaves the previous compile in place.
  const m = model();
  const loss = m.loss;
  throws(() => m.compile({ optimizer: 'adam', loss: 'nope' }), /unknown loss 'nope'/);
  assert.is(m.loss, loss);
  assert.ok(m.optimizer instanceof SGD);
  // Unknown options are errors too, never ignored.
  await expectRejected('unknown fit option', (mm) => mm.fit(x(), y(), { verbose: 0, epoch: 3 } as FitArgs), /fit: unknown option 'epoch'/);
  throws(() => new Dense({ units: 1, unit: 2 } as unknown as ConstructorParameters<typeof Dense>[0]), /Dense: unknown option 'unit'/);
  throws(() => new SGD({ learningrate: 0.1 } as object), /SGD: unknown option 'learningrate'/);
});

test('fit, evaluate and trainOnBatch before compile say to call compile', async () => {
  setSeed(1);
  const m = new Sequential();
  m.add(new Dense({ units: 1, inputShape: [3] }));
  const before = m.getWeights();
  const xs = tensor(randomArray(6, 2), [2, 3]);
  const ys = tensor([0, 1], [2, 1]);
  await rejects(m.fit(xs, ys, { verbose: 0 }), /fit: call compile\(\{ optimizer, loss \}\) before fit/, 'fit');
  await rejects(m.evaluate(xs, ys), /evaluate: call compile/, 'evaluate');
  await rejects(m.trainOnBatch(xs, ys), /trainOnBatch: call compile/, 'trainOnBatch');
  assertSameWeights(m.getWeights(), before);
  // predict needs no compile; then compile and train.
  assert.equal([...(await m.predict(xs)).shape], [2, 1]);
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  await m.fit(xs, ys, { verbose: 0 });
  throws(() => new Sequential().compile({ optimizer: 'sgd', loss: 'mse' }), /compile: the model 'sequential' has no layers/);
});

// ---------------------------------------------------------------- sizes

test('negative or non-integer layer sizes and rates are rejected, naming the option and the value', () => {
  throws(() => new Conv2D({ filters: -1, kernelSize: 3 }), /Conv2D '.*': filters must be a positive integer, got -1/);
  throws(() => new Conv2D({ filters: 2.5, kernelSize: 3 }), /filters must be a positive integer, got 2.5/);
  throws(() => new Conv2D({ filters: 0, kernelSize: 3 }), /filters must be a positive integer, got 0/);
  throws(() => new Conv2D({ filters: 2, kernelSize: 0 }), /Conv2D '.*': kernelSize must be positive integers, got 0/);
  throws(() => new Conv2D({ filters: 2, kernelSize: [3, 1.5] }), /kernelSize must be positive integers, got \[3,1.5\]/);
  throws(() => new Conv2D({ filters: 2, kernelSize: 3, strides: -2 }), /strides must be positive integers, got -2/);
  throws(() => new Conv2D({ filters: 2, kernelSize: 3, padding: 'full' as 'same' }), /padding must be 'valid' or 'same', got "full"/);
  throws(() => new Dense({ units: 0 }), /Dense '.*': units must be a positive integer, got 0/);
  throws(() => new Dense({ units: -3 }), /units must be a positive integer, got -3/);
  throws(() => new Dense({ units: 1.5 }), /units must be a positive integer, got 1.5/);
  throws(() => new Dense({ units: NaN }), /units must be a positive integer, got NaN/);
  throws(() => new MaxPooling2D({ poolSize: 0 }), /MaxPooling2D '.*': poolSize must be positive integers, got 0/);
  throws(() => new MaxPooling2D({ strides: 1.5 }), /strides must be positive integers, got 1.5/);
  throws(() => new Dropout({ rate: -0.1 }), /Dropout '.*': rate must be in \[0, 1\), got -0.1/);
  throws(() => new Dropout({ rate: 1 }), /rate must be in \[0, 1\), got 1/);
  throws(() => new Dropout({ rate: 1.5 }), /rate must be in \[0, 1\), got 1.5/);
  throws(() => new Dense({ units: 1, inputShape: [0] }), /inputShape must be positive integers/);
  throws(() => new Dense({ units: 1, inputShape: [2.5] }), /inputShape must be positive integers/);
  throws(() => new BatchNormalization({ momentum: 2 }), /momentum must be in \[0, 1\], got 2/);
  throws(() => new BatchNormalization({ epsilon: -1 }), /epsilon must be positive, got -1/);
  throws(() => new SGD({ learningRate: -0.1 }), /SGD: learningRate must be a positive finite number, got -0.1/);
  throws(() => new SGD({ momentum: -0.5 }), /SGD: momentum must be a non-negative finite number, got -0.5/);
});

test('Conv2D and Dense with several bad options: unknown keys first, then the shared kernel options, then their own; each names the layer and value', () => {
  const bad = { activation: 'swishy' as ActivationName, kernelRegularizer: 'l3' as 'l2', biasRegularizer: 'l4' as 'l2' };
  throws(() => new Conv2D({ filters: -1, kernelSize: 0, ...bad, extra: 1 } as never), /Conv2D: unknown option 'extra'/);
  throws(() => new Dense({ units: 0, ...bad, extra: 1 } as never), /Dense: unknown option 'extra'/);
  throws(() => new Conv2D({ name: 'c', filters: -1, kernelSize: 0, ...bad }), /Conv2D 'c': unknown activation 'swishy'/);
  throws(() => new Dense({ name: 'd', units: 0, ...bad }), /Dense 'd': unknown activation 'swishy'/);
  throws(() => new Conv2D({ name: 'c', filters: -1, kernelSize: 0, ...bad, activation: 'relu' }), /Conv2D 'c': kernelRegularizer: unknown regularizer "l3"/);
  throws(() => new Dense({ name: 'd', units: 0, ...bad, activation: 'relu', kernelRegularizer: null }), /Dense 'd': biasRegularizer: unknown regularizer "l4"/);
  throws(() => new Conv2D({ name: 'c', filters: -1, kernelSize: 0 }), /Conv2D 'c': filters must be a positive integer, got -1/);
  throws(() => new Conv2D({ name: 'c', filters: 2, kernelSize: 0, strides: -1 }), /Conv2D 'c': kernelSize must be positive integers, got 0/);
});

test('negative or non-integer batchSize, epochs and validationSplit are rejected before any step', async () => {
  const fitWith = (args: FitArgs) => (m: Sequential): Promise<unknown> => m.fit(x(), y(), { verbose: 0, ...args });
  await expectRejected('batchSize 0', fitWith({ batchSize: 0 }), /fit: batchSize must be an integer ≥ 1, got 0/);
  await expectRejected('batchSize -4', fitWith({ batchSize: -4 }), /fit: batchSize must be an integer ≥ 1, got -4/);
  await expectRejected('batchSize 2.5', fitWith({ batchSize: 2.5 }), /fit: batchSize must be an integer ≥ 1, got 2.5/);
  await expectRejected('epochs 0', fitWith({ epochs: 0 }), /fit: epochs must be an integer ≥ 1, got 0/);
  await expectRejected('epochs 1.5', fitWith({ epochs: 1.5 }), /fit: epochs must be an integer ≥ 1, got 1.5/);
  await expectRejected('epochs -1', fitWith({ epochs: -1 }), /fit: epochs must be an integer ≥ 1, got -1/);
  await expectRejected('validationSplit 1.2', fitWith({ validationSplit: 1.2 }), /fit: validationSplit must be in \[0, 1\), got 1.2/);
  await expectRejected('validationSplit -0.1', fitWith({ validationSplit: -0.1 }), /validationSplit must be in \[0, 1\), got -0.1/);
  await expectRejected('validationSplit too small', fitWith({ validationSplit: 0.1 }), /validationSplit 0.1 of 6 samples leaves 6 for training and 0 for validation/);
  await expectRejected('predict batchSize', (m) => m.predict(x(), { batchSize: 0 }), /predict: batchSize must be an integer ≥ 1, got 0/);
  await expectRejected('evaluate batchSize', (m) => m.evaluate(x(), y(), { batchSize: 1.5 }), /evaluate: batchSize must be an integer ≥ 1, got 1.5/);
  await expectRejected('classWeight negative', fitWith({ classWeight: { 0: 1, 1: -2 } }), /fit: classWeight for class 1 must be a number in \[0, 1000000\], got -2/);
});

// ---------------------------------------------------------------- add() mismatches

test('a mismatching add() throws naming the layer and both shapes, and leaves the model as it was', async () => {
  const m = new Sequential();
  m.add(new Conv2D({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }));
  m.add(new Flatten({ name: 'flat' }));
  const layersBefore = [...m.layers];
  // Conv2D after Flatten: the image layer gets a rank-1 sample shape.
  throws(
    () => m.add(new Conv2D({ filters: 4, kernelSize: 3, name: 'late_conv' })),
    /Conv2D 'late_conv': expects input of shape \(None, height, width, channels\), got \(None, 72\).*previous layer 'flat' outputs \(None, 72\)/,
  );
  throws(() => m.add(new MaxPooling2D({ name: 'late_pool' })), /MaxPooling2D 'late_pool': expects input of shape \(None, height, width, channels\), got \(None, 72\)/);
  // A Dense with an inputShape that disagrees with the previous layer's output.
  throws(
    () => m.add(new Dense({ units: 3, inputShape: [50], name: 'wrong_in' })),
    /Dense 'wrong_in' declares inputShape \(None, 50\) but the previous layer 'flat' outputs \(None, 72\)/,
  );
  // A kernel larger than the input.
  const tiny = new Sequential();
  tiny.add(new MaxPooling2D({ poolSize: 2, inputShape: [3, 3, 1] }));
  throws(() => tiny.add(new Conv2D({ filters: 1, kernelSize: 3, name: 'too_big' })), /Conv2D 'too_big': input \(None, 1, 1, 1\) is smaller than the 3×3 kernel/);
  // The first layer needs an inputShape.
  throws(() => new Sequential().add(new Dense({ units: 1, name: 'first' })), /the first layer, Dense 'first', needs an inputShape/);
  assert.equal(m.layers, layersBefore, 'no layer was added');
  assert.equal([...m.outputShape], [72]);
  // Still usable: the right layer goes on, and the model trains.
  m.add(new Dense({ units: 1, activation: 'sigmoid', inputShape: [72] }));
  m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
  const before = m.getWeights();
  const h = await m.fit(tensor(randomArray(4 * 64, 3), [4, 8, 8, 1]), tensor([0, 1, 0, 1], [4, 1]), { verbose: 0, seed: 1 });
  assert.ok(Number.isFinite(h.history.loss[0]));
  assert.ok(m.getWeights().some((w, i) => w.values.some((v, j) => v !== before[i].values[j])), 'training moved the weights');
});

test('a layer forward with the wrong channel count names the layer and both shapes', () => {
  const conv = new Conv2D({ filters: 2, kernelSize: 1, name: 'c1' });
  conv.build([2, 2, 3]);
  conv.initializeWeights(new Random(1));
  throws(
    () => conv.forward(tensor(new Float32Array(8), [1, 2, 2, 2]), { training: false, rng: new Random(1) }),
    /Conv2D 'c1': expects input \(None, height, width, 3\), got \[1, 2, 2, 2\]/,
  );
  const dense = new Dense({ units: 2, name: 'd1' });
  dense.build([4]);
  dense.initializeWeights(new Random(1));
  throws(() => dense.forward(tensor(new Float32Array(6), [2, 3]), { training: false, rng: new Random(1) }), /Dense 'd1': expects input \(…, 4\), got \[2, 3\]/);
  throws(() => dense.backward(tensor(new Float32Array(4), [2, 2]), true), /Dense 'd1': backward called without a training-mode forward/);
});

test.run();
