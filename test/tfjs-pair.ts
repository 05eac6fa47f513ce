// One parity check of a tscnn Sequential against the same tf.Sequential (TF.js 4.22, 'cpu'
// backend), shared by the tfjs-parity-*.test.ts files: predictions, the losses of three
// SGD-momentum steps and every weight after them, then the model saved by tscnn and loaded by
// tf.loadLayersModel, which must predict the same.
import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';
import { toMemory } from '../src/io/index.js';
import { optimizers, setSeed, tensor, type Sequential, type Tensor } from '../src/index.js';
import { assertClose, rng, type Tolerance } from './helpers.js';

/** As test/tfjs-parity.test.ts: float32 on both sides, sums in different orders. */
export const FORWARD: Tolerance = { atol: 1e-5, rtol: 1e-4 };
/** As test/tfjs-parity.test.ts: the weight changes, which isolate the gradients. */
export const UPDATE: Tolerance = { atol: 2.5e-7, rtol: 1e-3 };

/** The same model in tscnn and TF.js. */
export interface Pair {
  ours: Sequential;
  theirs: tf.Sequential;
}

/** tscnn's weights, biases made non-zero, copied into the tf model layer by layer (Keras order in both). */
export function syncWeights({ ours, theirs }: Pair, seed: number): void {
  const r = rng(seed);
  const names = ours.params().map((p) => p.name);
  ours.setWeights(ours.getWeights().map((w, i) => (names[i].endsWith('/bias') ? tensor(Float32Array.from(w.values, () => 0.2 * (2 * r() - 1)), [...w.shape]) : w)));
  ours.layers.forEach((layer, i) => {
    const params = layer.params();
    assert.is(theirs.layers[i].weights.length, params.length, `layer ${i} weight count`);
    if (params.length) theirs.layers[i].setWeights(params.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  });
}

/**
 * The parity check of `pair` on a batch of `batch` random inputs of `shape` with 3 one-hot classes:
 * predictions, then (when `train`) three SGD-momentum steps, then tscnn's save loaded by TF.js.
 * Returns the tscnn model for further checks.
 */
export async function checkPair(name: string, pair: Pair, shape: readonly number[], batch: number, train: boolean): Promise<Sequential> {
  setSeed(31);
  const { ours, theirs } = pair;
  syncWeights(pair, 5);
  const r = rng(17);
  const xValues = Float32Array.from({ length: batch * shape.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1);
  const yValues = new Float32Array(batch * 3);
  for (let i = 0; i < batch; i++) yValues[i * 3 + (i % 3)] = 1;
  const x = tensor(xValues, [batch, ...shape] as [number, number, number, number]);
  const y = tensor(yValues, [batch, 3]);
  const tx = tf.tensor(xValues, [batch, ...shape]);
  const ty = tf.tensor2d(yValues, [batch, 3]);

  const p0 = (await ours.predict(x)).values;
  assertClose(p0, (theirs.predict(tx) as tf.Tensor).dataSync(), FORWARD, `${name}: predictions`);
  assert.ok(Math.max(...p0) - Math.min(...p0) > 1e-3, 'predictions differ (a real check)');

  if (train) await trainBoth(name, pair, x, y, tx, ty);

  // tscnn → TF.js: the saved topology and weights, read by TF.js' own loader.
  const { modelJSON, weights } = toMemory(ours);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJSON.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: modelJSON.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: weights,
  }));
  assert.equal(loaded.layers.map((l) => l.getClassName()), ours.layers.map((l) => l.className));
  assertClose((loaded.predict(tx) as tf.Tensor).dataSync(), (await ours.predict(x)).values, FORWARD, `${name}: TF.js predictions of the saved model`);
  tf.dispose([tx, ty]);
  loaded.dispose();
  theirs.layers.forEach((l) => l.dispose());
  return ours;
}

/** Three SGD-momentum steps on both sides: each step's loss, then every weight and its change. */
export async function trainBoth(name: string, { ours, theirs }: Pair, x: Tensor, y: Tensor, tx: tf.Tensor, ty: tf.Tensor): Promise<void> {
  const w0 = ours.getWeights().map((w) => w.values.slice());
  ours.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'categoricalCrossentropy' });
  theirs.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  for (let step = 1; step <= 3; step++) {
    const lossOurs = (await ours.trainOnBatch(x, y)).loss;
    const lossTheirs = (await theirs.trainOnBatch(tx, ty)) as number;
    assertClose([lossOurs], [lossTheirs], FORWARD, `${name}: loss at step ${step}`);
  }
  const after = ours.getWeights().map((w) => w.values);
  const tfAfter = theirs.layers.flatMap((l) => l.weights.map((w) => ({ name: w.name, values: w.read().dataSync() })));
  assert.is(tfAfter.length, after.length, 'weight count');
  for (let i = 0; i < after.length; i++) {
    assertClose(after[i], tfAfter[i].values, FORWARD, `${name}: ${tfAfter[i].name} after 3 steps`);
    const dOurs = after[i].map((v, k) => v - w0[i][k]);
    assert.ok(dOurs.some((d) => d !== 0), `${name}: ${tfAfter[i].name} was updated`);
    assertClose(dOurs, tfAfter[i].values.map((v, k) => v - w0[i][k]), UPDATE, `${name}: update of ${tfAfter[i].name}`);
  }
}

