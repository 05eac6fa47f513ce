// Parity with TensorFlow.js 4.22 (tf.model, 'cpu' backend) for a functional model mixing a
// residual Add, Concatenate, Conv2D, BatchNormalization, MaxPooling2D, AveragePooling2D,
// GlobalAveragePooling2D and a softmax Dense: layer order, predictions, the losses of three
// SGD-momentum steps and every weight after them; then tscnn → tf.loadLayersModel and
// TF.js' own save → tscnn's loadModel, each predicting the same.
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { input, layers, Model, setSeed, type Tensor } from '../src/index.js';
import { assertClose } from './helpers.js';
import { checkGraphPair, pairBatch, sameWeights, SHAPE, tscnnLoads } from './tfjs-graph-pair.js';
import { FORWARD } from './tfjs-pair.js';

tf.enableProdMode();
await tf.setBackend('cpu');

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

test('functional model: layer order, predictions, three SGD-momentum steps (losses, every weight) match tfjs; tscnn → tf.loadLayersModel', async () => {
  setSeed(31);
  const m = ours();
  const t = theirs();
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name), 'model.layers order');
  sameWeights(m, t, 5);
  const { x, y, tx, ty } = pairBatch();
  await checkGraphPair(m, t, x, y, tx, ty);
  tf.dispose([tx, ty]);
});

test('TF.js saves a functional model → tscnn loadModel predicts the same, keeps the graph and trainable flags', async () => {
  const t = theirs();
  t.getLayer('conv_a').trainable = false;
  const { model: m, topology } = await tscnnLoads(t);
  assert.ok(m instanceof Model, `a ${topology.class_name} topology loads as a functional Model`);
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name));
  assert.is(m.getLayer('conv_a').trainable, false);
  assert.match(m.summary({ print: false }), /concat \(Concatenate\)\s+\(None, 4, 4, 7\)\s+0\s+conv_c\[0\]\[0\]\n\s+avg_pool\[0\]\[0\]/);
  const { x, tx } = pairBatch();
  assertClose(((await m.predict(x)) as Tensor).values, (t.predict(tx) as tf.Tensor).dataSync(), FORWARD, 'tscnn predictions of the TF.js save');
  tf.dispose(tx);
});

test.run();
