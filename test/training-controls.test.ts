// Training controls: learning-rate schedules, gradient clipping, weight decay and AdamW, the
// learning-rate callbacks and CSVLogger, against hand-computed Keras 3 values.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CSVLogger, LearningRateScheduler, layers, optimizers, ReduceLROnPlateau, schedules, Sequential, tensor, type Logs } from '../src/index.js';
import { getInitializer } from '../src/initializers.js';
import type { Param } from '../src/layers/layer.js';
import { optimizerFromKeras } from '../src/io/training-config.js';
import { pythonFloat } from '../src/train/csv-logger.js';
import { assertClose, assertNear, backendTest, throws } from './helpers.js';

const EXACT = { atol: 1e-12, rtol: 1e-12 };
const F32 = { atol: 1e-7, rtol: 1e-6 };

function param(values: number[], grad: number[], trainable = true): Param {
  return { name: 'p', shape: [values.length], value: Float32Array.from(values), grad: Float32Array.from(grad), trainable, initializer: getInitializer('zeros', 'test') };
}

test('ExponentialDecay: initial·rate^(step/decaySteps), staircase floors the exponent', () => {
  const smooth = new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
  assertNear(smooth.at(0), 0.1, EXACT);
  assertNear(smooth.at(5), 0.1 * Math.SQRT1_2, EXACT);
  assertNear(smooth.at(20), 0.025, EXACT);
  const stairs = new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
  assert.equal([0, 9, 10, 15, 20].map((s) => stairs.at(s)), [0.1, 0.1, 0.05, 0.05, 0.025]);
  throws(() => new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }), /ExponentialDecay: decaySteps must be a finite number > 0, got 0/);
  throws(() => new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5, decay: 1 } as never), /ExponentialDecay: unknown option 'decay'/);
});

test('PiecewiseConstantDecay: upper ends inclusive, as Keras', () => {
  const s = new schedules.PiecewiseConstantDecay({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
  assert.equal([0, 10, 11, 20, 21, 1000].map((t) => s.at(t)), [1, 1, 0.5, 0.5, 0.1, 0.1]);
  throws(() => new schedules.PiecewiseConstantDecay({ boundaries: [10, 20], values: [1, 0.5] }), /values must have one more entry than boundaries \(2 \+ 1\), got \[1,0\.5\]/);
  throws(() => new schedules.PiecewiseConstantDecay({ boundaries: [20, 10], values: [1, 0.5, 0.1] }), /boundaries must increase, got \[20,10\]/);
});

test('CosineDecay: alpha floor, clamped after decaySteps; linear warm-up to warmupTarget, then decay from it', () => {
  const s = new schedules.CosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 });
  assertNear(s.at(0), 1, EXACT);
  assertNear(s.at(5), 0.9 * 0.5 + 0.1, EXACT);
  assertNear(s.at(10), 0.1, EXACT);
  assertNear(s.at(50), 0.1, EXACT);
  const w = new schedules.CosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 1, warmupSteps: 5 });
  assertNear(w.at(0), 0, EXACT);
  assertNear(w.at(2), 0.4, EXACT);
  assertNear(w.at(5), 1, EXACT);
  assertNear(w.at(10), 0.5, EXACT);
  assertNear(w.at(15), 0, EXACT);
  assertNear(w.at(100), 0, EXACT);
  throws(() => new schedules.CosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 1 }), /CosineDecay: warmupTarget 1 needs warmupSteps > 0/);
});

backendTest('an optimizer evaluates its schedule at iterations (0 at the first update); the rate cannot be set', () => {
  const lr = new schedules.PiecewiseConstantDecay({ boundaries: [0, 1], values: [1, 0.5, 0.25] });
  const sgd = new optimizers.SGD({ learningRate: lr });
  const p = param([0], [1]);
  for (let i = 0; i < 3; i++) sgd.apply([p]);
  assertClose(p.value, [-1.75], F32, 'w = −(1 + 0.5 + 0.25)');
  assert.is(sgd.learningRate, 0.25);
  throws(() => (sgd.learningRate = 0.1), /SGD: the learning rate is the schedule PiecewiseConstantDecay and cannot be set to 0\.1/);
});

backendTest('clipNorm clips each gradient to its own norm; clipValue element-wise; globalClipNorm over all', () => {
  const run = (config: object, grads: number[][]): Float32Array[] => {
    const ps = grads.map((g) => param(g.map(() => 0), g));
    new optimizers.SGD({ learningRate: 1, ...config }).apply(ps);
    return ps.map((p) => p.value.map((v) => -v));
  };
  const [a, b, zero] = run({ clipNorm: 1 }, [[3, 4], [0.3, 0.4], [0, 0]]);
  assertClose(a, [0.6, 0.8], F32, 'clipNorm, norm 5');
  assertClose(b, [0.3, 0.4], F32, 'clipNorm, norm 0.5 untouched');
  assertClose(zero, [0, 0], F32, 'clipNorm, zero gradient');
  assertClose(run({ clipValue: 0.5 }, [[3, -4, 0.2]])[0], [0.5, -0.5, 0.2], F32, 'clipValue');
  const global = run({ globalClipNorm: 1 }, [[3, 4], [0.3, 0.4]]);
  const n = Math.sqrt(25 + 0.25);
  assertClose([...global[0], ...global[1]], [3 / n, 4 / n, 0.3 / n, 0.4 / n], F32, 'globalClipNorm');
  assertClose(run({ globalClipNorm: 10 }, [[3, 4]])[0], [3, 4], F32, 'globalClipNorm above the norm');
  throws(() => new optimizers.Adam({ clipNorm: 1, clipValue: 1 }), /Adam: only one of clipNorm, clipValue and globalClipNorm can be set/);
  throws(() => new optimizers.SGD({ clipNorm: -1 }), /SGD: clipNorm must be a positive finite number, got -1/);
});

backendTest('weightDecay: w −= w·wd·lr before the update (lr of the step); frozen weights are left alone', () => {
  const p = param([2], [1]);
  const frozen = param([2], [1], false);
  new optimizers.SGD({ learningRate: 0.1, weightDecay: 0.5 }).apply([p, frozen]);
  assertClose(p.value, [2 - 2 * 0.5 * 0.1 - 0.1], F32, 'SGD with weight decay');
  assert.equal([...frozen.value], [2]);
  const q = param([2], [0]);
  const sched = new optimizers.SGD({ learningRate: new schedules.PiecewiseConstantDecay({ boundaries: [0], values: [0.1, 0.01] }), weightDecay: 1 });
  sched.apply([q]);
  sched.apply([q]);
  assertClose(q.value, [2 * 0.9 * 0.99], F32, 'decay follows the scheduled rate');
});

backendTest('AdamW: Adam after w −= w·0.004·lr (Keras 3 defaults)', () => {
  const opt = new optimizers.AdamW({ learningRate: 0.01 });
  assert.is(opt.weightDecay, 0.004);
  const p = param([1, -2], [0.5, 0.25]);
  opt.apply([p]);
  // Keras' Adam step 1: α = lr·√(1 − β2)/(1 − β1), m = (1 − β1)·g, v = (1 − β2)·g², w −= α·m/(√v + ε).
  const expected = [1, -2].map((w, i) => {
    const g = [0.5, 0.25][i];
    const decayed = w - w * 0.004 * 0.01;
    const alpha = (0.01 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    return decayed - (alpha * 0.1 * g) / (Math.sqrt(0.001 * g * g) + 1e-7);
  });
  assertClose(p.value, expected, F32, 'AdamW step 1');
  const viaName = new Sequential({ layers: [new layers.Dense({ units: 1, inputShape: [2] })] });
  viaName.compile({ optimizer: 'adamw', loss: 'mse' });
  assert.is(viaName.optimizer?.className, 'AdamW');
});

test('optimizer configs round-trip, including schedules and Keras 3 AdamW with global_clipnorm', () => {
  const sgd = new optimizers.SGD({ learningRate: new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.9, staircase: true }), momentum: 0.9, clipNorm: 2, weightDecay: 1e-4 });
  const back = optimizerFromKeras({ class_name: 'SGD', config: sgd.getConfig() });
  assert.equal(back.getConfig(), sgd.getConfig());
  assert.ok(back.learningRateSchedule instanceof schedules.ExponentialDecay);
  const keras = optimizerFromKeras({
    class_name: 'AdamW',
    config: {
      name: 'adamw',
      learning_rate: {
        module: 'keras.optimizers.schedules',
        class_name: 'CosineDecay',
        config: { initial_learning_rate: 0.001, decay_steps: 1000, alpha: 0.0, name: 'CosineDecay', warmup_target: null, warmup_steps: 0 },
        registered_name: null,
      },
      weight_decay: 0.004,
      clipnorm: null,
      global_clipnorm: 1.0,
      clipvalue: null,
      use_ema: false,
      ema_momentum: 0.99,
      ema_overwrite_frequency: null,
      loss_scale_factor: null,
      gradient_accumulation_steps: null,
      beta_1: 0.9,
      beta_2: 0.999,
      epsilon: 1e-7,
      amsgrad: false,
    },
  });
  assert.is(keras.className, 'AdamW');
  assert.is(keras.globalClipNorm, 1);
  assert.is(keras.weightDecay, 0.004);
  assertNear(keras.learningRate, 0.001, EXACT);
  throws(() => optimizerFromKeras({ class_name: 'SGD', config: { learning_rate: { class_name: 'InverseTimeDecay', config: {} } } }), /learning-rate schedule InverseTimeDecay is not supported/);
});

/** A stand-in model for driving callbacks epoch by epoch. */
function fakeModel(learningRate: number) {
  return { stopTraining: false, optimizer: new optimizers.SGD({ learningRate }) };
}

test('ReduceLROnPlateau: patience, factor, cooldown and minLr as Keras 3; learning_rate logged before the change', () => {
  const model = fakeModel(1);
  const cb = new ReduceLROnPlateau({ monitor: 'val_loss', patience: 2, factor: 0.5, cooldown: 1, minLr: 0.3 });
  cb.setModel(model);
  cb.onTrainBegin();
  const losses = [1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.49995];
  const logged: number[] = [];
  const after: number[] = [];
  losses.forEach((v, epoch) => {
    const logs: Logs = { val_loss: v };
    cb.onEpochEnd(epoch, logs);
    logged.push(logs.learning_rate);
    after.push(model.optimizer.learningRate);
  });
  // e2: third epoch without improvement → 0.5, cooldown 1; e3 in cooldown (wait 0), e4 wait 2 →
  // max(0.25, 0.3); e5 improves; e6, e7 wait, but lr is at minLr; e8 improves by < minDelta 1e-4.
  assert.equal(after, [1, 1, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3]);
  assert.equal(logged, [1, 1, 1, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]);

  const acc = fakeModel(1);
  const up = new ReduceLROnPlateau({ monitor: 'val_accuracy', patience: 1, factor: 0.1 });
  up.setModel(acc);
  up.onTrainBegin();
  for (const [epoch, v] of [0.5, 0.6, 0.55].entries()) up.onEpochEnd(epoch, { val_accuracy: v });
  assertNear(acc.optimizer.learningRate, 0.1, EXACT, "'auto' maximises accuracy");
  throws(() => up.onEpochEnd(3, { loss: 1 }), /ReduceLROnPlateau: monitored 'val_accuracy' is not in the logs; available: loss/);
  throws(() => new ReduceLROnPlateau({ factor: 1 }), /factor must be in \(0, 1\)/);
  const scheduled = { stopTraining: false, optimizer: new optimizers.SGD({ learningRate: new schedules.ExponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 0.5 }) }) };
  const onSchedule = new ReduceLROnPlateau({ monitor: 'loss', patience: 0 });
  onSchedule.setModel(scheduled);
  onSchedule.onTrainBegin();
  onSchedule.onEpochEnd(0, { loss: 1 });
  throws(() => onSchedule.onEpochEnd(1, { loss: 1 }), /SGD: the learning rate is the schedule ExponentialDecay and cannot be set/);
});

function tinyModel(): { model: Sequential; x: ReturnType<typeof tensor>; y: ReturnType<typeof tensor> } {
  const model = new Sequential({ layers: [new layers.Dense({ units: 1, inputShape: [2] })] });
  model.setWeights([tensor([0.5, -0.25], [2, 1]), tensor([0.1], [1])]);
  const x = tensor([1, 2, -1, 0.5, 0.3, -2], [3, 2]);
  const y = tensor([1, 0, -1], [3, 1]);
  return { model, x, y };
}

backendTest('LearningRateScheduler sets the rate per epoch (same weights as trainOnBatch at those rates) and logs it', async () => {
  const { model, x, y } = tinyModel();
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 1 }), loss: 'mse' });
  const cb = new LearningRateScheduler((epoch, lr) => (epoch === 0 ? 0.1 : lr / 2));
  const history = await model.fit(x, y, { epochs: 3, batchSize: 3, shuffle: false, verbose: 0, callbacks: [cb] });
  assert.equal(history.history.learning_rate, [0.1, 0.05, 0.025]);
  const ref = tinyModel().model;
  ref.compile({ optimizer: new optimizers.SGD({ learningRate: 1 }), loss: 'mse' });
  for (const lr of [0.1, 0.05, 0.025]) {
    ref.optimizer!.learningRate = lr;
    await ref.trainOnBatch(x, y);
  }
  model.getWeights().forEach((w, i) => assertClose(w.values, ref.getWeights()[i].values, F32, `weight ${i}`));
  assert.ok(model.getWeights()[0].values[0] !== 0.5, 'training moved the weights');
});

test('pythonFloat writes numbers as Python str(float)', () => {
  assert.equal([0.1, 1e-5, 2, 1e16, 123.456, 0.0001, NaN, -Infinity, 1.5e-7].map(pythonFloat), ['0.1', '1e-05', '2.0', '1e+16', '123.456', '0.0001', 'nan', '-inf', '1.5e-07']);
});

backendTest('CSVLogger: Keras header (epoch, sorted keys, val_ twins), one row per epoch, NA, append', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tscnn-csv-'));
  const file = join(dir, 'log.csv');
  const { model, x, y } = tinyModel();
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05 }), loss: 'mse', metrics: ['mae'] });
  const h = await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, callbacks: [new CSVLogger(file)] });
  const row = (e: number): string => [e, h.history.loss[e], h.history.mae[e]].map((v, i) => (i === 0 ? String(v) : pythonFloat(v as number))).join(',');
  assert.is(readFileSync(file, 'utf8'), `epoch,loss,mae,val_loss,val_mae\r\n${row(0)},NA,NA\r\n${row(1)},NA,NA\r\n`);
  const h2 = await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0, validationData: [x, y], callbacks: [new CSVLogger(file, { append: true, separator: ';' })] });
  const lines = readFileSync(file, 'utf8').split('\r\n');
  assert.is(lines.length, 5, 'two rows, one appended row, no second header, final empty string');
  assert.is(lines[3], ['0', ...['loss', 'mae', 'val_loss', 'val_mae'].map((k) => pythonFloat(h2.history[k][0]))].join(';'));
  writeFileSync(file, 'old');
  await model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [new CSVLogger(file)] });
  assert.ok(readFileSync(file, 'utf8').startsWith('epoch,loss,mae,'), 'append false overwrites');
  throws(() => new CSVLogger(file, { sep: ',' } as never), /CSVLogger: unknown option 'sep'/);
});

test.run();
