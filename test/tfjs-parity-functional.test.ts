// Parity with TensorFlow.js 4.22 (tf.model, 'cpu' backend) for a functional model mixing a
// residual Add, Concatenate, Conv2D, BatchNormalization, MaxPooling2D, AveragePooling2D,
// GlobalAveragePooling2D and a softmax Dense: layer order, predictions, the losses of three
// SGD-momentum steps and every weight after them; then tscnn → tf.loadLayersModel and
// TF.js' own save → tscnn's loadModel, each predicting the same.
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { input, layers, loadModel, Model, optimizers, setSeed, tensor, toMemory, type Tensor } from '../src/index.js';
import type { ModelJSON } from '../src/io/index.js';
import { assertClose, rng, type Tolerance } from './helpers.js';

tf.enableProdMode();
await tf.setBackend('cpu');

/** As test/tfjs-parity.test.ts: float32 on both sides, sums in different orders. */
const FORWARD: Tolerance = { atol: 1e-5, rtol: 1e-4 };
/** As test/tfjs-parity.test.ts: the weight changes, which isolate the gradients. */
const UPDATE: Tolerance = { atol: 2.5e-7, rtol: 1e-3 };

const SHAPE: [number, number, number] = [8, 8, 3];
const BATCH = 4;

/**
 * x → conv_a(relu) → bn → conv_b ─┐
 *          └──────────────────── add → max_pool → conv_c(1×1) ─┐
 *                                           └─────── avg_pool(1) → concat → gap → dense(softmax)
 */
function ours(): Model {
  const x = input({ shape: SHAPE, name: 'x' });
  const a = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }).apply(x);
  const n = new layers.BatchNormalization({ name: 'bn' }).apply(a);
  const b = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(n);
  const sum = new layers.Add({ name: 'add' }).apply([b, a]);
  const p = new layers.MaxPooling2D({ poolSize: 2, name: 'max_pool' }).apply(sum);
  const c = new layers.Conv2D({ filters: 3, kernelSize: 1, activation: 'tanh', name: 'conv_c' }).apply(p);
  const q = new layers.AveragePooling2D({ poolSize: 1, name: 'avg_pool' }).apply(p);
  const cat = new layers.Concatenate({ name: 'concat' }).apply([c, q]);
  const g = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(cat);
  const y = new layers.Dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(g);
  return new Model({ inputs: x, outputs: y, name: 'mixed' });
}

function theirs(): tf.LayersModel {
  const x = tf.input({ shape: SHAPE, name: 'x' });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_a' }).apply(x) as tf.SymbolicTensor;
  const n = tf.layers.batchNormalization({ name: 'bn' }).apply(a) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(n) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([b, a]) as tf.SymbolicTensor;
  const p = tf.layers.maxPooling2d({ poolSize: 2, name: 'max_pool' }).apply(sum) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'tanh', name: 'conv_c' }).apply(p) as tf.SymbolicTensor;
  const q = tf.layers.averagePooling2d({ poolSize: 1, name: 'avg_pool' }).apply(p) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'concat' }).apply([c, q]) as tf.SymbolicTensor;
  const g = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(g) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'mixed' });
}

function data(): { x: ReturnType<typeof tensor>; y: ReturnType<typeof tensor>; tx: tf.Tensor; ty: tf.Tensor } {
  const r = rng(17);
  const xValues = Float32Array.from({ length: BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => 2 * r() - 1);
  const yValues = new Float32Array(BATCH * 3);
  for (let i = 0; i < BATCH; i++) yValues[i * 3 + (i % 3)] = 1;
  return { x: tensor(xValues, [BATCH, ...SHAPE]), y: tensor(yValues, [BATCH, 3]), tx: tf.tensor4d(xValues, [BATCH, ...SHAPE]), ty: tf.tensor2d(yValues, [BATCH, 3]) };
}

test('functional model: layer order, predictions, three SGD-momentum steps (losses, every weight) match tfjs; tscnn → tf.loadLayersModel', async () => {
  setSeed(31);
  const m = ours();
  const t = theirs();
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name), 'model.layers order');
  const r = rng(5);
  // Non-zero biases and BN statistics away from 0 / 1, so every term is exercised.
  m.setWeights(m.getWeights().map((w, i) => (/bias|beta|moving_mean/.test(m.params()[i].name) ? tensor(Float32Array.from(w.values, () => 0.2 * (2 * r() - 1)), [...w.shape]) : /moving_variance/.test(m.params()[i].name) ? tensor(Float32Array.from(w.values, () => 0.5 + r()), [...w.shape]) : w)));
  for (const layer of m.layers) {
    const params = layer.params();
    if (params.length) t.getLayer(layer.name).setWeights(params.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  }
  const { x, y, tx, ty } = data();
  const p0 = ((await m.predict(x)) as Tensor).values;
  assertClose(p0, (t.predict(tx) as tf.Tensor).dataSync(), FORWARD, 'predictions');
  assert.ok(Math.max(...p0) - Math.min(...p0) > 1e-3, 'predictions differ (a real check)');

  const w0 = m.getWeights().map((w) => w.values.slice());
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'categoricalCrossentropy' });
  t.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  for (let step = 1; step <= 3; step++) {
    const lossOurs = (await m.trainOnBatch(x, y)).loss;
    const lossTheirs = (await t.trainOnBatch(tx, ty)) as number;
    assertClose([lossOurs], [lossTheirs], FORWARD, `loss at step ${step}`);
  }
  const after = m.getWeights().map((w) => w.values);
  m.params().forEach((p, i) => {
    const [layerName, weightName] = p.name.split('/');
    const tw = t.getLayer(layerName).weights.find((w) => w.name.split('/').pop()!.replace(/_\d+$/, '') === weightName)!;
    const theirsAfter = tw.read().dataSync() as Float32Array;
    assertClose(after[i], theirsAfter, FORWARD, `${p.name} after 3 steps`);
    if (!p.trainable) return;
    const dOurs = after[i].map((v, k) => v - w0[i][k]);
    assert.ok(dOurs.some((d) => d !== 0), `${p.name} was updated`);
    assertClose(dOurs, theirsAfter.map((v, k) => v - w0[i][k]), UPDATE, `update of ${p.name}`);
  });

  const { modelJSON, weights } = toMemory(m);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJSON.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: modelJSON.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: weights,
  }));
  assert.equal(loaded.layers.map((l) => l.name), m.layers.map((l) => l.name));
  assert.equal(loaded.layers.map((l) => l.getClassName()), m.layers.map((l) => l.className));
  assertClose((loaded.predict(tx) as tf.Tensor).dataSync(), ((await m.predict(x)) as Tensor).values, FORWARD, 'TF.js predictions of the saved model');
  tf.dispose([tx, ty]);
  loaded.dispose();
});

test('TF.js saves a functional model → tscnn loadModel predicts the same, keeps the graph and trainable flags', async () => {
  const t = theirs();
  t.getLayer('conv_a').trainable = false;
  let artifacts: tf.io.ModelArtifacts | null = null;
  await t.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts! as tf.io.ModelArtifacts;
  const modelJSON = { modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }], format: 'layers-model' } as unknown as ModelJSON;
  const m = await loadModel({ modelJSON, weights: a.weightData as ArrayBuffer });
  assert.ok(m instanceof Model, `a ${(a.modelTopology as { class_name: string }).class_name} topology loads as a functional Model`);
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name));
  assert.is(m.getLayer('conv_a').trainable, false);
  assert.match(m.summary({ print: false }), /concat \(Concatenate\)\s+\(None, 4, 4, 7\)\s+0\s+conv_c\[0\]\[0\]\n\s+avg_pool\[0\]\[0\]/);
  const { x, tx } = data();
  assertClose(((await m.predict(x)) as Tensor).values, (t.predict(tx) as tf.Tensor).dataSync(), FORWARD, 'tscnn predictions of the TF.js save');
  tf.dispose(tx);
});

test.run();
