// Parity with TensorFlow.js 4.22 (tf.layers on its pure-JS 'cpu' backend): the same model with
// the same weights and inputs must give the same predictions, loss, updated weights (which
// checks every gradient) and BatchNormalization moving statistics as tscnn.
//
// Input size: the seed model is 100×100×3, but one tfjs training step on it takes ~30 s at
// batch 2 (tfjs' CPU Conv2DBackpropFilter is a naive loop), so the tests use the same layer
// stack on 36×36×3 (spatial 36→18→9→4→2, Flatten 512 instead of 4608; the 9→4 pooling still
// drops an odd row/column as 25→12 does in the seed). One tfjs step there takes ~3 s.
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layers, optimizers, Sequential, setSeed, tensor, type Tensor } from '../src/index.js';
import { buildUserModel, buildUserModelTfjs } from '../examples/lib/user-model.js';
import { assertClose, rng, type Tolerance } from './helpers.js';

// tfjs' CPU backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner on
// first use; production mode only silences warnings.
tf.enableProdMode();
await tf.setBackend('cpu');

/**
 * Forward tolerance. Both sides compute in float32 but sum in different orders (tscnn: im2col +
 * blocked GEMM; tfjs: direct loops), so agreement is to a few float32 ulps per accumulation.
 */
const FORWARD: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/**
 * Tolerance of the weight changes w_after − w_before, which isolate the gradients. Looser than
 * FORWARD in rtol because the gradients flow back through up to 17 layers of float32 sums taken
 * in different orders; atol is two float32 ulps of a weight of magnitude up to 2 (ulp(1.3) =
 * 1.2e-7): each side stores its weights in float32, so a change of 1e-5 on a weight of 1.3 can
 * only be known to that. Measured worst case: 0.4 of this tolerance (seed model), 0.04 (Adam).
 */
const UPDATE: Tolerance = { atol: 2.5e-7, rtol: 1e-3 };

const SIZE = 36;
const BATCH = 4;

type Spec = { seedShape: [number, number, number] };

/** The seed model (Dropout rate 0) in tscnn. */
function tscnnSeedModel({ seedShape }: Spec): Sequential {
  return buildUserModel(seedShape[0], { inputShape: seedShape, dropoutRate: 0 });
}

/** The same model in tf.layers. */
function tfSeedModel({ seedShape }: Spec): tf.Sequential {
  return buildUserModelTfjs(tf, seedShape[0], { inputShape: seedShape, dropoutRate: 0 });
}

/**
 * Copies tscnn's weights into the tf model layer by layer. The model-level order differs:
 * tf's `model.getWeights()` lists every trainable weight first and the BatchNormalization moving
 * statistics last, while tscnn (like Keras) keeps them per layer. Per layer both use Keras' order
 * (kernel, bias; gamma, beta, moving_mean, moving_variance), which the names confirm here.
 */
function copyWeights(from: Sequential, to: tf.Sequential): void {
  assert.is(to.layers.length, from.layers.length, 'layer count');
  from.layers.forEach((layer, i) => {
    const params = layer.params();
    const target = to.layers[i];
    assert.is(target.weights.length, params.length, `layer ${i} (${layer.name}) weight count`);
    target.weights.forEach((w, j) => {
      const kind = params[j].name.split('/').pop()!;
      assert.ok(w.name.endsWith(`/${kind}`), `layer ${i}: tf weight ${w.name} vs tscnn ${params[j].name}`);
      assert.equal(w.shape, [...params[j].shape], `layer ${i}: shape of ${w.name}`);
    });
    // Copies: tfjs' CPU backend keeps the very array it is given, and tscnn updates its weights
    // in place, so sharing would let tscnn's steps move tf's weights too.
    if (params.length) target.setWeights(params.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  });
}

/** tf's weights in tscnn's (per-layer Keras) order, as flat arrays with names. */
function tfWeights(model: tf.Sequential): { name: string; values: Float32Array }[] {
  return model.layers.flatMap((l) => l.weights.map((w) => ({ name: w.name, values: Float32Array.from(w.read().dataSync()) })));
}

/**
 * Perturbs the default initial weights so every path is exercised: non-zero biases and betas,
 * gammas away from 1, moving statistics away from (0, 1) so inference differs from training.
 */
function randomizeWeights(model: Sequential, seed: number): void {
  const r = rng(seed);
  const weights = model.getWeights().map((w, i) => {
    const kind = model.params()[i].name.split('/').pop();
    const v = w.values.slice();
    for (let k = 0; k < v.length; k++) {
      if (kind === 'bias' || kind === 'beta') v[k] = 0.1 * (2 * r() - 1);
      else if (kind === 'gamma') v[k] = 0.5 + r();
      else if (kind === 'moving_mean') v[k] = 0.2 * (2 * r() - 1);
      else if (kind === 'moving_variance') v[k] = 0.5 + r();
    }
    return tensor(v, [...w.shape]) as Tensor;
  });
  model.setWeights(weights);
}

function inputs(n: number, shape: number[], seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => r());
}

test(`seed model on ${SIZE}×${SIZE}×3 (Flatten 512): predictions, loss, two SGD-momentum steps and BN moving stats match tfjs`, async () => {
  const spec: Spec = { seedShape: [SIZE, SIZE, 3] };
  setSeed(2024);
  const ours = tscnnSeedModel(spec);
  randomizeWeights(ours, 7);
  const theirs = tfSeedModel(spec);
  copyWeights(ours, theirs);
  const w0 = ours.getWeights().map((w) => w.values);

  const xValues = inputs(BATCH, spec.seedShape, 11);
  const yValues = Float32Array.from({ length: BATCH }, (_, i) => i % 2);
  const x = tensor(xValues, [BATCH, SIZE, SIZE, 3]);
  const y = tensor(yValues, [BATCH, 1]);
  const tx = tf.tensor4d(xValues, [BATCH, SIZE, SIZE, 3]);
  const ty = tf.tensor2d(yValues, [BATCH, 1]);

  // Inference mode (BN uses the randomized moving statistics).
  const pOurs = (await ours.predict(x)).values;
  const pTheirs = (theirs.predict(tx) as tf.Tensor).dataSync();
  assertClose(pOurs, pTheirs, FORWARD, 'predictions (inference)');
  // The outputs must not be saturated, or the comparison would say little.
  assert.ok(pOurs.every((p) => p > 0.01 && p < 0.99), `predictions are saturated: ${[...pOurs]}`);

  const lr = 0.01;
  const momentum = 0.9;
  ours.compile({ optimizer: new optimizers.SGD({ learningRate: lr, momentum }), loss: 'binaryCrossentropy' });
  // tf.train.momentum: v = m·v + g; w −= lr·v. With a constant lr this is Keras' v' = m·v' − lr·g;
  // w += v' (v' = −lr·v), so both take the same steps.
  theirs.compile({ optimizer: tf.train.momentum(lr, momentum), loss: 'binaryCrossentropy' });
  for (let step = 0; step < 2; step++) {
    const lossOurs = (await ours.trainOnBatch(x, y)).loss;
    const lossTheirs = (await theirs.trainOnBatch(tx, ty)) as number;
    // The training-mode loss (batch statistics in both BNs) before this step's update.
    assertClose([lossOurs], [lossTheirs], FORWARD, `loss at step ${step + 1}`);
  }

  const after = ours.getWeights().map((w) => w.values);
  const tfAfter = tfWeights(theirs);
  for (let i = 0; i < after.length; i++) {
    const name = tfAfter[i].name;
    // The weights themselves, to forward-level precision.
    assertClose(after[i], tfAfter[i].values, FORWARD, `weight ${name} after 2 steps`);
    // The change from the start, which isolates the gradients: w2 − w0 = −lr·((1 + m)·g1 + g2)
    // (changes are ~1e-5..1e-3 here, so the FORWARD check above could not see a wrong gradient).
    const dOurs = after[i].map((v, k) => v - w0[i][k]);
    const dTheirs = tfAfter[i].values.map((v, k) => v - w0[i][k]);
    assertClose(dOurs, dTheirs, UPDATE, `update of ${name} (w2 − w0)`);
  }
  // Moving statistics were updated twice from the training batch statistics.
  const moving = tfAfter.map((w, i) => i).filter((i) => /moving_(mean|variance)$/.test(tfAfter[i].name));
  assert.is(moving.length, 4, 'two BatchNormalization layers, two moving statistics each');
  for (const i of moving) assert.ok(after[i].some((v, k) => v !== w0[i][k]), `${tfAfter[i].name} changed`);

  // And inference with the updated weights and moving statistics still agrees.
  assertClose((await ours.predict(x)).values, (theirs.predict(tx) as tf.Tensor).dataSync(), FORWARD, 'predictions after training');
  tf.dispose([tx, ty]);
  theirs.layers.forEach((l) => l.dispose());
});

test('Dense-only model (tanh, softmax, categoricalCrossentropy): four Adam steps match tf.train.adam', async () => {
  const n = 16;
  const features = 6;
  setSeed(99);
  const ours = new Sequential();
  ours.add(new layers.Dense({ units: 12, activation: 'tanh', inputShape: [features] }));
  ours.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  randomizeWeights(ours, 5);
  const theirs = tf.sequential();
  theirs.add(tf.layers.dense({ units: 12, activation: 'tanh', inputShape: [features] }));
  theirs.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  copyWeights(ours, theirs);
  const w0 = ours.getWeights().map((w) => w.values);

  const xValues = inputs(n, [features], 3).map((v) => 4 * v - 2);
  const yValues = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) yValues[i * 3 + (i % 3)] = 1;
  const x = tensor(xValues, [n, features]);
  const y = tensor(yValues, [n, 3]);
  const tx = tf.tensor2d(xValues, [n, features]);
  const ty = tf.tensor2d(yValues, [n, 3]);

  const lr = 0.01;
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-7];
  ours.compile({ optimizer: new optimizers.Adam({ learningRate: lr, beta1, beta2, epsilon }), loss: 'categoricalCrossentropy' });
  const adam = tf.train.adam(lr, beta1, beta2, epsilon);
  theirs.compile({ optimizer: adam, loss: 'categoricalCrossentropy' });
  for (let t = 1; t <= 4; t++) {
    // tfjs adds ε to sqrt(v̂) (bias-corrected); Keras adds it to sqrt(v):
    // lr·sqrt(1−β2ᵗ)/(1−β1ᵗ) · m/(sqrt(v) + ε) = lr · m̂/(sqrt(v̂) + ε/sqrt(1−β2ᵗ)).
    // tfjs reads its epsilon field at every step, so this makes it take Keras' exact step.
    // Without this the weights miss FORWARD by up to 2.8× and the updates UPDATE by 1.2×: the
    // test sees where ε goes.
    (adam as unknown as { epsilon: number }).epsilon = epsilon / Math.sqrt(1 - beta2 ** t);
    const lossOurs = (await ours.trainOnBatch(x, y)).loss;
    const lossTheirs = (await theirs.trainOnBatch(tx, ty)) as number;
    assertClose([lossOurs], [lossTheirs], FORWARD, `loss at step ${t}`);
  }
  const after = ours.getWeights().map((w) => w.values);
  const tfAfter = tfWeights(theirs);
  for (let i = 0; i < after.length; i++) {
    const name = tfAfter[i].name;
    assertClose(after[i], tfAfter[i].values, FORWARD, `weight ${name} after 4 steps`);
    // Adam's steps are ~lr = 1e-2 each whatever the gradient's size, so w4 − w0 is ~1e-2..4e-2
    // and float32 cancellation matters little here.
    const dOurs = after[i].map((v, k) => v - w0[i][k]);
    const dTheirs = tfAfter[i].values.map((v, k) => v - w0[i][k]);
    assertClose(dOurs, dTheirs, UPDATE, `update of ${name} (w4 − w0)`);
  }
  assertClose((await ours.predict(x)).values, (theirs.predict(tx) as tf.Tensor).dataSync(), FORWARD, 'predictions after training');
  tf.dispose([tx, ty]);
  theirs.layers.forEach((l) => l.dispose());
});

test.run();
