// One parity check of a tscnn functional model against the same tf.LayersModel (TF.js 4.22,
// 'cpu' backend), shared by test/tfjs-parity-functional.test.ts and
// test/tfjs-parity-merge.test.ts: the same weights (biases and BatchNormalization statistics
// moved away from their initial values), predictions, the losses of three SGD-momentum steps and
// every weight after them, the model saved by tscnn and loaded by tf.loadLayersModel, and the
// other way round.
import * as tf from '@tensorflow/tfjs';
import * as assert from 'uvu/assert';
import { loadModel, toMemory, type ModelJSON } from '../src/io/index.js';
import { optimizers, tensor, type LayersModel, type Tensor } from '../src/index.js';
import { assertClose, rng } from './helpers.js';
import { FORWARD, UPDATE } from './tfjs-pair.js';

/** The shared image size of the graph parity models and their batch. */
export const SHAPE: [number, number, number] = [8, 8, 3];
export const BATCH = 4;

/** One batch for both sides: uniform inputs in [-1, 1) and one-hot labels over 3 classes (sample i → class i mod 3). */
export function pairBatch(): { x: Tensor; y: Tensor; tx: tf.Tensor; ty: tf.Tensor } {
  const r = rng(17);
  const xValues = Float32Array.from({ length: BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => 2 * r() - 1);
  const yValues = new Float32Array(BATCH * 3);
  for (let i = 0; i < BATCH; i++) yValues[i * 3 + (i % 3)] = 1;
  return { x: tensor(xValues, [BATCH, ...SHAPE]), y: tensor(yValues, [BATCH, 3]), tx: tf.tensor4d(xValues, [BATCH, ...SHAPE]), ty: tf.tensor2d(yValues, [BATCH, 3]) };
}

/** Moves biases (and BatchNormalization's beta and statistics) off their initial values in `m`, then gives `t` the same weights. */
export function sameWeights(m: LayersModel, t: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  const params = m.params();
  m.setWeights(m.getWeights().map((w, i) => {
    const name = params[i].name;
    if (/bias|beta|moving_mean/.test(name)) return tensor(Float32Array.from(w.values, () => 0.2 * (2 * r() - 1)), [...w.shape]);
    if (/moving_variance/.test(name)) return tensor(Float32Array.from(w.values, () => 0.5 + r()), [...w.shape]);
    return w;
  }));
  for (const layer of m.layers) {
    const ps = layer.params();
    if (ps.length) t.getLayer(layer.name).setWeights(ps.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  }
}

/** Predictions, three SGD-momentum steps (losses, every weight and update) and tscnn's save loaded by TF.js: all match. */
export async function checkGraphPair(m: LayersModel, t: tf.LayersModel, x: Tensor, y: Tensor, tx: tf.Tensor, ty: tf.Tensor): Promise<void> {
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
  loaded.dispose();
}

/** TF.js' own save of `t`, loaded by tscnn. */
export async function tscnnLoads(t: tf.LayersModel): Promise<{ model: LayersModel; topology: { class_name: string } }> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await t.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts! as tf.io.ModelArtifacts;
  const modelJSON = { modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }], format: 'layers-model' } as unknown as ModelJSON;
  return { model: await loadModel({ modelJSON, weights: a.weightData as ArrayBuffer }), topology: a.modelTopology as { class_name: string } };
}
