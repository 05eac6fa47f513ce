// Saving and loading in TensorFlow.js' LayersModel format: round trips in tscnn, into TF.js and
// from TF.js (its pure-JS CPU backend), every kind of bad file, and ModelCheckpoint.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel, ModelCheckpoint, saveModel, toMemory, type ModelJSON } from '../src/io/index.js';
import * as layers from '../src/layers/index.js';
import { Adam, SGD } from '../src/train/optimizers.js';
import { Sequential } from '../src/model/sequential.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { assertClose, assertIdentical, assertSameWeights, randomArray } from './helpers.js';
import { buildUserModel } from '../examples/lib/user-model.js';

// TF.js prints a banner about tfjs-node on its first tensor unless in test mode.
tf.env().set('IS_TEST', true);

const root = mkdtempSync(join(tmpdir(), 'tscnn-io-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(root, `d${dirCount++}`);

const t4 = (values: Float32Array, shape: number[]): Tensor => new Tensor(values, shape as unknown as Shape);
const SIDE = 36;

/** The user's seed architecture (see issue 2) on 36×36×3 inputs: 36→18→9→4→2, Flatten 512. */
function seedModel(): Sequential {
  return buildUserModel(SIDE);
}

function images(n: number, seed: number): Tensor {
  return t4(randomArray(n * SIDE * SIDE * 3, seed, 0, 1), [n, SIDE, SIDE, 3]);
}

function labels(n: number, seed: number): Tensor {
  return t4(randomArray(n, seed, 0, 1).map((v) => (v < 0.5 ? 0 : 1)), [n, 1]);
}

/** A small trained seed model, shared by the tests that only read it. */
async function trainedSeedModel(): Promise<{ model: Sequential; x: Tensor }> {
  const model = seedModel();
  model.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
  const x = images(16, 1);
  await model.fit(x, labels(16, 2), { epochs: 1, batchSize: 8, seed: 3, verbose: 0 });
  return { model, x };
}

async function rejects(promise: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  try {
    await promise;
  } catch (e) {
    const msg = (e as Error).message;
    if (!pattern.test(msg)) assert.unreachable(`${what}: error "${msg}" does not match ${pattern}`);
    return;
  }
  assert.unreachable(`${what}: expected an error matching ${pattern}`);
}

test('round trip in tscnn: identical weights, predictions, configs and compile settings', async () => {
  const { model, x } = await trainedSeedModel();
  const dir = freshDir();
  await model.save(dir);
  assert.equal(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const loaded = await loadModel(dir);
  assertSameWeights(loaded.getWeights(), model.getWeights());
  assertIdentical(((await loaded.predict(x)) as Tensor).values, ((await model.predict(x)) as Tensor).values, 'predictions');
  assert.equal(loaded.layers.map((l) => l.getConfig()), model.layers.map((l) => l.getConfig()));
  assert.is(loaded.summary({ print: false }), model.summary({ print: false }));
  assert.is(loaded.optimizer?.className, 'SGD');
  assert.equal(loaded.optimizer?.getConfig(), { learningRate: 0.05, momentum: 0.9, nesterov: false });
  assert.equal(loaded.loss?.getConfig(), { name: 'binaryCrossentropy', fromLogits: false });
  assert.equal(loaded.metrics.map((m) => m.name), ['precision', 'recall', 'accuracy']);
  const bytes = readFileSync(join(dir, 'weights.bin'));
  assert.is(bytes.length, 4 * model.getWeights().reduce((a, w) => a + w.size, 0));
  // Little-endian float32 in manifest order: the first value is conv2d/kernel[0].
  assert.is(bytes.readFloatLE(0), model.getWeights()[0].values[0]);
});

test('round trip: training continues identically given a fresh optimizer (optimizer state is not saved)', async () => {
  const { model } = await trainedSeedModel();
  const { modelJSON, weights } = toMemory(model);
  const loaded = await loadModel({ modelJSON, weights });
  const x = images(16, 11);
  const y = labels(16, 12);
  const fitArgs = { epochs: 1, batchSize: 8, seed: 5, verbose: 0 } as const;
  const before = model.getWeights();

  await model.fit(x, y, fitArgs); // keeps its momentum from the first fit
  const withState = model.getWeights();
  model.setWeights(before);
  model.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
  await model.fit(x, y, fitArgs);
  const fresh = model.getWeights();

  await loaded.fit(x, y, fitArgs);
  assertSameWeights(loaded.getWeights(), fresh, 'loaded model vs original with a fresh optimizer');
  const differs = withState.some((w, i) => w.values.some((v, j) => v !== fresh[i].values[j]));
  assert.ok(differs, 'continuing with the saved momentum would differ: the format does not hold optimizer state');
});

test('in-memory form: modelJSON as text and weights as a Uint8Array view at an offset', async () => {
  const m = new Sequential();
  m.add(new layers.Dense({ units: 3, activation: 'tanh', inputShape: [4] }));
  m.add(new layers.Dense({ units: 2, activation: 'softmax', kernelInitializer: 'heNormal' }));
  m.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'categoricalCrossentropy', metrics: ['accuracy', 'auc'] });
  const { modelJSON, weights } = toMemory(m);
  const padded = new Uint8Array(weights.byteLength + 8);
  padded.set(new Uint8Array(weights), 8);
  const loaded = await loadModel({ modelJSON: JSON.stringify(modelJSON), weights: padded.subarray(8) });
  assertSameWeights(loaded.getWeights(), m.getWeights());
  assert.is(loaded.optimizer?.className, 'Adam');
  assert.equal(loaded.optimizer?.getConfig(), m.optimizer?.getConfig());
  assert.equal(loaded.metrics.map((x) => x.getConfig()), m.metrics.map((x) => x.getConfig()));
  assert.equal(loaded.layers[1].getConfig().kernelInitializer, 'heNormal');
  // TF.js cannot compile 'auc', so trainingConfig lists only what it knows.
  assert.equal(modelJSON.trainingConfig?.metrics, ['accuracy']);
  assert.equal(modelJSON.trainingConfig?.optimizer_config, { class_name: 'Adam', config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
});

test('the TF.js training config alone (no tscnn metadata) compiles the same optimizer, loss and metrics', async () => {
  const m = new Sequential();
  m.add(new layers.Dense({ units: 1, activation: 'sigmoid', inputShape: [3] }));
  m.compile({ optimizer: new SGD({ learningRate: 0.1, momentum: 0.5, nesterov: true }), loss: 'binaryCrossentropy', metrics: ['accuracy', 'precision'] });
  const { modelJSON, weights } = toMemory(m);
  assert.equal(modelJSON.trainingConfig, {
    loss: 'binary_crossentropy',
    metrics: ['accuracy', 'precision'],
    optimizer_config: { class_name: 'Momentum', config: { learningRate: 0.1, momentum: 0.5, useNesterov: true } },
  });
  delete modelJSON.userDefinedMetadata;
  const loaded = await loadModel({ modelJSON, weights });
  assert.equal(loaded.optimizer?.getConfig(), { learningRate: 0.1, momentum: 0.5, nesterov: true });
  assert.is(loaded.loss?.name, 'binaryCrossentropy');
  assert.equal(loaded.metrics.map((x) => x.name), ['accuracy', 'precision']);
});

test('writes the topology as TF.js does: class names, snake_case configs, batch_input_shape, initializers', () => {
  const m = seedModel();
  const { modelJSON } = toMemory(m);
  const topo = modelJSON.modelTopology as { class_name: string; config: { layers: { class_name: string; config: Record<string, unknown> }[] }; backend: string; keras_version: string };
  assert.is(topo.class_name, 'Sequential');
  assert.is(topo.backend, 'tensor_flow.js');
  assert.ok(topo.keras_version.length > 0);
  assert.equal(
    topo.config.layers.map((l) => l.class_name),
    ['Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense', 'Activation', 'Dropout', 'BatchNormalization', 'Dense'],
  );
  const conv = topo.config.layers[0].config;
  assert.equal(conv.batch_input_shape, [null, SIDE, SIDE, 3]);
  assert.equal(conv.kernel_size, [3, 3]);
  assert.is(conv.use_bias, true);
  assert.equal(conv.kernel_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
  assert.equal(conv.bias_initializer, { class_name: 'Zeros', config: {} });
  assert.is(conv.data_format, 'channels_last');
  assert.is(topo.config.layers[1].config.batch_input_shape, undefined);
  assert.equal(topo.config.layers[3].config.pool_size, [2, 2]);
  assert.equal(modelJSON.weightsManifest[0].paths, ['weights.bin']);
  assert.equal(modelJSON.weightsManifest[0].weights.slice(0, 6).map((w) => w.name), [
    `${m.layers[0].name}/kernel`,
    `${m.layers[0].name}/bias`,
    `${m.layers[1].name}/gamma`,
    `${m.layers[1].name}/beta`,
    `${m.layers[1].name}/moving_mean`,
    `${m.layers[1].name}/moving_variance`,
  ]);
  assert.is(modelJSON.trainingConfig, undefined, 'an uncompiled model has no training config');
});

test('into TF.js: the seed model trained in tscnn, saved, loaded by tf.loadLayersModel, predicts the same (rtol 1e-4)', async () => {
  const { model, x } = await trainedSeedModel();
  const dir = freshDir();
  await saveModel(model, dir);
  const modelJSON = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  // A file handler as tfjs-node's would be: model.json through TF.js' own parser, weights from disk.
  const handler: tf.io.IOHandler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const parts = manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
        const all = Buffer.concat(parts);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      }),
  };
  const tfModel = await tf.loadLayersModel(handler);
  const expected = (await model.predict(x)).values;
  const xt = tf.tensor4d(x.values, [x.shape[0]!, SIDE, SIDE, 3]);
  const actual = (tfModel.predict(xt) as tf.Tensor).dataSync();
  assertClose(actual, expected, { rtol: 1e-4, atol: 1e-6 }, 'TF.js predictions of the tscnn model');
  assert.ok(Math.max(...expected) - Math.min(...expected) > 1e-4, 'predictions differ between images (a real check)');
  // Weights by name, and the training config TF.js compiled from.
  const byName = new Map(tfModel.weights.map((w, i) => [w.originalName, tfModel.getWeights()[i]]));
  for (const p of model.params()) assertIdentical(byName.get(p.name)!.dataSync(), p.value, `TF.js weight ${p.name}`);
  assert.is(tfModel.optimizer.getClassName(), 'Momentum');
  assert.equal(tfModel.optimizer.getConfig(), { learningRate: 0.05, momentum: 0.9, useNesterov: false });
  xt.dispose();
  tfModel.dispose();
});

test('from TF.js: a model built and trained in TF.js, saved by its own writer, loads into tscnn and predicts the same', async () => {
  const side = 12;
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [side, side, 3] }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', strides: 1 }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.25 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'tanh', kernelInitializer: 'heNormal' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: tf.train.momentum(0.02, 0.9), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const n = 8;
  const xv = randomArray(n * side * side * 3, 21, 0, 1);
  const xt = tf.tensor4d(xv, [n, side, side, 3]);
  const yt = tf.tensor2d(randomArray(n, 22, 0, 1).map((v) => (v < 0.5 ? 0 : 1)), [n, 1]);
  await m.fit(xt, yt, { epochs: 2, batchSize: 4, verbose: 0 });

  let modelJSON: ModelJSON | null = null;
  let weights: ArrayBuffer | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      // What tfjs-node's file writer puts in model.json, with the weights as one buffer.
      modelJSON = {
        modelTopology: a.modelTopology as ModelJSON['modelTopology'],
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs! }],
        trainingConfig: a.trainingConfig as ModelJSON['trainingConfig'],
        format: a.format,
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy,
      };
      weights = new tf.io.CompositeArrayBuffer(a.weightData!).slice();
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  assert.ok(modelJSON!.weightsManifest[0].weights.some((w) => w.group === 'optimizer'), 'TF.js saved optimizer slots too (skipped by tscnn)');
  const loaded = await loadModel({ modelJSON: modelJSON!, weights: weights! });
  const expected = (m.predict(xt) as tf.Tensor).dataSync();
  const actual = ((await loaded.predict(t4(xv, [n, side, side, 3]))) as Tensor).values;
  assertClose(actual, expected, { rtol: 1e-4, atol: 1e-6 }, 'tscnn predictions of the TF.js model');
  assert.equal(loaded.layers.map((l) => l.className), ['Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense', 'BatchNormalization', 'Dense']);
  assert.equal(loaded.optimizer?.getConfig(), { learningRate: 0.02, momentum: 0.9, nesterov: false });
  assert.is(loaded.loss?.name, 'binaryCrossentropy');
  assert.equal(loaded.metrics.map((x) => x.name), ['accuracy']);
  // Ready for fit, and it saves again under the TF.js layer names.
  const history = await loaded.fit(t4(xv, [n, side, side, 3]), t4(yt.dataSync() as Float32Array, [n, 1]), { epochs: 1, batchSize: 4, verbose: 0 });
  assert.ok(Number.isFinite(history.history.loss[0]));
  const again = await loadModel(toMemory(loaded));
  assert.equal(again.layers.map((l) => l.name), m.layers.map((l) => l.name));
  tf.dispose([xt, yt]);
  m.dispose();
});

test('every activation and initializer tscnn writes reads back in tscnn, and in TF.js except leaky_relu', async () => {
  const inits = ['zeros', 'ones', 'glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'lecunUniform', 'lecunNormal', 'randomUniform', 'randomNormal'] as const;
  const acts = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'hardSigmoid', 'leakyRelu'] as const;
  const xv = randomArray(2 * 4, 51, -2, 2);
  const xt = tf.tensor2d(xv, [2, 4]);
  for (const [i, activation] of acts.entries()) {
    const m = new Sequential();
    m.add(new layers.Dense({ units: 3, activation, kernelInitializer: inits[i % inits.length], biasInitializer: inits[(i + 3) % inits.length], inputShape: [4] }));
    const mem = toMemory(m);
    const back = await loadModel(mem);
    assert.equal(back.layers[0].getConfig(), m.layers[0].getConfig(), `${activation} config`);
    const expected = (await m.predict(t4(xv, [2, 4]))).values;
    assertIdentical(((await back.predict(t4(xv, [2, 4]))) as Tensor).values, expected, `${activation} tscnn`);
    const io = tf.io.fromMemory({ modelTopology: mem.modelJSON.modelTopology, weightSpecs: mem.modelJSON.weightsManifest[0].weights, weightData: mem.weights });
    if (activation === 'leakyRelu') {
      // Keras' 'leaky_relu' activation string; TF.js only has a LeakyReLU layer.
      assert.is((mem.modelJSON.modelTopology as { config: { layers: { config: { activation: string } }[] } }).config.layers[0].config.activation, 'leaky_relu');
      await rejects(tf.loadLayersModel(io), /Unknown activation: leakyRelu/, 'TF.js on leaky_relu');
      continue;
    }
    const tfModel = await tf.loadLayersModel(io);
    const out = tfModel.predict(xt) as tf.Tensor;
    assertClose(out.dataSync(), expected, { rtol: 1e-5, atol: 1e-6 }, `${activation} in TF.js`);
    out.dispose();
    tfModel.dispose();
  }
  xt.dispose();
});

/** A small valid save to corrupt. */
async function smallSaved(): Promise<{ dir: string; json: ModelJSON; bin: Buffer }> {
  const m = new Sequential();
  m.add(new layers.Conv2D({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] }));
  m.add(new layers.Flatten());
  m.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
  const dir = freshDir();
  await saveModel(m, dir);
  return { dir, json: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJSON, bin: readFileSync(join(dir, 'weights.bin')) };
}

/** Writes a corrupted copy of a save and expects loadModel to reject it with a matching message. */
async function expectBad(what: string, edit: (json: ModelJSON, bin: Buffer) => { json?: ModelJSON | string; bin?: Buffer }, pattern: RegExp): Promise<void> {
  const { json, bin } = await smallSaved();
  const out = edit(json, bin);
  const dir = freshDir();
  mkdirSync(dir);
  const j = out.json ?? json;
  writeFileSync(join(dir, 'model.json'), typeof j === 'string' ? j : JSON.stringify(j));
  writeFileSync(join(dir, 'weights.bin'), out.bin ?? bin);
  await rejects(loadModel(dir), pattern, what);
}

const layerCfg = (json: ModelJSON, i: number): Record<string, unknown> =>
  (json.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[i].config;
const layerList = (json: ModelJSON): { class_name: string; config: Record<string, unknown> }[] =>
  (json.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;

test('bad files: each problem gets an error naming the file (and the layer, option or weight)', async () => {
  await expectBad('bad JSON', () => ({ json: '{"modelTopology": {' }), /model\.json: not valid JSON/);
  await expectBad('truncated weights', (_, bin) => ({ bin: bin.subarray(0, bin.length - 4) }), /weights\.bin: \d+ bytes, but the manifest in .*model\.json describes \d+ bytes/);
  await expectBad('too long weights', (_, bin) => ({ bin: Buffer.concat([bin, Buffer.alloc(4)]) }), /weights\.bin: \d+ bytes/);
  await expectBad('missing weight in manifest', (j) => {
    j.weightsManifest[0].weights = j.weightsManifest[0].weights.filter((w) => !w.name.endsWith('/bias') || !w.name.startsWith('dense'));
    return { json: j, bin: Buffer.alloc(j.weightsManifest[0].weights.reduce((a, w) => a + 4 * w.shape.reduce((p, d) => p * d, 1), 0)) };
  }, /model\.json: the manifest has no weight 'dense[^']*\/bias'/);
  await expectBad('extra weight in manifest', (j, bin) => {
    j.weightsManifest[0].weights.push({ name: 'ghost/kernel', shape: [1], dtype: 'float32' });
    return { json: j, bin: Buffer.concat([bin, Buffer.alloc(4)]) };
  }, /model\.json: the manifest lists weights no layer of the topology has: ghost\/kernel/);
  await expectBad('shape mismatch', (j) => {
    j.weightsManifest[0].weights[0].shape = [3, 3, 2, 1];
    return { json: j };
  }, /model\.json: weight '[^']*\/kernel' has shape \[3, 3, 2, 1\] in the manifest, the topology needs \[3, 3, 1, 2\]/);
  await expectBad('int32 weight', (j) => {
    j.weightsManifest[0].weights[1].dtype = 'int32';
    return { json: j };
  }, /model\.json: weight '[^']*\/bias' is int32; only unquantized float32/);
  await expectBad('quantized weight', (j, bin) => {
    j.weightsManifest[0].weights[1].quantization = { dtype: 'uint8', scale: 1, min: 0 };
    return { json: j, bin: bin.subarray(0, bin.length - 2 * 3) };
  }, /quantized to uint8/);
  await expectBad('unsupported layer type', (j) => {
    layerList(j).splice(1, 0, { class_name: 'LSTM', config: { name: 'lstm', units: 4 } });
    return { json: j };
  }, /model\.json: layer 1 \(LSTM 'lstm'\): unsupported layer type LSTM/);
  await expectBad('unsupported option', (j) => {
    layerCfg(j, 2).activity_regularizer = { class_name: 'L2', config: { l2: 0.01 } };
    return { json: j };
  }, /model\.json: layer 2 \(Dense '[^']+'\): unsupported option activityRegularizer = \{"class_name":"L2"/);
  await expectBad('unknown option', (j) => {
    layerCfg(j, 0).frobnicate = 3;
    return { json: j };
  }, /layer 0 \(Conv2D '[^']+'\): unsupported option frobnicate = 3/);
  await expectBad('unsupported activation', (j) => {
    layerCfg(j, 2).activation = 'gelu';
    return { json: j };
  }, /layer 2 \(Dense '[^']+'\): unsupported option activation = 'gelu'/);
  await expectBad('unsupported initializer', (j) => {
    layerCfg(j, 0).kernel_initializer = { class_name: 'Orthogonal', config: { gain: 1 } };
    return { json: j };
  }, /layer 0 \(Conv2D '[^']+'\): unsupported option kernelInitializer = \{"class_name":"Orthogonal"/);
  await expectBad('channels_first', (j) => {
    layerCfg(j, 0).data_format = 'channels_first';
    return { json: j };
  }, /unsupported option dataFormat = "channels_first"/);
  await expectBad('topology that does not fit together', (j) => {
    layerList(j).splice(2, 0, { class_name: 'MaxPooling2D', config: { name: 'pool_after_flatten', pool_size: [2, 2] } });
    return { json: j };
  }, /model\.json: .*MaxPooling2D 'pool_after_flatten'/);
  await expectBad('functional topology without its graph', (j) => {
    (j.modelTopology as { class_name: string }).class_name = 'Model';
    return { json: j };
  }, /model\.json: the functional topology has no input_layers/);
  await expectBad('unknown topology class', (j) => {
    (j.modelTopology as { class_name: string }).class_name = 'Subclassed';
    return { json: j };
  }, /model\.json: only Sequential and functional \(Functional, Model\) topologies can be loaded, this one is a "Subclassed"/);
  await expectBad('graph model', (j) => ({ json: { ...j, format: 'graph-model' } }), /model\.json: format 'graph-model' is not a layers model/);
  await expectBad('no manifest', (j) => ({ json: { modelTopology: j.modelTopology } as ModelJSON }), /model\.json: weightsManifest is missing/);
  await expectBad('NaN weights', (_, bin) => {
    const b = Buffer.from(bin);
    b.writeFloatLE(NaN, 0);
    return { bin: b };
  }, /weights\.bin: .*NaN/);
  await expectBad('weight path escaping the directory', (j) => {
    j.weightsManifest[0].paths = ['../../etc/passwd'];
    return { json: j };
  }, /points outside/);

  const { dir } = await smallSaved();
  rmSync(join(dir, 'weights.bin'));
  await rejects(loadModel(dir), /weights\.bin: cannot read \(ENOENT\), listed in .*model\.json/, 'missing weights file');
  await rejects(loadModel(join(root, 'nowhere')), /nowhere\/model\.json: cannot read \(ENOENT\)/, 'missing model.json');
  const mem = toMemory((await loadModel((await smallSaved()).dir)));
  await rejects(loadModel({ modelJSON: mem.modelJSON, weights: mem.weights.slice(0, 8) }), /loadModel: weights: 8 bytes, but the manifest in modelJSON describes/, 'in-memory truncation');
  await rejects(loadModel({ modelJSON: '{oops', weights: mem.weights }), /loadModel: modelJSON: not valid JSON/, 'in-memory bad JSON');
});

test('reads TF.js/Keras variants: InputLayer, list-form config, model_config wrapper, VarianceScaling, snake_case optimizer', async () => {
  const { json, bin } = await smallSaved();
  const ls = layerList(json);
  const first = ls[0].config;
  const shape = first.batch_input_shape;
  delete first.batch_input_shape;
  first.kernel_initializer = { class_name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed: null } };
  const keras: ModelJSON = {
    modelTopology: { model_config: { class_name: 'Sequential', config: [{ class_name: 'InputLayer', config: { batch_input_shape: shape, dtype: 'float32', sparse: false, name: 'input_1' } }, ...ls] } },
    weightsManifest: json.weightsManifest,
    trainingConfig: { loss: 'binary_crossentropy', metrics: ['acc'], optimizer_config: { class_name: 'SGD', config: { name: 'SGD', learning_rate: 0.03, momentum: 0.2, nesterov: false, decay: 0 } } },
  };
  const loaded = await loadModel({ modelJSON: keras, weights: bin });
  assert.equal(loaded.inputShape, [5, 5, 1]);
  assert.is(loaded.layers[0].getConfig().kernelInitializer, 'heNormal');
  assert.equal(loaded.optimizer?.getConfig(), { learningRate: 0.03, momentum: 0.2, nesterov: false });
  assert.equal(loaded.metrics.map((m) => m.name), ['acc']);
});

test('a training config tscnn does not understand loads the model uncompiled, with a warning', async () => {
  const { json, bin } = await smallSaved();
  json.trainingConfig = { loss: 'poisson', optimizer_config: { class_name: 'Adagrad', config: {} } };
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (msg: string) => warnings.push(msg);
  try {
    const loaded = await loadModel({ modelJSON: json, weights: bin });
    assert.is(loaded.optimizer, null);
    assert.is(warnings.length, 1);
    assert.match(warnings[0], /modelJSON: the training config is not understood \(.*poisson/);
  } finally {
    console.warn = warn;
  }
});

test.run();
