// The reference backend: the specification of every op. Direct loops written to be read
// (dense.ts, elementwise.ts, activation.ts, optimizers.ts), the fused ops as compositions of
// those (fused.ts). It shares no code with the GEMM, im2col or WebAssembly paths it checks.
import { toHost } from '../../device-storage.js';
import type { Backend, PlainOps } from '../types.js';
import { activationForward, activationGradient } from './activation.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, matmul } from './dense.js';
import { avgPool, avgPoolBackprop } from './avg-pool.js';
import { depthwiseConv2d, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput } from './depthwise.js';
import { reluWithOptions, reluWithOptionsBackward, zeroPad2d, zeroPad2dBackprop } from './pad-relu.js';
import * as el from './elementwise.js';
import { add, combine, concat, concatBackward, extremum, extremumBackward } from './merge.js';
import { adjustContrast, adjustContrastBackward, imageTransform, imageTransformBackward } from './image.js';
import { referenceDropout } from './dropout.js';
import { composedBatchNormOps, composedConvOps } from './fused.js';
import { adamUpdate, rmspropUpdate, sgdUpdate } from './optimizers.js';

/** The reference's plain ops (no fused ones): the cpu backend starts from them and replaces the fast ones. */
export const referencePlainOps = {
  name: 'reference',
  matmul,
  conv2d,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  biasAdd: el.biasAdd,
  biasGrad: el.biasGrad,
  maxPool: el.maxPool,
  maxPoolBackprop: el.maxPoolBackprop,
  avgPool,
  avgPoolBackprop,
  depthwiseConv2d,
  depthwiseConv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  zeroPad2d,
  zeroPad2dBackprop,
  reluWithOptions,
  reluWithOptionsBackward,
  batchNormTrain: el.batchNormTrain,
  batchNormInference: el.batchNormInference,
  batchNormBackward: el.batchNormBackward,
  activation: activationForward,
  activationBackward: activationGradient,
  multiply: el.multiply,
  dropout: referenceDropout,
  add,
  concat,
  concatBackward,
  combine,
  extremum,
  extremumBackward,
  imageTransform,
  imageTransformBackward,
  adjustContrast,
  adjustContrastBackward,
  sgdUpdate,
  adamUpdate,
  rmspropUpdate,
  // Host arrays stay as they are; another backend's device array comes back to the host.
  hold: toHost,
  scope: <T>(fn: () => T): T => fn(),
} satisfies PlainOps;

/**
 * The plain TypeScript backend: the specification every faster path is tested against
 * (`setBackend('reference')`). Its fused ops are the compositions of its plain ops.
 *
 * @example
 * referenceBackend.conv2d(x, w, conv2dInfo([1, 5, 5, 3], 3, 8, 1, 'same'));
 */
export const referenceBackend: Backend = {
  ...referencePlainOps,
  fused: { conv: composedConvOps(referencePlainOps), batchNormActPool: composedBatchNormOps(referencePlainOps) },
};
