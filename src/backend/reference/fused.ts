// The fused ops of the specification: each one the plain ops it stands for, called in order on
// the backend `b` (the reference, or a fast backend where its kernels decline a case). What a
// fused op must return is defined here, and nowhere else.
import type { Conv2DInfo } from '../../geometry.js';
import type { BatchNormActPoolResult, ConvGrads, FusedActivation, FusedBatchNormOps, FusedConvOps, GradNeed, PlainOps } from '../types.js';

/** conv2d → biasAdd (bias null: none) → relu or nothing. */
export function convBiasAct(b: PlainOps, x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: FusedActivation): Float32Array {
  const z = b.conv2d(x, w, info);
  const zb = bias ? b.biasAdd(z, bias, info.outChannels) : z;
  return activation === 'relu' ? b.activation('relu', zb, info.outChannels, 0) : zb;
}

/** dz = act'·dy (relu' read off y), then each asked gradient of the convolution. */
export function convBiasActBackward(
  b: PlainOps, x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, info: Conv2DInfo, activation: FusedActivation, need: GradNeed,
): ConvGrads {
  const F = info.outChannels;
  const dz = activation === 'relu' ? b.activationBackward('relu', dy, y, y, F, 0) : dy;
  return {
    dx: need.dx ? b.conv2dBackpropInput(dz, w, info) : null,
    dw: need.dw ? b.conv2dBackpropFilter(x, dz, info) : null,
    db: need.db ? b.biasGrad(dz, F) : null,
  };
}

/** The pooled gradient put back on the argmax cells of the convolution's output (0 where relu was off), then {@link convBiasActBackward}. */
export function convPoolBackward(
  b: PlainOps, x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, argmax: Int32Array, info: Conv2DInfo, activation: FusedActivation, need: GradNeed,
): ConvGrads {
  const dz = new Float32Array(info.batch * info.outHeight * info.outWidth * info.outChannels);
  for (let i = 0; i < dy.length; i++) if (activation === 'linear' || y[i] > 0) dz[argmax[i]] = dy[i];
  return convBiasActBackward(b, x, w, dz, dz, info, 'linear', need);
}

/** batchNormTrain → relu or nothing → maxPool. */
export function bnActPoolTrain(
  b: PlainOps, x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number, activation: FusedActivation, pool: Conv2DInfo,
): BatchNormActPoolResult {
  const bn = b.batchNormTrain(x, gamma, beta, channels, epsilon);
  const a = activation === 'relu' ? b.activation('relu', bn.y, channels, 0) : bn.y;
  const { y, argmax } = b.maxPool(a, pool);
  return { y, argmax, mean: bn.mean, variance: bn.variance, invStd: bn.invStd };
}

/** x̂ and the normalized z recomputed from x, mean and invStd, then maxPoolBackprop → relu' → batchNormBackward. */
export function bnActPoolBackward(
  b: PlainOps, dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, invStd: Float32Array,
  argmax: Int32Array, channels: number, activation: FusedActivation,
): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array } {
  const xHat = new Float32Array(x.length);
  const z = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    xHat[i] = Math.fround((x[i] - mean[c]) * invStd[c]);
    z[i] = Math.fround(Math.fround(gamma[c] * xHat[i]) + beta[c]);
  }
  const d = b.maxPoolBackprop(dy, argmax, x.length);
  const dz = activation === 'relu' ? b.activationBackward('relu', d, z, z, channels, 0) : d;
  return b.batchNormBackward(dz, xHat, gamma, invStd, channels);
}

/** The fused convolution ops composed of `b`'s plain ops. */
export function composedConvOps(b: PlainOps): FusedConvOps {
  return {
    conv2d: (x, w, bias, info, activation) => convBiasAct(b, x, w, bias, info, activation),
    conv2dBackward: (x, w, dy, y, info, activation, need) => convBiasActBackward(b, x, w, dy, y, info, activation, need),
    conv2dMaxPool: (x, w, bias, info, activation, pool) => b.maxPool(convBiasAct(b, x, w, bias, info, activation), pool).y,
    conv2dMaxPoolTrain: (x, w, bias, info, activation, pool) => b.maxPool(convBiasAct(b, x, w, bias, info, activation), pool),
    conv2dMaxPoolBackward: (x, w, dy, y, argmax, info, activation, need) => convPoolBackward(b, x, w, dy, y, argmax, info, activation, need),
  };
}

/** The fused batch norm → activation → pool ops composed of `b`'s plain ops. */
export function composedBatchNormOps(b: PlainOps): FusedBatchNormOps {
  return {
    train: (x, gamma, beta, channels, epsilon, activation, pool) => bnActPoolTrain(b, x, gamma, beta, channels, epsilon, activation, pool),
    backward: (dy, x, gamma, beta, mean, invStd, argmax, channels, activation) =>
      bnActPoolBackward(b, dy, x, gamma, beta, mean, invStd, argmax, channels, activation),
  };
}
