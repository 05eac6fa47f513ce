// The gpu.js kernels the backend compiles, by name, and the constants each takes from an op's geometry.
import type { Conv2DInfo, Pad2DInfo } from '../../geometry.js';
import type { ActivationKind } from '../types.js';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward, type ConvConstants } from '../../../kernels/conv2d.js';
import { maxPool, maxPoolBackprop, type PoolConstants } from '../../../kernels/max-pool.js';
import { avgPool, avgPoolBackprop } from '../../../kernels/avg-pool.js';
import {
  depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput, depthwiseConv2dForward, type DepthwiseConstants,
} from '../../../kernels/depthwise-conv2d.js';
import { reluWithOptions, reluWithOptionsBackward, zeroPad2d, zeroPad2dBackprop, type PadConstants } from '../../../kernels/pad-relu.js';
import { matmul } from '../../../kernels/matmul.js';
import { biasAdd, channelSum, channelSumDot } from '../../../kernels/channel.js';
import {
  batchNormBackwardDx,
  batchNormInference,
  channelMean,
  channelStats,
  normalizeAct,
  normalizedReluMask,
  normalizeScaleShift,
} from '../../../kernels/batch-norm.js';
import { activationBackward, activationForward, softmaxBackward, softmaxForward } from '../../../kernels/activation.js';
import { adam, combine, multiply, rmsprop, sgd, sgdMomentum } from '../../../kernels/update.js';
import { copy, copyRange, pack2, pack3 } from '../../../kernels/copy.js';
import { add, concat2, extremum, extremumGrad, sliceColumns } from '../../../kernels/merge.js';
import {
  contrast, contrastBackward, contrastMaskedSum, imageChannelMean, imageTransform, imageTransformBackward,
} from '../../../kernels/image.js';
import { dropout } from '../../../kernels/dropout.js';

/** Kernel codes of `kernels/activation.ts`. */
export const ACTIVATION_CODES: Record<Exclude<ActivationKind, 'softmax'>, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  sigmoid: 3,
  tanh: 4,
  leakyRelu: 5,
  elu: 6,
  selu: 7,
  softplus: 8,
  softsign: 9,
  swish: 10,
  hardSigmoid: 11,
};

/** Every kernel function the backend compiles, by name (the test checks their source text). */
export const KERNEL_FUNCTIONS = {
  conv2dForward,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  maxPool,
  maxPoolBackprop,
  avgPool,
  avgPoolBackprop,
  depthwiseConv2dForward,
  depthwiseConv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  zeroPad2d,
  zeroPad2dBackprop,
  reluWithOptions,
  reluWithOptionsBackward,
  matmul,
  biasAdd,
  channelSum,
  channelSumDot,
  channelMean,
  channelStats,
  normalizeScaleShift,
  batchNormInference,
  batchNormBackwardDx,
  normalizeAct,
  normalizedReluMask,
  activationForward,
  activationBackward,
  softmaxForward,
  softmaxBackward,
  multiply,
  dropout,
  add,
  concat2,
  sliceColumns,
  extremum,
  extremumGrad,
  imageTransform,
  imageTransformBackward,
  imageChannelMean,
  contrast,
  contrastMaskedSum,
  contrastBackward,
  combine,
  sgd,
  sgdMomentum,
  adam,
  rmsprop,
  copy,
  pack2,
  pack3,
  copyRange,
} as const;

/** The name of a kernel in {@link KERNEL_FUNCTIONS}. */
export type KernelName = keyof typeof KERNEL_FUNCTIONS;

/** The constants of the conv2d kernels for `info`. */
export function convConstants(info: Conv2DInfo): ConvConstants {
  return {
    N: info.batch,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    F: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: info.padTop,
    pl: info.padLeft,
  };
}

/** The constants of the max-pool and average-pool kernels for the pool geometry `info`. */
export function poolConstants(info: Conv2DInfo): PoolConstants {
  return {
    S: info.batch * info.outHeight * info.outWidth * info.inChannels,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padTop,
    pl: info.padLeft,
  };
}

/** The constants of the depthwise kernels for `info` (M = outChannels / inChannels). */
export function depthwiseConstants(info: Conv2DInfo): DepthwiseConstants {
  return { ...convConstants(info), M: info.outChannels / info.inChannels };
}

/** The constants of the zero-padding kernels for `info`. */
export function padConstants(info: Pad2DInfo): PadConstants {
  return { H: info.inHeight, W: info.inWidth, C: info.channels, OH: info.outHeight, OW: info.outWidth, top: info.top, left: info.left };
}
