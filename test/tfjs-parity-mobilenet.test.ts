// Parity with TensorFlow.js 4.22 (tf.layers, 'cpu' backend) for MobileNet-style models mixing
// ZeroPadding2D, ReLU (maxValue 6, and TF.js' one option), DepthwiseConv2D (depthMultiplier,
// strides, 'same' and 'valid') and SeparableConv2D: predictions, the losses of three SGD-momentum
// steps and every weight after them, and tscnn's save loaded by tf.loadLayersModel (test/tfjs-pair.ts).
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import { layers, Sequential } from '../src/index.js';
import { checkPair, type Pair } from './tfjs-pair.js';

tf.enableProdMode();
await tf.setBackend('cpu');

const SHAPE: [number, number, number] = [9, 9, 3];
const BATCH = 4;

/** ZeroPadding2D → Conv2D s2 → BN → ReLU(6) → DepthwiseConv2D → BN → ReLU(6) → SeparableConv2D → GlobalAveragePooling2D → Dense softmax. */
function mobileBlock(): Pair {
  const ours = new Sequential();
  ours.add(new layers.ZeroPadding2D({ padding: [[1, 0], [0, 1]], inputShape: SHAPE }));
  ours.add(new layers.Conv2D({ filters: 4, kernelSize: 3, strides: 2, useBias: false }));
  ours.add(new layers.BatchNormalization());
  ours.add(new layers.ReLU({ maxValue: 6 }));
  ours.add(new layers.DepthwiseConv2D({ kernelSize: 3, padding: 'same', useBias: false }));
  ours.add(new layers.BatchNormalization());
  ours.add(new layers.ReLU({ maxValue: 6 }));
  ours.add(new layers.SeparableConv2D({ filters: 5, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu' }));
  ours.add(new layers.GlobalAveragePooling2D());
  ours.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  const theirs = tf.sequential();
  theirs.add(tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]], inputShape: SHAPE }));
  theirs.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, useBias: false }));
  theirs.add(tf.layers.batchNormalization());
  theirs.add(tf.layers.reLU({ maxValue: 6 }));
  theirs.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }));
  theirs.add(tf.layers.batchNormalization());
  theirs.add(tf.layers.reLU({ maxValue: 6 }));
  theirs.add(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu' }));
  theirs.add(tf.layers.globalAveragePooling2d({}));
  theirs.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return { ours, theirs };
}

/** DepthwiseConv2D (multiplier 2, stride 2, 'valid', tanh, bias) → ReLU → SeparableConv2D ('valid', stride 2) → Flatten → Dense softmax. */
function stridedModel(): Pair {
  const ours = new Sequential();
  ours.add(new layers.DepthwiseConv2D({ kernelSize: [3, 2], strides: 2, depthMultiplier: 2, activation: 'tanh', inputShape: SHAPE }));
  ours.add(new layers.ReLU());
  ours.add(new layers.SeparableConv2D({ filters: 4, kernelSize: 2, strides: 2, activation: 'tanh' }));
  ours.add(new layers.Flatten());
  ours.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  const theirs = tf.sequential();
  theirs.add(tf.layers.depthwiseConv2d({ kernelSize: [3, 2], strides: 2, depthMultiplier: 2, activation: 'tanh', inputShape: SHAPE }));
  theirs.add(tf.layers.reLU());
  theirs.add(tf.layers.separableConv2d({ filters: 4, kernelSize: 2, strides: 2, activation: 'tanh' }));
  theirs.add(tf.layers.flatten());
  theirs.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return { ours, theirs };
}

const cases: { name: string; make: () => Pair }[] = [
  { name: 'ZeroPadding2D, Conv2D, BatchNormalization, ReLU(6), DepthwiseConv2D, SeparableConv2D ×2, GlobalAveragePooling2D', make: mobileBlock },
  { name: 'DepthwiseConv2D ×2 stride 2 valid tanh, ReLU, SeparableConv2D stride 2', make: stridedModel },
];

for (const { name, make } of cases) {
  test(`${name}: predictions, three SGD-momentum steps (losses, every weight) and tf.loadLayersModel of the saved model match tfjs`, async () => {
    await checkPair(name, make(), SHAPE, BATCH, true);
  });
}

test.run();
