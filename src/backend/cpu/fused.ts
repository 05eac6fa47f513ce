// The cpu backend's fused ops: the WebAssembly kernels where they take the case, else the
// composition of the plain ops that defines them (src/backend/reference/fused.ts).
import { bnActPoolBackward, bnActPoolTrain, composedConvOps } from '../reference/fused.js';
import type { FusedBatchNormOps, FusedConvOps, PlainOps } from '../types.js';
import type { ConvKernels } from '../wasm/conv-fast.js';
import type { ElementwiseKernels } from '../wasm/elementwise-fast.js';

/** Conv2D + bias + relu/linear [+ max pool] through `conv`, falling back to `base`'s plain ops. */
export function cpuFusedConv(base: PlainOps, conv: ConvKernels): FusedConvOps {
  const plain = composedConvOps(base);
  return {
    conv2d: (x, w, bias, info, activation) => conv.conv2d(x, w, info, bias, activation === 'relu') ?? plain.conv2d(x, w, bias, info, activation),
    conv2dBackward: (x, w, dy, y, info, activation, need) =>
      conv.conv2dBackward(x, w, dy, activation === 'relu' ? y : null, info, need) ?? plain.conv2dBackward(x, w, dy, y, info, activation, need),
    conv2dMaxPool: (x, w, bias, info, activation, pool, wVersion) =>
      conv.conv2dMaxPool(x, w, info, bias, activation === 'relu', pool, wVersion) ?? plain.conv2dMaxPool(x, w, bias, info, activation, pool),
    conv2dMaxPoolTrain: (x, w, bias, info, activation, pool) =>
      conv.conv2dMaxPoolTrain(x, w, info, bias, activation === 'relu', pool) ?? plain.conv2dMaxPoolTrain(x, w, bias, info, activation, pool),
    conv2dMaxPoolBackward: (x, w, dy, y, argmax, info, activation, need) =>
      conv.conv2dMaxPoolBackward(x, w, dy, y, argmax, info, activation === 'relu', need) ??
      plain.conv2dMaxPoolBackward(x, w, dy, y, argmax, info, activation, need),
  };
}

/** BatchNormalization → relu/linear → pool through `k`, falling back to `base`'s plain ops. */
export function cpuFusedBatchNorm(base: PlainOps, k: ElementwiseKernels): FusedBatchNormOps {
  return {
    train: (x, gamma, beta, channels, epsilon, activation, pool) =>
      k.batchNormActPoolTrain(x, gamma, beta, channels, epsilon, activation === 'relu', pool) ?? bnActPoolTrain(base, x, gamma, beta, channels, epsilon, activation, pool),
    backward: (dy, x, gamma, beta, mean, invStd, argmax, channels, activation, pool) =>
      k.batchNormActPoolBackward(dy, x, gamma, beta, mean, invStd, argmax, channels, activation === 'relu', pool) ??
      bnActPoolBackward(base, dy, x, gamma, beta, mean, invStd, argmax, channels, activation),
  };
}
