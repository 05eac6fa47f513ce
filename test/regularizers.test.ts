// kernelRegularizer / biasRegularizer on Dense and Conv2D: the penalty in the reported loss (and
// val_loss, as Keras' test step), its gradient in the update, frozen layers, configs and save/load.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layers, loadModel, losses, metrics, optimizers, regularizers, schedules, Sequential, tensor, toMemory } from '../src/index.js';
import { assertClose, assertNear, backendTest, throws } from './helpers.js';

const F32 = { atol: 1e-6, rtol: 1e-5 };

function model(config: { kernelRegularizer?: regularizers.RegularizerSpec; biasRegularizer?: regularizers.RegularizerSpec; trainable?: boolean }): Sequential {
  const m = new Sequential({ layers: [new layers.Dense({ units: 1, inputShape: [2], ...config })] });
  m.setWeights([tensor([0.5, -0.25], [2, 1]), tensor([0.2], [1])]);
  return m;
}

backendTest('l1l2 kernel + l2 bias: loss = mse + l1·Σ|w| + l2·Σw² + lb·b², and the SGD step includes the penalty gradient', async () => {
  const m = model({ kernelRegularizer: regularizers.l1l2({ l1: 0.1, l2: 0.2 }), biasRegularizer: regularizers.l2({ l2: 0.5 }) });
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  const x = tensor([1, 2], [1, 2]);
  const y = tensor([1], [1, 1]);
  const p = 0.5 * 1 - 0.25 * 2 + 0.2;
  const penalty = 0.1 * 0.75 + 0.2 * (0.25 + 0.0625) + 0.5 * 0.04;
  const logs = await m.trainOnBatch(x, y);
  assertNear(logs.loss, (p - 1) ** 2 + penalty, F32, 'reported loss');
  const d = 2 * (p - 1);
  const expected = [
    [0.5 - 0.1 * (d * 1 + 0.1 + 2 * 0.2 * 0.5), -0.25 - 0.1 * (d * 2 - 0.1 + 2 * 0.2 * -0.25)],
    [0.2 - 0.1 * (d + 2 * 0.5 * 0.2)],
  ];
  m.getWeights().forEach((w, i) => assertClose(w.values, expected[i], F32, `weight ${i}`));
  const after = m.getWeights().map((w) => w.values);
  const pen2 = 0.1 * (Math.abs(after[0][0]) + Math.abs(after[0][1])) + 0.2 * (after[0][0] ** 2 + after[0][1] ** 2) + 0.5 * after[1][0] ** 2;
  const p2 = after[0][0] + 2 * after[0][1] + after[1][0];
  assertNear((await m.evaluate(x, y)).loss, (p2 - 1) ** 2 + pen2, F32, 'evaluate adds the penalty too (Keras test step)');
});

backendTest('a frozen layer adds no penalty; l1 of a zero weight has gradient 0', async () => {
  const frozen = model({ kernelRegularizer: 'l2', trainable: false });
  frozen.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  const x = tensor([1, 2], [1, 2]);
  const y = tensor([1], [1, 1]);
  assertNear((await frozen.trainOnBatch(x, y)).loss, (0.2 - 1) ** 2, F32);
  const m = new Sequential({ layers: [new layers.Dense({ units: 1, inputShape: [1], useBias: false, kernelRegularizer: 'l1' })] });
  m.setWeights([tensor([0], [1, 1])]);
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 1 }), loss: 'mse' });
  await m.trainOnBatch(tensor([0], [1, 1]), tensor([0], [1, 1]));
  assert.equal([...m.getWeights()[0].values], [0]);
});

backendTest('Conv2D kernelRegularizer: loss and kernel gradient include 0.01·Σw² ("l2" default)', async () => {
  const withReg = new Sequential({ layers: [new layers.Conv2D({ filters: 2, kernelSize: 2, inputShape: [3, 3, 1], kernelRegularizer: 'l2' }), new layers.Flatten(), new layers.Dense({ units: 1 })] });
  const plain = new Sequential({ layers: [new layers.Conv2D({ filters: 2, kernelSize: 2, inputShape: [3, 3, 1] }), new layers.Flatten(), new layers.Dense({ units: 1 })] });
  await withReg.predict(tensor(new Float32Array(9), [1, 3, 3, 1]));
  plain.setWeights(withReg.getWeights());
  const kernel = withReg.getWeights()[0].values;
  const penalty = 0.01 * kernel.reduce((a, v) => a + v * v, 0);
  for (const m of [withReg, plain]) m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  const x = tensor(Float32Array.from({ length: 18 }, (_, i) => (i % 5) / 4), [2, 3, 3, 1]);
  const y = tensor([1, -1], [2, 1]);
  const a = await withReg.trainOnBatch(x, y);
  const b = await plain.trainOnBatch(x, y);
  assertNear(a.loss - b.loss, penalty, F32, 'penalty in the loss');
  const dk = withReg.getWeights()[0].values.map((v, i) => v - plain.getWeights()[0].values[i]);
  assertClose(dk, kernel.map((v) => -0.1 * 2 * 0.01 * v), { atol: 1e-7, rtol: 1e-3 }, 'extra kernel step −lr·2·l2·w');
});

test('regularizer options: names, defaults, bad values name the layer', () => {
  assert.equal(regularizers.l1().getConfig(), { l1: 0.01, l2: 0 });
  assert.equal(regularizers.l2({ l2: 1e-4 }).getConfig(), { l1: 0, l2: 1e-4 });
  assert.equal(regularizers.l1l2().getConfig(), { l1: 0.01, l2: 0.01 });
  const d = new layers.Dense({ units: 1, kernelRegularizer: 'l1_l2' });
  assert.equal(d.kernelRegularizer?.getConfig(), { l1: 0.01, l2: 0.01 });
  throws(() => new layers.Dense({ units: 1, name: 'd9', kernelRegularizer: 'l3' as never }), /Dense 'd9': kernelRegularizer: unknown regularizer "l3"/);
  throws(() => new layers.Conv2D({ filters: 1, kernelSize: 1, name: 'c9', biasRegularizer: regularizers.l2({ l2: -1 }) }), /l2: l2 must be a non-negative finite number, got -1/);
  throws(() => regularizers.l1({ l2: 1 } as never), /l1: unknown option 'l2'/);
});

test('save/load: regularizers written as TF.js L1L2, read back (also Keras L1/L2)', async () => {
  const m = new Sequential({
    layers: [
      new layers.Conv2D({ filters: 1, kernelSize: 1, inputShape: [2, 2, 1], kernelRegularizer: regularizers.l1l2({ l1: 0.001, l2: 0.002 }) }),
      new layers.Flatten(),
      new layers.Dense({ units: 1, biasRegularizer: regularizers.l2({ l2: 0.3 }) }),
    ],
  });
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  const { modelJSON, weights } = toMemory(m);
  const cfgs = (modelJSON.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers.map((l) => l.config);
  assert.equal(cfgs[0].kernel_regularizer, { class_name: 'L1L2', config: { l1: 0.001, l2: 0.002 } });
  assert.is(cfgs[0].bias_regularizer, null);
  assert.equal(cfgs[2].bias_regularizer, { class_name: 'L1L2', config: { l1: 0, l2: 0.3 } });
  const loaded = await loadModel({ modelJSON, weights });
  assert.equal((loaded.layers[0] as layers.Conv2D).kernelRegularizer?.getConfig(), { l1: 0.001, l2: 0.002 });
  assert.equal((loaded.layers[2] as layers.Dense).biasRegularizer?.getConfig(), { l1: 0, l2: 0.3 });
  cfgs[2].kernel_regularizer = { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.05 }, registered_name: null };
  const keras = await loadModel({ modelJSON, weights });
  assert.equal((keras.layers[2] as layers.Dense).kernelRegularizer?.getConfig(), { l1: 0, l2: 0.05 });
});

test('save/load: compile settings with a schedule, AdamW, clipping, a new loss and new metrics round-trip through tscnn metadata', async () => {
  const m = new Sequential({ layers: [new layers.Dense({ units: 3, inputShape: [2], activation: 'sigmoid' })] });
  const lr = new schedules.CosineDecay({ initialLearningRate: 0, decaySteps: 100, warmupTarget: 0.01, warmupSteps: 10, alpha: 0.1 });
  m.compile({
    optimizer: new optimizers.AdamW({ learningRate: lr, weightDecay: 0.01, globalClipNorm: 1 }),
    loss: losses.binaryFocalCrossentropy({ gamma: 3, applyClassBalancing: true }),
    metrics: ['mae', new metrics.TopKCategoricalAccuracy({ k: 2 }), 'binaryAccuracy'],
  });
  const { modelJSON, weights } = toMemory(m);
  assert.is(modelJSON.trainingConfig, undefined, 'TF.js cannot compile AdamW with a schedule: no trainingConfig');
  const loaded = await loadModel({ modelJSON, weights });
  assert.equal(loaded.optimizer?.getConfig(), m.optimizer!.getConfig());
  assert.is(loaded.optimizer?.className, 'AdamW');
  assert.equal(loaded.loss?.getConfig(), m.loss!.getConfig());
  assert.equal(loaded.metrics.map((x) => [x.name, x.getConfig()]), m.metrics.map((x) => [x.name, x.getConfig()]));

  const plain = new Sequential({ layers: [new layers.Dense({ units: 1, inputShape: [2], activation: 'sigmoid' })] });
  plain.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanAbsoluteError', metrics: ['binaryAccuracy', 'mae', 'mse'] });
  assert.equal(toMemory(plain).modelJSON.trainingConfig, { loss: 'mean_absolute_error', metrics: ['binary_accuracy', 'mae', 'mse'], optimizer_config: { class_name: 'SGD', config: { learningRate: 0.1 } } });
});

test.run();
