// Inference-only fusion: Conv2D(linear) → BatchNormalization [→ Activation(relu | linear)] folds
// into one fusedConv2d call, and a MaxPooling2D after a convolution joins it (fusedConv2dMaxPool,
// so the convolution's full-size output never leaves the backend). With
// s = gamma / sqrt(movingVariance + epsilon):
//   w'[…, f] = w[…, f] · s[f],   b'[f] = (b[f] − movingMean[f]) · s[f] + beta[f]
// The fold runs at every inference forward from the current weights (a kernel is small next to
// the activations it saves a pass over), so training can change the weights freely.
import { getBackend } from '../backend/index.js';
import { conv2dInfo } from '../geometry.js';
import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { MaxPooling2D } from '../layers/max-pooling2d.js';
import type { Layer, Param } from '../layers/layer.js';
import type { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';

/**
 * A run of layers that inference replaces by one fused backend call: a Conv2D, the
 * BatchNormalization folded into it (if any), the relu or linear activation applied after
 * (its own, or an Activation layer's), and the MaxPooling2D pooling its output (if any).
 */
export interface ConvRun {
  conv: Conv2D;
  bn: BatchNormalization | null;
  activation: 'linear' | 'relu';
  pool: MaxPooling2D | null;
  /** Layers the run replaces. */
  length: number;
}

/**
 * The fusable run starting at `layers[i]`, or null. Conv2D with a linear activation may take a
 * following BatchNormalization over the channel axis, then Activation('relu' | 'linear'); a
 * Conv2D with its own relu or linear activation takes none. Then a MaxPooling2D joins when
 * `pool` allows it. A run with neither a BatchNormalization nor a pool is null (the Conv2D's own
 * forward is already one fused call).
 */
export function matchConvRun(layers: readonly Layer[], i: number, options: { pool: boolean }): ConvRun | null {
  const conv = layers[i];
  if (!(conv instanceof Conv2D)) return null;
  let j = i + 1;
  let bn: BatchNormalization | null = null;
  let activation: 'linear' | 'relu';
  if (conv.activation === 'linear') {
    const next = layers[j];
    if (next instanceof BatchNormalization && (next.axis === -1 || next.axis === 3)) {
      bn = next;
      j++;
    }
    const act = layers[j];
    activation = 'linear';
    if (act instanceof Activation && (act.activation === 'relu' || act.activation === 'linear')) {
      activation = act.activation;
      j++;
    }
  } else if (conv.activation === 'relu') {
    activation = 'relu';
  } else {
    return null;
  }
  let pool: MaxPooling2D | null = null;
  if (options.pool && layers[j] instanceof MaxPooling2D) {
    pool = layers[j] as MaxPooling2D;
    j++;
  }
  if (!bn && !pool) return null;
  return { conv, bn, activation, pool, length: j - i };
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
 * Runs `layers` on `x` in inference mode, replacing each fusable run (see {@link matchConvRun})
 * by one backend call with folded weights: fusedConv2dMaxPool when the run ends in a pool and the
 * backend has it, else fusedConv2d then the pool's own forward. Without fusedConv2d every layer
 * runs its own forward. Equals the layer-by-layer pass up to rounding.
 *
 * @example
 * const y = forwardInference(model.layers, x, rng); // x: [batch, height, width, channels]
 */
export function forwardInference(layers: readonly Layer[], x: Tensor, rng: Random): Tensor {
  const backend = getBackend();
  const ctx = { training: false, rng };
  let h = x;
  for (let i = 0; i < layers.length; ) {
    const run = backend.fusedConv2d ? matchConvRun(layers, i, { pool: !!backend.fusedConv2dMaxPool }) : null;
    if (!run) {
      h = layers[i].forward(h, ctx);
      i++;
      continue;
    }
    const { conv, pool } = run;
    const [batch, height, width, c] = h.shape as [number, number, number, number];
    const inC = weight(conv, 'kernel')!.shape[2];
    if (h.rank !== 4 || c !== inC) {
      throw new Error(`Conv2D '${conv.name}': expects input (None, height, width, ${inC}), got [${h.shape.join(', ')}]`);
    }
    const info = conv2dInfo([batch, height, width, c], conv.kernelSize, conv.filters, conv.strides, conv.padding, conv.dilationRate);
    const { kernel, bias } = run.bn
      ? foldConvBn(conv, run.bn)
      : { kernel: weight(conv, 'kernel')!.value, bias: conv.useBias ? weight(conv, 'bias')!.value : null };
    if (pool) {
      const p = conv2dInfo([batch, info.outHeight, info.outWidth, conv.filters], pool.poolSize, conv.filters, pool.strides, pool.padding);
      const y = backend.fusedConv2dMaxPool!(h.values, kernel, bias, info, run.activation, p);
      h = wrap(y, [batch, p.outHeight, p.outWidth, conv.filters]);
    } else {
      h = wrap(backend.fusedConv2d!(h.values, kernel, bias, info, run.activation), [batch, info.outHeight, info.outWidth, conv.filters]);
    }
    i += run.length;
  }
  return h;
}
