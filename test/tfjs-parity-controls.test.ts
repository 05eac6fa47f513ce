// Parity with TensorFlow.js 4.22 for the training controls TF.js has: kernel/bias regularizers
// (L1L2) on Dense and Conv2D, the losses meanAbsoluteError and hinge (−1/1 labels), the metrics
// mae and mse; and regularized models saved by one library and loaded by the other.
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layers, loadModel, optimizers, regularizers, Sequential, tensor, toMemory, type Tensor } from '../src/index.js';
import type { ModelJSON } from '../src/io/index.js';
import { assertClose, randomArray, type Tolerance } from './helpers.js';

tf.enableProdMode();
await tf.setBackend('cpu');

/** As test/tfjs-parity.test.ts: float32 on both sides, sums in different orders. */
const FORWARD: Tolerance = { atol: 1e-5, rtol: 1e-4 };
const UPDATE: Tolerance = { atol: 2.5e-7, rtol: 1e-3 };

function copyWeights(from: Sequential, to: tf.Sequential): void {
  from.layers.forEach((layer, i) => {
    const params = layer.params();
    if (params.length) to.layers[i].setWeights(params.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  });
}

function tfWeights(model: tf.Sequential): Float32Array[] {
  return model.layers.flatMap((l) => l.weights.map((w) => Float32Array.from(w.read().dataSync())));
}

/** Trains both models `steps` times on one batch and compares the logs, every weight and every weight change. */
async function compareSteps(ours: Sequential, theirs: tf.Sequential, x: Tensor, y: Tensor, tx: tf.Tensor, ty: tf.Tensor, steps: number, metricNames: string[]): Promise<void> {
  const w0 = ours.getWeights().map((w) => w.values.slice());
  for (let s = 1; s <= steps; s++) {
    const logs = await ours.trainOnBatch(x, y);
    const out = await theirs.trainOnBatch(tx, ty);
    const theirsLogs = Array.isArray(out) ? out : [out];
    assertClose([logs.loss, ...metricNames.map((m) => logs[m])], theirsLogs, FORWARD, `loss and ${metricNames.join(', ')} at step ${s}`);
  }
  const after = ours.getWeights().map((w) => w.values);
  const tfAfter = tfWeights(theirs);
  assert.is(after.length, tfAfter.length);
  for (let i = 0; i < after.length; i++) {
    assertClose(after[i], tfAfter[i], FORWARD, `weight ${i} after ${steps} steps`);
    assertClose(
      after[i].map((v, k) => v - w0[i][k]),
      tfAfter[i].map((v, k) => v - w0[i][k]),
      UPDATE,
      `update of weight ${i}`,
    );
  }
}

test('Dense with l1l2 kernel and l2 bias regularizers, meanAbsoluteError, metrics mae and mse: three SGD steps match tf.layers', async () => {
  const ours = new Sequential({
    layers: [
      new layers.Dense({ units: 4, activation: 'tanh', inputShape: [5], kernelRegularizer: regularizers.l1l2({ l1: 0.01, l2: 0.02 }), biasRegularizer: regularizers.l2({ l2: 0.05 }) }),
      new layers.Dense({ units: 2, kernelRegularizer: regularizers.l2({ l2: 0.03 }) }),
    ],
  });
  await ours.predict(tensor(new Float32Array(5), [1, 5]));
  ours.setWeights(ours.getWeights().map((w, i) => tensor(randomArray(w.size, 40 + i, -0.8, 0.8), [...w.shape])));
  const theirs = tf.sequential();
  theirs.add(tf.layers.dense({ units: 4, activation: 'tanh', inputShape: [5], kernelRegularizer: tf.regularizers.l1l2({ l1: 0.01, l2: 0.02 }), biasRegularizer: tf.regularizers.l2({ l2: 0.05 }) }));
  theirs.add(tf.layers.dense({ units: 2, kernelRegularizer: tf.regularizers.l2({ l2: 0.03 }) }));
  copyWeights(ours, theirs);
  const n = 8;
  const xv = randomArray(n * 5, 1, -2, 2);
  const yv = randomArray(n * 2, 2, -1, 1);
  ours.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanAbsoluteError', metrics: ['mae', 'mse'] });
  theirs.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanAbsoluteError', metrics: ['mae', 'mse'] });
  const tx = tf.tensor2d(xv, [n, 5]);
  const ty = tf.tensor2d(yv, [n, 2]);
  await compareSteps(ours, theirs, tensor(xv, [n, 5]), tensor(yv, [n, 2]), tx, ty, 3, ['mae', 'mse']);
  tf.dispose([tx, ty]);
});

test('Conv2D with l2 kernel and l1 bias regularizers, hinge on −1/1 labels: two momentum steps match tf.layers', async () => {
  const shape: [number, number, number] = [6, 6, 2];
  const ours = new Sequential({
    layers: [
      new layers.Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: shape, kernelRegularizer: regularizers.l2({ l2: 0.01 }), biasRegularizer: regularizers.l1({ l1: 0.02 }) }),
      new layers.Flatten(),
      new layers.Dense({ units: 1, kernelRegularizer: regularizers.l1({ l1: 0.01 }) }),
    ],
  });
  await ours.predict(tensor(new Float32Array(72), [1, ...shape]));
  ours.setWeights(ours.getWeights().map((w, i) => tensor(randomArray(w.size, 60 + i, -0.5, 0.5), [...w.shape])));
  const theirs = tf.sequential();
  theirs.add(tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: shape, kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }), biasRegularizer: tf.regularizers.l1({ l1: 0.02 }) }));
  theirs.add(tf.layers.flatten());
  theirs.add(tf.layers.dense({ units: 1, kernelRegularizer: tf.regularizers.l1({ l1: 0.01 }) }));
  copyWeights(ours, theirs);
  const n = 4;
  const xv = randomArray(n * 72, 3, 0, 1);
  const yv = Float32Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1));
  ours.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05, momentum: 0.9 }), loss: 'hinge' });
  theirs.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'hinge' });
  const tx = tf.tensor4d(xv, [n, ...shape]);
  const ty = tf.tensor2d(yv, [n, 1]);
  await compareSteps(ours, theirs, tensor(xv, [n, ...shape]), tensor(yv, [n, 1]), tx, ty, 2, []);
  tf.dispose([tx, ty]);
});

test('regularized model: tscnn → TF.js loadLayersModel keeps the regularizers; TF.js save → tscnn loadModel too', async () => {
  const ours = new Sequential({ layers: [new layers.Dense({ units: 3, inputShape: [4], kernelRegularizer: regularizers.l1l2({ l1: 0.001, l2: 0.002 }), biasRegularizer: 'l2' })] });
  ours.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  await ours.predict(tensor(new Float32Array(4), [1, 4]));
  const { modelJSON, weights } = toMemory(ours);
  const tfModel = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJSON.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: modelJSON.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: weights }),
  );
  const dense = tfModel.layers[0].getConfig() as { kernelRegularizer: { className: string; config: object }; biasRegularizer: { config: object } };
  assert.equal(dense.kernelRegularizer, { className: 'L1L2', config: { l1: 0.001, l2: 0.002 } });
  assert.equal(dense.biasRegularizer.config, { l1: 0, l2: 0.01 });

  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 2, inputShape: [3], kernelRegularizer: tf.regularizers.l2({ l2: 0.07 }), biasRegularizer: tf.regularizers.l1l2({ l1: 0.1, l2: 0.2 }) }));
  let saved: { modelJSON: ModelJSON; weights: ArrayBuffer } | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      saved = {
        modelJSON: { modelTopology: a.modelTopology as ModelJSON['modelTopology'], weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs! }], format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy },
        weights: new tf.io.CompositeArrayBuffer(a.weightData!).slice(),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await loadModel(saved!);
  const layer = loaded.layers[0] as layers.Dense;
  assert.equal(layer.kernelRegularizer?.getConfig(), { l1: 0, l2: 0.07 });
  assert.equal(layer.biasRegularizer?.getConfig(), { l1: 0.1, l2: 0.2 });
  tfModel.dispose();
  m.dispose();
});

test('TF.js compiles the training config tscnn writes for meanAbsoluteError with binaryAccuracy, mae and mse, and evaluates the same', async () => {
  const ours = new Sequential({ layers: [new layers.Dense({ units: 2, inputShape: [3], activation: 'sigmoid' })] });
  ours.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanAbsoluteError', metrics: ['binaryAccuracy', 'mae', 'mse'] });
  await ours.predict(tensor(new Float32Array(3), [1, 3]));
  const { modelJSON, weights } = toMemory(ours);
  const tfModel = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJSON.modelTopology as tf.io.ModelJSON['modelTopology'],
      weightSpecs: modelJSON.weightsManifest[0].weights as tf.io.WeightsManifestEntry[],
      weightData: weights,
      trainingConfig: modelJSON.trainingConfig as unknown as tf.io.TrainingConfig,
    }),
  );
  const n = 6;
  const xv = randomArray(n * 3, 7, -2, 2);
  const yv = Float32Array.from({ length: n * 2 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const tx = tf.tensor2d(xv, [n, 3]);
  const ty = tf.tensor2d(yv, [n, 2]);
  const theirs = (tfModel.evaluate(tx, ty, { batchSize: n }) as tf.Scalar[]).map((t) => t.dataSync()[0]);
  const logs = await ours.evaluate(tensor(xv, [n, 3]), tensor(yv, [n, 2]), { batchSize: n });
  assertClose([logs.loss, logs.binaryAccuracy, logs.mae, logs.mse], theirs, FORWARD, 'loss, binaryAccuracy, mae, mse');
  tf.dispose([tx, ty]);
  tfModel.dispose();
});

test.run();
