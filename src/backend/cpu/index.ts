// The fast cpu backend: the op table wired to the WebAssembly kernels (src/backend/wasm/), each
// falling back where a kernel declines a case: convolutions and matmul to im2col + the GEMM
// (gemm-lowering.ts), everything else to the specification's loops (src/backend/reference/).
// Depthwise convolutions run in WebAssembly where C·M (channels × depth multiplier) is a multiple of 4
// (src/backend/wasm/depthwise-fast.ts), else the reference's loops; zero padding and relu with options' backward are those loops only (one copy or
// compare per value); relu with options' forward runs in WebAssembly (MobileNet's relu6 after every
// convolution of an inference pass). Average pooling's forward and the add op (the Add layer of a
// residual network) run in WebAssembly from ELEMENT_MIN values (their JavaScript loops took ~1 ms a
// call of the residual example); average pooling's backward and the other merge
// ops (combine, extremum) and the augmentation ops (imageTransform, adjustContrast) are the reference's
// loops too: paired in `npm run bench -- --filter augment`, a rotation's forward + backward costs about
// the seed model's first convolution's, not a step's bulk.
import { dropoutFast } from './dropout-fast.js';
import type { Gemm } from '../gemm.js';
import type { Backend, PlainOps } from '../types.js';
import type { ConvKernels } from '../wasm/conv-fast.js';
import { depthwiseFast } from '../wasm/depthwise-fast.js';
import { elementwiseFast, firstNonFinite as firstNonFiniteHeld, type ElementwiseKernels } from '../wasm/elementwise-fast.js';
import { firstNonFinite } from '../../util/finite.js';
import { matmulWeight } from '../wasm/packed-weights.js';
import { referencePlainOps } from '../reference/index.js';
import { getEngine, reserve, runJobs, wakeEngineThreads } from '../wasm/engine.js';
import { elementRanges, place } from '../wasm/parts.js';
import { holdResident, residentAt, residentCopy, scratchFor, stage } from '../wasm/resident.js';
import { cpuFusedBatchNorm, cpuFusedConv } from './fused.js';
import { gemmOps } from './gemm-lowering.js';

/**
 * SGD in place: in the engine over the threads for large arrays (asm/optimizer.ts, f64 lanes: the
 * reference's arithmetic bit for bit), else the loops below. Plain SGD runs four elements per
 * iteration here (V8 runs that faster; same arithmetic as the reference's).
 */
function sgdUpdate(value: Float32Array, grad: Float32Array, velocity: Float32Array | null, lr: number, momentum: number, nesterov: boolean): void {
  const plain = !velocity || momentum === 0;
  if (value.length >= SGD_ENGINE_MIN && sgdInEngine(value, grad, plain ? null : velocity, lr, momentum, nesterov)) return;
  if (plain) {
    const n = value.length;
    const n4 = n & ~3;
    let i = 0;
    for (; i < n4; i += 4) {
      value[i] -= lr * grad[i];
      value[i + 1] -= lr * grad[i + 1];
      value[i + 2] -= lr * grad[i + 2];
      value[i + 3] -= lr * grad[i + 3];
    }
    for (; i < n; i++) value[i] -= lr * grad[i];
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const v = momentum * velocity![i] - lr * grad[i];
    velocity![i] = v;
    value[i] += nesterov ? momentum * v - lr * grad[i] : v;
  }
}

// Below this many values the copies into the engine's memory and back cost more than the loops save.
const SGD_ENGINE_MIN = 1 << 16;

// value (and velocity) updated in the engine over the threads. Arrays held there (holdResident:
// a model's large weights and gradients) are updated where they are; the others are staged in
// and copied back.
function sgdInEngine(value: Float32Array, grad: Float32Array, velocity: Float32Array | null, lr: number, momentum: number, nesterov: boolean): boolean {
  const e = getEngine();
  if (e === null) return false;
  const n = value.length;
  const g = grad.subarray(0, n);
  const v = velocity ? velocity.subarray(0, n) : null;
  const { offs, end } = place(e.workBase, [4, scratchFor(e, value), scratchFor(e, g), v ? scratchFor(e, v) : 0]);
  if (!reserve(e, end)) return false;
  const offP = offs[0];
  new Float64Array(e.memory.buffer, offP, 2).set([lr, momentum]);
  const offW = stage(e, value, offs[1]);
  const offG = stage(e, g, offs[2]);
  const offV = v ? stage(e, v, offs[3]) : 0;
  const parts = elementRanges(n);
  if (v) runJobs(e, 'sgdMomentum', parts.map(([i0, i1]) => [offW, offG, offV, i0, i1, offP, nesterov ? 1 : 0]));
  else runJobs(e, 'sgdPlain', parts.map(([i0, i1]) => [offW, offG, i0, i1, offP]));
  if (residentAt(e, value) < 0) value.set(e.f32.subarray(offW >> 2, (offW >> 2) + n));
  if (v && residentAt(e, v) < 0) v.set(e.f32.subarray(offV >> 2, (offV >> 2) + n));
  return true;
}

/** `base` with its batch-norm, relu (with options: forward only), sigmoid, tanh, max- and average-pool (forward) and add ops run by `k` wherever `k` can (it returns null where not). */
function withElementwise(base: PlainOps, k: ElementwiseKernels): PlainOps {
  return {
    ...base,
    batchNormTrain: (x, gamma, beta, channels, epsilon) =>
      k.batchNormTrain(x, gamma, beta, channels, epsilon) ?? base.batchNormTrain(x, gamma, beta, channels, epsilon),
    batchNormInference: (x, gamma, beta, mean, variance, channels, epsilon) =>
      k.batchNormInference(x, gamma, beta, mean, variance, channels, epsilon) ?? base.batchNormInference(x, gamma, beta, mean, variance, channels, epsilon),
    batchNormBackward: (dy, xHat, gamma, invStd, channels) =>
      k.batchNormBackward(dy, xHat, gamma, invStd, channels) ?? base.batchNormBackward(dy, xHat, gamma, invStd, channels),
    activation: (kind, x, channels, alpha) =>
      (kind === 'relu' ? k.relu(x) : kind === 'sigmoid' || kind === 'tanh' ? k.activation(kind, x) : null) ?? base.activation(kind, x, channels, alpha),
    activationBackward: (kind, dy, x, y, channels, alpha) =>
      (kind === 'relu' ? k.reluBackward(dy, x) : kind === 'sigmoid' || kind === 'tanh' ? k.activationBackward(kind, dy, y) : null) ??
      base.activationBackward(kind, dy, x, y, channels, alpha),
    maxPool: (x, info) => k.maxPool(x, info) ?? base.maxPool(x, info),
    avgPool: (x, info) => k.avgPool(x, info) ?? base.avgPool(x, info),
    add: (a, b) => k.add(a, b) ?? base.add(a, b),
    reluWithOptions: (x, options) => k.reluWithOptions(x, options) ?? base.reluWithOptions(x, options),
  };
}

/**
 * Builds a CPU backend around a GEMM: matmul and the convolutions lowered onto it (im2col), the
 * rest the reference's loops. With `conv`, convolutions run through those kernels first (and the
 * fused convolution ops exist). With `elementwise` (by default the WebAssembly kernels whenever
 * `conv` is given; null: none), batch normalization, relu, sigmoid, tanh and max pooling run
 * through those kernels first (and the fused batch norm → activation → pool exists).
 *
 * @example
 * const cpu = createCpuBackend('cpu', gemmFast, convFast);
 */
export function createCpuBackend(
  name: string, gemm: Gemm, conv?: ConvKernels, elementwise: ElementwiseKernels | null = conv ? elementwiseFast : null,
): Backend {
  const lowered = gemmOps(gemm);
  const plain = {
    ...referencePlainOps,
    name,
    // A weight B (a Dense kernel at inference) stays packed in the engine's memory between calls.
    matmul: (a, b, m, k, n, transA, transB, bVersion) =>
      (conv && bVersion !== undefined && !transA && !transB && matmulWeight(a, b, m, k, n, bVersion)) || lowered.matmul(a, b, m, k, n, transA, transB),
    conv2d: (x, w, info) => conv?.conv2d(x, w, info, null, false) ?? lowered.conv2d(x, w, info),
    conv2dBackpropInput: (dy, w, info) => conv?.conv2dBackpropInput(dy, w, info) ?? lowered.conv2dBackpropInput(dy, w, info),
    conv2dBackpropFilter: (x, dy, info) => conv?.conv2dBackpropFilter(x, dy, info) ?? lowered.conv2dBackpropFilter(x, dy, info),
    // Where the WebAssembly convolutions run (conv given), the depthwise ones do too.
    depthwiseConv2d: (x, w, info) => (conv && depthwiseFast.depthwiseConv2d(x, w, info)) ?? referencePlainOps.depthwiseConv2d(x, w, info),
    depthwiseConv2dBackpropInput: (dy, w, info) =>
      (conv && depthwiseFast.depthwiseConv2dBackpropInput(dy, w, info)) ?? referencePlainOps.depthwiseConv2dBackpropInput(dy, w, info),
    depthwiseConv2dBackpropFilter: (x, dy, info) =>
      (conv && depthwiseFast.depthwiseConv2dBackpropFilter(x, dy, info)) ?? referencePlainOps.depthwiseConv2dBackpropFilter(x, dy, info),
    sgdUpdate,
    dropout: dropoutFast,
    // Where the engine runs (conv given), a model's large weights and gradients live in its memory,
    // and a step's batch is copied in once for the step (the first convolution's forward and
    // filter gradient both read it; else each would copy it in).
    hold: (a, forStep) => {
      const host = referencePlainOps.hold(a);
      return !conv ? host : forStep ? residentCopy(host) : holdResident(host);
    },
    firstNonFinite: (a) => (conv && firstNonFiniteHeld(a)) ?? firstNonFinite(a),
    wake: () => {
      if (conv) wakeEngineThreads();
    },
  } satisfies PlainOps;
  const base = elementwise ? withElementwise(plain, elementwise) : plain;
  return {
    ...base,
    fused: {
      conv: conv ? cpuFusedConv(base, conv) : null,
      batchNormActPool: elementwise ? cpuFusedBatchNorm(base, elementwise) : null,
    },
  };
}
