// Parity with TensorFlow.js 4.22 (tf.layers, 'cpu' backend) for models mixing AveragePooling2D
// ('same' and 'valid'), GlobalAveragePooling2D, GlobalMaxPooling2D, Reshape and Rescaling:
// predictions, the losses of three SGD-momentum steps and every weight after them; then saved by
// tscnn and loaded by tf.loadLayersModel, which must predict the same; and exported to ONNX, which
// ONNX Runtime must run to the same predictions (after the training steps, where they run).
//
// Training parity is not checked where a 'same' average pool has padded cells: tfjs-backend-cpu's
// AvgPoolGrad scales every window by 1/(poolH·poolW), while its forward (as TensorFlow's, and
// tscnn's) divides a border window by its cells inside the image, so TF.js' gradient there is not
// the gradient of its own forward. tscnn's is (gradchecks in test/pooling-layers.test.ts).
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import { layers, Sequential } from '../src/index.js';
import { checkAgainstOrt } from './onnx-check.js';
import { checkPair, type Pair } from './tfjs-pair.js';

tf.enableProdMode();
await tf.setBackend('cpu');

const SHAPE: [number, number, number] = [10, 10, 3];
const BATCH = 4;

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
  test(`${name}: predictions${train ? ', three SGD-momentum steps (losses, every weight)' : ''} and tf.loadLayersModel of the saved model match tfjs; ONNX Runtime matches tscnn`, async () => {
    const ours = await checkPair(name, make(), SHAPE, BATCH, train);
    await checkAgainstOrt(ours, [1, 5], 31, `${name}, exported to ONNX`);
  });
}

test.run();
