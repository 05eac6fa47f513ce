// Parity with TensorFlow.js 4.22 (tf.model, 'cpu' backend) for a functional model of the
// element-wise merges Maximum (3 inputs), Minimum, Multiply and Average over Conv2D branches, then
// GlobalAveragePooling2D and a softmax Dense: as test/tfjs-parity-functional.test.ts, layer order,
// predictions, the losses of three SGD-momentum steps and every weight after them; then tscnn →
// tf.loadLayersModel and TF.js' own save → tscnn's loadModel. (TF.js has no Subtract layer:
// test/merge-layers.test.ts checks it by hand and by gradient.)
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { input, layers, Model, setSeed, type Tensor } from '../src/index.js';
import { assertClose } from './helpers.js';
import { checkGraphPair, pairBatch, sameWeights, SHAPE, tscnnLoads } from './tfjs-graph-pair.js';
import { FORWARD } from './tfjs-pair.js';

tf.enableProdMode();
await tf.setBackend('cpu');

/** x → conv_a, conv_b, conv_c(1×1, tanh); maximum(a, b, c) · c, minimum(a, b), a → average → gap → dense(softmax). */
function ours(): Model {
  const x = input({ shape: SHAPE, name: 'x' });
  const a = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(x);
  const b = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(x);
  const c = new layers.Conv2D({ filters: 4, kernelSize: 1, activation: 'tanh', name: 'conv_c' }).apply(x);
  const mx = new layers.Maximum({ name: 'maximum' }).apply([a, b, c]);
  const mn = new layers.Minimum({ name: 'minimum' }).apply([a, b]);
  const mul = new layers.Multiply({ name: 'multiply' }).apply([mx, c]);
  const avg = new layers.Average({ name: 'average' }).apply([mul, mn, a]);
  const g = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(avg);
  const y = new layers.Dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(g);
  return new Model({ inputs: x, outputs: y, name: 'merges' });
}

function theirs(): tf.LayersModel {
  const x = tf.input({ shape: SHAPE, name: 'x' });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(x) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv_b' }).apply(x) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'tanh', name: 'conv_c' }).apply(x) as tf.SymbolicTensor;
  const mx = tf.layers.maximum({ name: 'maximum' }).apply([a, b, c]) as tf.SymbolicTensor;
  const mn = tf.layers.minimum({ name: 'minimum' }).apply([a, b]) as tf.SymbolicTensor;
  const mul = tf.layers.multiply({ name: 'multiply' }).apply([mx, c]) as tf.SymbolicTensor;
  const avg = tf.layers.average({ name: 'average' }).apply([mul, mn, a]) as tf.SymbolicTensor;
  const g = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(avg) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(g) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'merges' });
}

test('functional model of Maximum, Minimum, Multiply, Average: layer order, predictions, three SGD-momentum steps (losses, every weight) match tfjs; tscnn → tf.loadLayersModel', async () => {
  setSeed(31);
  const m = ours();
  const t = theirs();
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name), 'model.layers order');
  sameWeights(m, t, 5);
  const { x, y, tx, ty } = pairBatch();
  await checkGraphPair(m, t, x, y, tx, ty);
  tf.dispose([tx, ty]);
});

test('TF.js saves the merge model → tscnn loadModel predicts the same, keeps the graph and trainable flags', async () => {
  const t = theirs();
  t.getLayer('conv_b').trainable = false;
  const { model: m, topology } = await tscnnLoads(t);
  assert.ok(m instanceof Model, `a ${topology.class_name} topology loads as a functional Model`);
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name));
  assert.is(m.getLayer('conv_b').trainable, false);
  assert.match(m.summary({ print: false }), /average \(Average\)\s+\(None, 8, 8, 4\)\s+0\s+multiply\[0\]\[0\]\n\s+minimum\[0\]\[0\]\n\s+conv_a\[0\]\[0\]/);
  const { x, tx } = pairBatch();
  assertClose(((await m.predict(x)) as Tensor).values, (t.predict(tx) as tf.Tensor).dataSync(), FORWARD, 'tscnn predictions of the TF.js save');
  tf.dispose(tx);
});

test.run();
