// Parity with TensorFlow.js 4.22 (tf.layers, 'cpu' backend) for models mixing AveragePooling2D
// ('same' and 'valid'), GlobalAveragePooling2D, GlobalMaxPooling2D, Reshape and Rescaling:
// predictions, the losses of three SGD-momentum steps and every weight after them; then saved by
// tscnn and loaded by tf.loadLayersModel, which must predict the same. exportOnnx refuses these layers by name.
//
// Training parity is not checked where a 'same' average pool has padded cells: tfjs-backend-cpu's
// AvgPoolGrad scales every window by 1/(poolH·poolW), while its forward (as TensorFlow's, and
// tscnn's) divides a border window by its cells inside the image, so TF.js' gradient there is not
// the gradient of its own forward. tscnn's is (gradchecks in test/pooling-layers.test.ts).
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toMemory } from '../src/io/index.js';
import { ONNX_LAYERS, toOnnx } from '../src/io/onnx/index.js';
import { layers, optimizers, Sequential, setSeed, tensor, type Tensor } from '../src/index.js';
import { assertClose, rejects, rng, type Tolerance } from './helpers.js';

tf.enableProdMode();
await tf.setBackend('cpu');

/** As test/tfjs-parity.test.ts: float32 on both sides, sums in different orders. */
const FORWARD: Tolerance = { atol: 1e-5, rtol: 1e-4 };
/** As test/tfjs-parity.test.ts: the weight changes, which isolate the gradients. */
const UPDATE: Tolerance = { atol: 2.5e-7, rtol: 1e-3 };

const SHAPE: [number, number, number] = [10, 10, 3];
const BATCH = 4;

interface Pair {
  ours: Sequential;
  theirs: tf.Sequential;
}

type PoolOptions = { poolSize: number; strides: number; padding: 'same' | 'valid' };

/** Conv2D → AveragePooling2D(pool) → Conv2D → GlobalAveragePooling2D → Dense softmax. */
function averageModel(pool: PoolOptions): Pair {
  const ours = new Sequential();
  ours.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: SHAPE }));
  ours.add(new layers.AveragePooling2D(pool));
  ours.add(new layers.Conv2D({ filters: 5, kernelSize: 2, activation: 'tanh' }));
  ours.add(new layers.GlobalAveragePooling2D());
  ours.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  const theirs = tf.sequential();
  theirs.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: SHAPE }));
  theirs.add(tf.layers.averagePooling2d(pool));
  theirs.add(tf.layers.conv2d({ filters: 5, kernelSize: 2, activation: 'tanh' }));
  theirs.add(tf.layers.globalAveragePooling2d({}));
  theirs.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return { ours, theirs };
}

/** Conv2D → AveragePooling2D('valid', 2) → Conv2D → GlobalMaxPooling2D → Dense softmax. */
function maxModel(): Pair {
  const ours = new Sequential();
  ours.add(new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'tanh', inputShape: SHAPE }));
  ours.add(new layers.AveragePooling2D({ poolSize: 2 }));
  ours.add(new layers.Conv2D({ filters: 6, kernelSize: 2, padding: 'same' }));
  ours.add(new layers.GlobalMaxPooling2D());
  ours.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  const theirs = tf.sequential();
  theirs.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'tanh', inputShape: SHAPE }));
  theirs.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  theirs.add(tf.layers.conv2d({ filters: 6, kernelSize: 2, padding: 'same' }));
  theirs.add(tf.layers.globalMaxPooling2d({}));
  theirs.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return { ours, theirs };
}

/** tscnn's weights, biases made non-zero, copied into the tf model layer by layer (Keras order in both). */
function syncWeights({ ours, theirs }: Pair, seed: number): void {
  const r = rng(seed);
  const names = ours.params().map((p) => p.name);
  ours.setWeights(ours.getWeights().map((w, i) => (names[i].endsWith('/bias') ? tensor(Float32Array.from(w.values, () => 0.2 * (2 * r() - 1)), [...w.shape]) : w)));
  ours.layers.forEach((layer, i) => {
    const params = layer.params();
    assert.is(theirs.layers[i].weights.length, params.length, `layer ${i} weight count`);
    if (params.length) theirs.layers[i].setWeights(params.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  });
}

/** Rescaling → Conv2D → Reshape([20, -1, 2]) → AveragePooling2D → GlobalMaxPooling2D → Dense softmax. */
function reshapeModel(): Pair {
  const ours = new Sequential();
  ours.add(new layers.Rescaling({ scale: 1.5, offset: -0.25, inputShape: SHAPE }));
  ours.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }));
  ours.add(new layers.Reshape({ targetShape: [20, -1, 2] }));
  ours.add(new layers.AveragePooling2D({ poolSize: 2 }));
  ours.add(new layers.GlobalMaxPooling2D());
  ours.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  const theirs = tf.sequential();
  theirs.add(tf.layers.rescaling({ scale: 1.5, offset: -0.25, inputShape: SHAPE }));
  theirs.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }));
  theirs.add(tf.layers.reshape({ targetShape: [20, -1, 2] }));
  theirs.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  theirs.add(tf.layers.globalMaxPooling2d({}));
  theirs.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return { ours, theirs };
}

const cases: { name: string; make: () => Pair; train: boolean }[] = [
  // 10 → 5 with pool 2 stride 2: 'same' pads nothing, so TF.js' gradient is exact.
  { name: "AveragePooling2D 'same' 2/2, GlobalAveragePooling2D", make: () => averageModel({ poolSize: 2, strides: 2, padding: 'same' }), train: true },
  { name: "AveragePooling2D 'valid' 2/2, GlobalMaxPooling2D", make: maxModel, train: true },
  { name: 'Rescaling, Reshape [10, 10, 4] → [20, 5, 2], AveragePooling2D, GlobalMaxPooling2D', make: reshapeModel, train: true },
  // 10 → 5 with pool 3 stride 2: the last window has 2 of its 3 rows inside; forward only (see above).
  { name: "AveragePooling2D 'same' 3/2 with padded border windows", make: () => averageModel({ poolSize: 3, strides: 2, padding: 'same' }), train: false },
];

for (const { name, make, train } of cases) {
  test(`${name}: predictions${train ? ', three SGD-momentum steps (losses, every weight)' : ''} and tf.loadLayersModel of the saved model match tfjs`, async () => {
    setSeed(31);
    const pair = make();
    const { ours, theirs } = pair;
    syncWeights(pair, 5);
    const r = rng(17);
    const xValues = Float32Array.from({ length: BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => 2 * r() - 1);
    const yValues = new Float32Array(BATCH * 3);
    for (let i = 0; i < BATCH; i++) yValues[i * 3 + (i % 3)] = 1;
    const x = tensor(xValues, [BATCH, ...SHAPE]);
    const y = tensor(yValues, [BATCH, 3]);
    const tx = tf.tensor4d(xValues, [BATCH, ...SHAPE]);
    const ty = tf.tensor2d(yValues, [BATCH, 3]);

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

    const unmapped = ours.layers.find((l) => !(ONNX_LAYERS as readonly string[]).includes(l.className))!;
    await rejects(toOnnx(ours), new RegExp(`exportOnnx: layer '${unmapped.name}' \\(${unmapped.className}\\) has no ONNX mapping`), 'exportOnnx');
    tf.dispose([tx, ty]);
    loaded.dispose();
    theirs.layers.forEach((l) => l.dispose());
  });
}

/** Three SGD-momentum steps on both sides: each step's loss, then every weight and its change. */
async function trainBoth(name: string, { ours, theirs }: Pair, x: Tensor, y: Tensor, tx: tf.Tensor, ty: tf.Tensor): Promise<void> {
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

test.run();
