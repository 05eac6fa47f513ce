// Inference-only folding of Conv2D(linear) → BatchNormalization [→ Activation(relu | linear)]
// into one fusedConv2d call. With s = gamma / sqrt(movingVariance + epsilon):
//   w'[…, f] = w[…, f] · s[f],   b'[f] = (b[f] − movingMean[f]) · s[f] + beta[f]
// The fold runs at every inference forward from the current weights (a kernel is small next to
// the activations it saves a pass over), so training can change the weights freely.
import { getBackend } from './backend/index.js';
import { conv2dInfo } from './geometry.js';
import { Activation } from './layers/activation.js';
import { BatchNormalization } from './layers/batch-normalization.js';
import { Conv2D } from './layers/conv2d.js';
import type { Layer, Param } from './layers/layer.js';
import type { Random } from './random.js';
import { wrap, type Tensor } from './tensor.js';

/** A Conv2D → BatchNormalization run, with the activation that follows it folded in. */
export interface ConvBnRun {
  conv: Conv2D;
  bn: BatchNormalization;
  activation: 'linear' | 'relu';
  /** Layers the run replaces: 2, or 3 when an Activation layer is folded in. */
  length: 2 | 3;
}

/**
 * The foldable run starting at `layers[i]`, or null: a Conv2D with linear activation followed by
 * a BatchNormalization over the channel axis, then optionally Activation('relu' | 'linear').
 */
export function matchConvBn(layers: readonly Layer[], i: number): ConvBnRun | null {
  const conv = layers[i];
  const bn = layers[i + 1];
  if (!(conv instanceof Conv2D) || conv.activation !== 'linear') return null;
  if (!(bn instanceof BatchNormalization) || (bn.axis !== -1 && bn.axis !== 3)) return null;
  const next = layers[i + 2];
  if (next instanceof Activation && (next.activation === 'relu' || next.activation === 'linear')) {
    return { conv, bn, activation: next.activation, length: 3 };
  }
  return { conv, bn, activation: 'linear', length: 2 };
}

function weight(layer: Layer, name: string): Param | undefined {
  return layer.params().find((p) => p.name === `${layer.name}/${name}`);
}

/**
 * Folds the BatchNormalization's moving statistics into the Conv2D's kernel `[kh, kw, inC, F]`
 * and bias `[F]` (gamma 1 without `scale`, beta 0 without `center`, conv bias 0 without `useBias`).
 *
 * @example
 * const { kernel, bias } = foldConvBn(conv, bn); // conv2d(x, kernel) + bias = bn(conv(x)) at inference
 */
export function foldConvBn(conv: Conv2D, bn: BatchNormalization): { kernel: Float32Array; bias: Float32Array } {
  const w = weight(conv, 'kernel')!.value;
  const b = conv.useBias ? weight(conv, 'bias')!.value : null;
  const gamma = bn.scale ? weight(bn, 'gamma')!.value : null;
  const beta = bn.center ? weight(bn, 'beta')!.value : null;
  const mean = weight(bn, 'moving_mean')!.value;
  const variance = weight(bn, 'moving_variance')!.value;
  const F = conv.filters;
  const s = new Float64Array(F);
  const bias = new Float32Array(F);
  for (let f = 0; f < F; f++) {
    s[f] = (gamma ? gamma[f] : 1) / Math.sqrt(variance[f] + bn.epsilon);
    bias[f] = ((b ? b[f] : 0) - mean[f]) * s[f] + (beta ? beta[f] : 0);
  }
  const kernel = new Float32Array(w.length);
  for (let r = 0; r < w.length; r += F) {
    for (let f = 0; f < F; f++) kernel[r + f] = w[r + f] * s[f];
  }
  return { kernel, bias };
}

/**
 * Runs `layers` on `x` in inference mode, replacing each foldable Conv2D → BatchNormalization
 * [→ Activation] run by one fusedConv2d with folded weights when the backend has fusedConv2d;
 * every other layer runs its own forward. Equals the layer-by-layer pass up to rounding.
 *
 * @example
 * const y = forwardInference(model.layers, x, rng); // x: [batch, height, width, channels]
 */
export function forwardInference(layers: readonly Layer[], x: Tensor, rng: Random): Tensor {
  const backend = getBackend();
  let h = x;
  for (let i = 0; i < layers.length; ) {
    const run = backend.fusedConv2d ? matchConvBn(layers, i) : null;
    if (!run) {
      h = layers[i].forward(h, { training: false, rng });
      i++;
      continue;
    }
    const { conv } = run;
    const [batch, height, width, c] = h.shape as [number, number, number, number];
    const inC = weight(conv, 'kernel')!.shape[2];
    if (h.rank !== 4 || c !== inC) {
      throw new Error(`Conv2D '${conv.name}': expects input (None, height, width, ${inC}), got [${h.shape.join(', ')}]`);
    }
    const info = conv2dInfo([batch, height, width, c], conv.kernelSize, conv.filters, conv.strides, conv.padding, conv.dilationRate);
    const { kernel, bias } = foldConvBn(conv, run.bn);
    h = wrap(backend.fusedConv2d!(h.values, kernel, bias, info, run.activation), [batch, info.outHeight, info.outWidth, conv.filters]);
    i += run.length;
  }
  return h;
}
