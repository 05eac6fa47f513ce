import type * as TF from '@tensorflow/tfjs';
import { layers, Sequential } from '../../src/index.js';
import type { RegularizerSpec } from '../../src/train/regularizers.js';

/** Options of the user's model builders. */
export interface UserModelOptions {
  /** Both Dropout layers' rate; 0.5 as the user wrote it (parity tests use 0). */
  dropoutRate?: number;
  /** Input height and width when not square. */
  inputShape?: [number, number, number];
  /** Every Conv2D's and Dense's kernelRegularizer (none by default; buildUserModel only, for bench/gpu-traffic.ts). */
  kernelRegularizer?: RegularizerSpec;
}

/**
 * The Keras user's model, layer for layer (see issue 2), for square RGB images of `imageSize`.
 * At 100×100 it has 789,605 parameters.
 */
export function buildUserModel(imageSize: number, opts: UserModelOptions = {}): Sequential {
  const rate = opts.dropoutRate ?? 0.5;
  const kernelRegularizer = opts.kernelRegularizer;
  const model = new Sequential({ name: 'cats_vs_dogs' });
  model.add(new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: opts.inputShape ?? [imageSize, imageSize, 3], kernelRegularizer }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Activation('relu'));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same', kernelRegularizer }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu', padding: 'same', kernelRegularizer }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 128, kernelSize: 3, activation: 'relu', padding: 'same', kernelRegularizer }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Dropout({ rate }));
  model.add(new layers.Flatten());
  model.add(new layers.Dense({ units: 150, kernelRegularizer }));
  model.add(new layers.Activation('relu'));
  model.add(new layers.Dropout({ rate }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Dense({ units: 1, activation: 'sigmoid', kernelRegularizer }));
  return model;
}

/** The same model in TensorFlow.js's tf.layers (for the parity tests and the benchmarks), uncompiled. */
export function buildUserModelTfjs(tf: typeof TF, imageSize: number, opts: UserModelOptions = {}): TF.Sequential {
  const rate = opts.dropoutRate ?? 0.5;
  const L = tf.layers;
  const model = tf.sequential();
  model.add(L.conv2d({ filters: 16, kernelSize: 3, padding: 'same', inputShape: opts.inputShape ?? [imageSize, imageSize, 3] }));
  model.add(L.batchNormalization());
  model.add(L.activation({ activation: 'relu' }));
  model.add(L.maxPooling2d({ poolSize: 2 }));
  model.add(L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(L.maxPooling2d({ poolSize: 2 }));
  model.add(L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(L.maxPooling2d({ poolSize: 2 }));
  model.add(L.conv2d({ filters: 128, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(L.maxPooling2d({ poolSize: 2 }));
  model.add(L.dropout({ rate }));
  model.add(L.flatten());
  model.add(L.dense({ units: 150 }));
  model.add(L.activation({ activation: 'relu' }));
  model.add(L.dropout({ rate }));
  model.add(L.batchNormalization());
  model.add(L.dense({ units: 1, activation: 'sigmoid' }));
  return model;
}
