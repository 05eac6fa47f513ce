// Training-mode fusion of runs that end in a MaxPooling2D whose windows do not overlap (strides =
// pool size, 'valid' padding: Keras' default pool), where the backend has the fused ops:
//   BatchNormalization → [Activation('relu' | 'linear')] → pool: batchNormActPoolTrain / Backward;
//   Conv2D(relu | linear) [→ Activation('relu' | 'linear')] → pool: fusedConv2dMaxPoolTrain / Backward.
// The full-size normalized, activated or convolved tensors of the layer-by-layer pass (each copied
// in and out of WebAssembly memory by its own op) are never returned: on the seed model's first
// block ([32, 100, 100, 16]) BN, relu and pool took 64 ms of a 241 ms training step.
// Results equal the layer-by-layer pass up to the rounding of sums.
import type { Backend } from '../backend/types.js';
import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import type { ForwardContext, Layer } from '../layers/layer.js';
import { MaxPooling2D } from '../layers/max-pooling2d.js';
import type { Tensor } from '../tensor.js';

/** One step of a training pass: a layer on its own, or a fused run of layers. */
export interface TrainingUnit {
  /** The model's layers this unit stands for, in order. */
  readonly layers: readonly Layer[];
  forward(x: Tensor, ctx: ForwardContext): Tensor;
  backward(dy: Tensor, needInputGrad: boolean): Tensor | null;
}

/** A BatchNormalization → [Activation] → MaxPooling2D run (see {@link matchBnActPool}). */
export interface BnActPoolRun {
  bn: BatchNormalization;
  activation: 'linear' | 'relu';
  pool: MaxPooling2D;
  length: 2 | 3;
}

/**
 * The fusable run starting at `layers[i]`, or null: a BatchNormalization over the channel axis,
 * optionally Activation('relu' | 'linear'), then a MaxPooling2D with strides equal to its pool
 * size and 'valid' padding.
 */
export function matchBnActPool(layers: readonly Layer[], i: number): BnActPoolRun | null {
  const bn = layers[i];
  if (!(bn instanceof BatchNormalization) || (bn.axis !== -1 && bn.axis !== 3)) return null;
  let j = i + 1;
  let activation: 'linear' | 'relu' = 'linear';
  const act = layers[j];
  if (act instanceof Activation && (act.activation === 'relu' || act.activation === 'linear')) {
    activation = act.activation;
    j++;
  }
  const pool = plainPool(layers, j);
  return pool ? { bn, activation, pool, length: (j - i + 1) as 2 | 3 } : null;
}

/** A Conv2D [→ Activation] → MaxPooling2D run (see {@link matchConvPool}). */
export interface ConvPoolRun {
  conv: Conv2D;
  activation: 'linear' | 'relu';
  pool: MaxPooling2D;
  length: 2 | 3;
}

// The pool at layers[j] if its windows do not overlap.
function plainPool(layers: readonly Layer[], j: number): MaxPooling2D | null {
  const pool = layers[j];
  if (!(pool instanceof MaxPooling2D)) return null;
  if (pool.padding !== 'valid' || pool.strides[0] !== pool.poolSize[0] || pool.strides[1] !== pool.poolSize[1]) return null;
  return pool;
}

/**
 * The fusable run starting at `layers[i]`, or null: a Conv2D with activation 'relu' or 'linear'
 * (a linear one may be followed by Activation('relu' | 'linear')), then a MaxPooling2D with
 * strides equal to its pool size and 'valid' padding.
 */
export function matchConvPool(layers: readonly Layer[], i: number): ConvPoolRun | null {
  const conv = layers[i];
  if (!(conv instanceof Conv2D) || (conv.activation !== 'relu' && conv.activation !== 'linear')) return null;
  let activation = conv.activation as 'linear' | 'relu';
  let j = i + 1;
  const act = layers[j];
  if (activation === 'linear' && act instanceof Activation && (act.activation === 'relu' || act.activation === 'linear')) {
    activation = act.activation;
    j++;
  }
  const pool = plainPool(layers, j);
  return pool ? { conv, activation, pool, length: (j - i + 1) as 2 | 3 } : null;
}

// The fused run at layers[i] the backend can run, as forward/backward calls on its first layer.
function fusedRun(
  layers: readonly Layer[], i: number, bnPool: boolean, convPool: boolean,
): (Pick<TrainingUnit, 'forward' | 'backward'> & { length: number }) | null {
  const b = bnPool ? matchBnActPool(layers, i) : null;
  if (b) {
    return { length: b.length, forward: (x) => b.bn.forwardActPool(x, b.activation, b.pool.poolSize), backward: (dy, need) => b.bn.backwardActPool(dy, need) };
  }
  const c = convPool ? matchConvPool(layers, i) : null;
  if (c) {
    return { length: c.length, forward: (x) => c.conv.forwardPool(x, c.activation, c.pool.poolSize), backward: (dy, need) => c.conv.backwardPool(dy, need) };
  }
  return null;
}

function single(layer: Layer): TrainingUnit {
  return { layers: [layer], forward: (x, ctx) => layer.forward(x, ctx), backward: (dy, need) => layer.backward(dy, need) };
}

/**
 * The units a training pass runs for `layers` on `backend`: fused runs where the backend has the
 * fused ops, every other layer on its own.
 *
 * @example
 * const units = trainingUnits(model.layers, getBackend());
 * let h = x; for (const u of units) h = u.forward(h, { training: true, rng });
 */
export function trainingUnits(layers: readonly Layer[], backend: Backend): TrainingUnit[] {
  const bnPool = !!(backend.batchNormActPoolTrain && backend.batchNormActPoolBackward);
  const convPool = !!(backend.fusedConv2dMaxPoolTrain && backend.fusedConv2dMaxPoolBackward);
  const units: TrainingUnit[] = [];
  for (let i = 0; i < layers.length; ) {
    const run = fusedRun(layers, i, bnPool, convPool);
    units.push(run ? { layers: layers.slice(i, i + run.length), forward: run.forward, backward: run.backward } : single(layers[i]));
    i += run ? run.length : 1;
  }
  return units;
}
