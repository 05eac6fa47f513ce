import type { Conv2DInfo } from '../../geometry.js';
import { batchNormBackwardScales, batchNormScaleShift } from '../reference/elementwise.js';
import type { BatchNormActPoolResult, BatchNormTrainResult, ReluOptions } from '../types.js';
import { ACTIVATION_CODE, POOL_GEOMETRY as P, POOL_GEOMETRY_WORDS, type JobArgs, type JobName } from './engine-exports.generated.js';
import { align, getEngine, reserve, runJobs, type Engine } from './engine.js';
import { elementRanges, place, split } from './parts.js';
import { residentAt, residentF32, residentI32, result, resultInt32, scratchFor, stage } from './resident.js';

/**
 * Batch normalization, relu and max pooling in WebAssembly SIMD (asm/elementwise.ts): operands
 * are copied into the shared memory once, each pass runs split by rows over the threads, and
 * results are copied out once. Same results as the reference ops within float32 rounding (sums
 * in f64, the variance from shifted sums: see channelStats); each returns null where the engine is missing or the operands do
 * not fit in its memory, and the caller runs its own loops.
 */
export interface ElementwiseKernels {
  /** See Backend.batchNormTrain. */
  batchNormTrain(x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number): BatchNormTrainResult | null;
  /** See Backend.batchNormInference. */
  batchNormInference(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, channels: number, epsilon: number,
  ): Float32Array | null;
  /** See Backend.batchNormBackward. */
  batchNormBackward(
    dy: Float32Array, xHat: Float32Array, gamma: Float32Array, invStd: Float32Array, channels: number,
  ): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array } | null;
  /** y = x > 0 ? x : 0. */
  relu(x: Float32Array): Float32Array | null;
  /** dx = x > 0 ? dy : 0. */
  reluBackward(dy: Float32Array, x: Float32Array): Float32Array | null;
  /** See Backend.reluWithOptions. */
  reluWithOptions(x: Float32Array, options: ReluOptions): Float32Array | null;
  /** y = sigmoid(x) or tanh(x) (SIMD exp, ~2 ulp); null for other kinds and arrays under 1024 values. */
  activation(kind: 'sigmoid' | 'tanh', x: Float32Array): Float32Array | null;
  /** dx = dy·y·(1 − y) (sigmoid) or dy·(1 − y²) (tanh) from the forward's output y. */
  activationBackward(kind: 'sigmoid' | 'tanh', dy: Float32Array, y: Float32Array): Float32Array | null;
  /** See Backend.maxPool. */
  maxPool(x: Float32Array, info: Conv2DInfo): { y: Float32Array; argmax: Int32Array } | null;
  /** See Backend.avgPool (the reference's bits: f64 sums in window order); null under {@link ELEMENT_MIN} input values. */
  avgPool(x: Float32Array, info: Conv2DInfo): Float32Array | null;
  /** y = a + b (the f32 sums, as the reference); null under {@link ELEMENT_MIN} values. */
  add(a: Float32Array, b: Float32Array): Float32Array | null;
  /** See Backend.batchNormActPoolTrain (pool windows must not overlap). */
  batchNormActPoolTrain(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number, relu: boolean, pool: Conv2DInfo,
  ): BatchNormActPoolResult | null;
  /** See Backend.batchNormActPoolBackward. */
  batchNormActPoolBackward(
    dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, invStd: Float32Array,
    argmax: Int32Array, channels: number, relu: boolean, pool: Conv2DInfo,
  ): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array } | null;
}

/**
 * The index of the first NaN or ±Infinity in `a`, or -1, tested by the threads where the engine
 * holds `a` (a step's batch: the cpu backend's `hold(a, true)`); null for an array the engine does
 * not hold or a short one (a copy in, or a job, would cost more than the caller's own loop).
 */
export function firstNonFinite(a: Float32Array): number | null {
  const e = getEngine();
  if (e === null || a.length < FIND_MIN) return null;
  const at = residentAt(e, a);
  if (at < 0) return null;
  const n = a.length;
  const { offs, end } = place(e.workBase, [1, 1]);
  if (!reserve(e, end)) return null;
  const words = new Int32Array(e.memory.buffer);
  words[offs[0] >> 2] = 0;
  words[offs[1] >> 2] = n;
  // Threads as for any element-wise pass of this length, each taking chunks as it comes free.
  const threads = elementRanges(n).length;
  runJobs(e, 'findNonFinite', Array.from({ length: threads }, () => [at, 0, n, FIND_CHUNK, offs[0], offs[1]]), true);
  const found = words[offs[1] >> 2];
  return found < n ? found : -1;
}

/** Values per chunk of firstNonFinite's threads (64 KiB). */
export const FIND_CHUNK = 1 << 14;

/** Below this many values firstNonFinite leaves the test to the caller's loop. */
const FIND_MIN = 1 << 16;

/**
 * Below this many values add and average pooling stay in the reference loops: one add per value
 * read, so a job (and a copy in of an operand the engine does not hold) costs more than it saves.
 */
export const ELEMENT_MIN = 1 << 14;

/** Below this many values sigmoid and tanh stay in the reference loops (a call costs more). */
const ACTIVATION_MIN = 1024;

/**
 * Runs a per-channel f64 reduction (`width` doubles per part) over row ranges, each part into its
 * own zeroed accumulator block from `acc` (blocks align(width·8, 64) bytes apart), and returns the
 * accumulators added in part order.
 */
export function reduceRows<K extends JobName>(
  e: Engine, kind: K, parts: [number, number][], acc: number, width: number, args: (r0: number, r1: number, acc: number) => NoInfer<JobArgs<K>>,
): Float64Array {
  const stride = align(width * 8, 64);
  new Uint8Array(e.memory.buffer, acc, stride * parts.length).fill(0);
  runJobs(e, kind, parts.map(([r0, r1], i) => args(r0, r1, acc + i * stride)));
  const total = new Float64Array(width);
  for (let i = 0; i < parts.length; i++) {
    const a = new Float64Array(e.memory.buffer, acc + i * stride, width);
    for (let c = 0; c < width; c++) total[c] += a[c];
  }
  return total;
}

// Batch mean, biased variance and 1/sqrt(variance + ε) of x at offX (f64 sums); mean is also
// written at offMean. One pass of sums shifted by row 0's values (asm channelShiftedSums), exact
// differences in f64, so a large mean costs no precision; where row 0 holds a NaN or ±∞ (the
// shift would turn every difference into NaN) or lies so far out that S2/R − (S1/R)² would cancel
// (S2/R over 10⁶ times the variance, NaN included), the two-pass mean and squared deviation.
function channelStats(
  e: Engine, offX: number, rows: number, C: number, parts: [number, number][], offAcc: number, offMean: number, epsilon: number,
): { mean: Float32Array; variance: Float32Array; invStd: Float32Array } {
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  const invStd = new Float32Array(C);
  const shift = e.f32.slice(offX >> 2, (offX >> 2) + C);
  let onePass = shift.every(Number.isFinite);
  if (onePass) {
    const sums = reduceRows(e, 'channelShiftedSums', parts, offAcc, 2 * C, (r0, r1, acc) => [offX, offX, C, r0, r1, acc]);
    for (let c = 0; c < C; c++) {
      const d = sums[c] / rows;
      const meanSq = sums[C + c] / rows;
      mean[c] = shift[c] + d;
      variance[c] = Math.max(0, meanSq - d * d);
      // Row 0 far out in its channel: S2/R − d² cancels more than f64 can spare.
      if (!(meanSq <= 1e6 * variance[c] || meanSq === 0)) onePass = false;
    }
  }
  if (!onePass) {
    const sum = reduceRows(e, 'channelSum', parts, offAcc, C, (r0, r1, acc) => [offX, C, r0, r1, acc]);
    for (let c = 0; c < C; c++) mean[c] = sum[c] / rows;
    e.f32.set(mean, offMean >> 2);
    const sumSq = reduceRows(e, 'channelSquaredDeviation', parts, offAcc, C, (r0, r1, acc) => [offX, offMean, C, r0, r1, acc]);
    for (let c = 0; c < C; c++) variance[c] = sumSq[c] / rows;
  }
  e.f32.set(mean, offMean >> 2);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
  return { mean, variance, invStd };
}

// Batch-norm backward per channel from the f64 sums [Σdy | Σ(dy·xHat)]: k = γ·invStd and the two
// means, written at offK, offMd, offMdx for the apply pass; returns the two sums.
function writeBackwardScales(
  e: Engine, sums: Float64Array, gamma: Float32Array, invStd: Float32Array, rows: number, C: number, offK: number, offMd: number, offMdx: number,
): { sumDy: Float64Array; sumDyX: Float64Array } {
  const sumDy = sums.subarray(0, C);
  const sumDyX = sums.subarray(C);
  const { k, meanDy, meanDyX } = batchNormBackwardScales(sumDy, sumDyX, gamma, invStd, rows, C);
  setChannels(e, C, [offK, k], [offMd, meanDy], [offMdx, meanDyX]);
  return { sumDy, sumDyX };
}

/** Copies the first C values of each per-channel vector into the engine memory at its byte offset. */
function setChannels(e: Engine, C: number, ...vectors: [offset: number, values: Float32Array][]): void {
  for (const [offset, values] of vectors) e.f32.set(values.subarray(0, C), offset >> 2);
}

/**
 * An element-wise pass over inputs[0].length values: stages the first that many values of each
 * input, runs `kind` over element ranges (args gets the inputs' offsets, the range and the
 * output's offset) and returns the output; null when the operands do not fit.
 */
function elementJobs<K extends JobName>(
  e: Engine, kind: K, inputs: Float32Array[], args: (offIn: number[], i0: number, i1: number, offOut: number) => NoInfer<JobArgs<K>>,
): Float32Array | null {
  const n = inputs[0].length;
  const outRes = residentF32(e, n);
  const staged = inputs.map((a) => a.subarray(0, n));
  const { offs, end } = place(e.workBase, [...staged.map((a) => scratchFor(e, a)), outRes ? 0 : n]);
  if (!reserve(e, end)) return null;
  const offIn = staged.map((a, i) => stage(e, a, offs[i]));
  const offOut = outRes ? outRes.byteOffset : offs[staged.length];
  runJobs(e, kind, elementRanges(n).map(([i0, i1]) => args(offIn, i0, i1, offOut)));
  return result(e, outRes, offOut, n);
}

/** Writes the pool geometry block (P_* of asm/geometry.ts) of `info` with its operands' byte offsets at offG. */
export function writePoolGeometry(e: Engine, offG: number, info: Conv2DInfo, offX: number, offY: number, offA: number): void {
  const g = new Int32Array(e.memory.buffer, offG, POOL_GEOMETRY_WORDS);
  g[P.H] = info.inHeight;
  g[P.W] = info.inWidth;
  g[P.C] = info.inChannels;
  g[P.OH] = info.outHeight;
  g[P.OW] = info.outWidth;
  g[P.KH] = info.filterHeight;
  g[P.KW] = info.filterWidth;
  g[P.SH] = info.strideHeight;
  g[P.SW] = info.strideWidth;
  g[P.PT] = info.padTop;
  g[P.PL] = info.padLeft;
  g[P.X] = offX;
  g[P.Y] = offY;
  g[P.ARGMAX] = offA;
}

/** The WebAssembly element-wise kernels; see {@link ElementwiseKernels}. */
export const elementwiseFast: ElementwiseKernels = {
  batchNormTrain(x, gamma, beta, C, epsilon) {
    const e = getEngine();
    if (e === null) return null;
    const rows = x.length / C;
    const parts = split(rows, x.length);
    const accBytes = parts.length * align(2 * C * 8, 64);
    const yRes = residentF32(e, x.length);
    const hRes = residentF32(e, x.length);
    const { offs, end } = place(e.workBase, [accBytes / 4, C, C, C, C, scratchFor(e, x), hRes ? 0 : x.length, yRes ? 0 : x.length]);
    if (!reserve(e, end)) return null;
    const [offAcc, offMean, offInv, offG, offB] = offs;
    const offX = stage(e, x, offs[5]);
    const offH = hRes ? hRes.byteOffset : offs[6];
    const offY = yRes ? yRes.byteOffset : offs[7];
    const { mean, variance, invStd } = channelStats(e, offX, rows, C, parts, offAcc, offMean, epsilon);
    setChannels(e, C, [offInv, invStd], [offG, gamma], [offB, beta]);
    runJobs(e, 'batchNormApply', parts.map(([r0, r1]) => [offX, offMean, offInv, offG, offB, C, r0, r1, offH, offY]));
    return { y: result(e, yRes, offY, x.length), mean, variance, xHat: result(e, hRes, offH, x.length), invStd };
  },

  batchNormInference(x, gamma, beta, mean, variance, C, epsilon) {
    const e = getEngine();
    if (e === null) return null;
    const { scale, shift } = batchNormScaleShift(gamma, beta, mean, variance, C, epsilon);
    const yRes = residentF32(e, x.length);
    const { offs, end } = place(e.workBase, [C, C, scratchFor(e, x), yRes ? 0 : x.length]);
    if (!reserve(e, end)) return null;
    const [offS, offT] = offs;
    const offX = stage(e, x, offs[2]);
    const offY = yRes ? yRes.byteOffset : offs[3];
    setChannels(e, C, [offS, scale], [offT, shift]);
    const parts = split(x.length / C, x.length);
    runJobs(e, 'scaleShift', parts.map(([r0, r1]) => [offX, offS, offT, C, r0, r1, offY]));
    return result(e, yRes, offY, x.length);
  },

  batchNormBackward(dy, xHat, gamma, invStd, C) {
    const e = getEngine();
    if (e === null) return null;
    const rows = dy.length / C;
    const parts = split(rows, dy.length);
    const accBytes = parts.length * align(2 * C * 8, 64);
    const dxRes = residentF32(e, dy.length);
    const { offs, end } = place(e.workBase, [accBytes / 4, C, C, C, scratchFor(e, dy), scratchFor(e, xHat), dxRes ? 0 : dy.length]);
    if (!reserve(e, end)) return null;
    const [offAcc, offK, offMd, offMdx] = offs;
    const offDy = stage(e, dy, offs[4]);
    const offH = stage(e, xHat.subarray(0, dy.length), offs[5]);
    const offDx = dxRes ? dxRes.byteOffset : offs[6];
    const sums = reduceRows(e, 'batchNormBackwardSums', parts, offAcc, 2 * C, (r0, r1, acc) => [offDy, offH, C, r0, r1, acc]);
    const { sumDy, sumDyX } = writeBackwardScales(e, sums, gamma, invStd, rows, C, offK, offMd, offMdx);
    runJobs(e, 'batchNormBackwardApply', parts.map(([r0, r1]) => [offDy, offH, offK, offMd, offMdx, C, r0, r1, offDx]));
    return { dx: result(e, dxRes, offDx, dy.length), dGamma: Float32Array.from(sumDyX), dBeta: Float32Array.from(sumDy) };
  },

  relu(x) {
    const e = getEngine();
    if (e === null) return null;
    return elementJobs(e, 'reluForward', [x], ([offX], i0, i1, offY) => [offX, i0, i1, offY]);
  },

  reluWithOptions(x, { maxValue, negativeSlope, threshold }) {
    const e = getEngine();
    if (e === null) return null;
    const bits = new Int32Array(Float32Array.of(maxValue, negativeSlope, threshold).buffer);
    return elementJobs(e, 'reluOptionsForward', [x], ([offX], i0, i1, offY) => [offX, i0, i1, offY, bits[0], bits[1], bits[2]]);
  },

  reluBackward(dy, x) {
    const e = getEngine();
    if (e === null) return null;
    return elementJobs(e, 'reluBackward', [dy, x], ([offDy, offX], i0, i1, offDx) => [offDy, offX, i0, i1, offDx]);
  },

  activation(kind, x) {
    const e = getEngine();
    if (e === null || x.length < ACTIVATION_MIN) return null;
    const k = kind === 'sigmoid' ? ACTIVATION_CODE.SIGMOID : ACTIVATION_CODE.TANH;
    return elementJobs(e, 'activationForward', [x], ([offX], i0, i1, offY) => [k, offX, i0, i1, offY]);
  },

  activationBackward(kind, dy, y) {
    const e = getEngine();
    if (e === null || dy.length < ACTIVATION_MIN) return null;
    const k = kind === 'sigmoid' ? ACTIVATION_CODE.SIGMOID : ACTIVATION_CODE.TANH;
    return elementJobs(e, 'activationBackward', [dy, y], ([offDy, offY], i0, i1, offDx) => [k, offDy, offY, i0, i1, offDx]);
  },

  batchNormActPoolTrain(x, gamma, beta, C, epsilon, relu, pool) {
    const e = getEngine();
    if (e === null) return null;
    const rows = x.length / C;
    const parts = split(rows, x.length);
    const sizeY = pool.batch * pool.outHeight * pool.outWidth * C;
    const accBytes = parts.length * align(2 * C * 8, 64);
    const yRes = residentF32(e, sizeY);
    const aRes = residentI32(e, sizeY);
    const { offs, end } = place(e.workBase, [accBytes / 4, POOL_GEOMETRY_WORDS, C, C, C, C, scratchFor(e, x), yRes ? 0 : sizeY, aRes ? 0 : sizeY]);
    if (!reserve(e, end)) return null;
    const [offAcc, offG, offMean, offInv, offGa, offB] = offs;
    const offX = stage(e, x, offs[6]);
    const offY = yRes ? yRes.byteOffset : offs[7];
    const offA = aRes ? aRes.byteOffset : offs[8];
    const { mean, variance, invStd } = channelStats(e, offX, rows, C, parts, offAcc, offMean, epsilon);
    setChannels(e, C, [offInv, invStd], [offGa, gamma], [offB, beta]);
    writePoolGeometry(e, offG, pool, offX, offY, offA);
    const q = split(pool.batch * pool.outHeight, x.length);
    runJobs(e, 'bnActMaxPool', q.map(([q0, q1]) => [offG, q0, q1, offMean, offInv, offGa, offB, relu ? 1 : 0]));
    return { y: result(e, yRes, offY, sizeY), argmax: resultInt32(e, aRes, offA, sizeY), mean, variance, invStd };
  },

  batchNormActPoolBackward(dy, x, gamma, beta, mean, invStd, argmax, C, relu, pool) {
    const e = getEngine();
    if (e === null) return null;
    const rows = x.length / C;
    const q = split(pool.batch * pool.outHeight, x.length);
    const accBytes = q.length * align(2 * C * 8, 64);
    const dxRes = residentF32(e, x.length);
    const { offs, end } = place(e.workBase, [
      accBytes / 4, POOL_GEOMETRY_WORDS, C, C, C, C, C, C, C, scratchFor(e, x), scratchFor(e, dy), scratchFor(e, argmax), dxRes ? 0 : x.length,
    ]);
    if (!reserve(e, end)) return null;
    const [offAcc, offG, offMean, offInv, offGa, offB, offK, offMd, offMdx] = offs;
    const offX = stage(e, x, offs[9]);
    const offDy = stage(e, dy, offs[10]);
    const offA = stage(e, argmax, offs[11]);
    const offDx = dxRes ? dxRes.byteOffset : offs[12];
    setChannels(e, C, [offMean, mean], [offInv, invStd], [offGa, gamma], [offB, beta]);
    writePoolGeometry(e, offG, pool, offX, 0, offA);
    const r = relu ? 1 : 0;
    const sums = reduceRows(e, 'bnActPoolBackwardSums', q, offAcc, 2 * C, (q0, q1, acc) => [offG, q0, q1, offDy, offMean, offInv, offGa, offB, r, acc]);
    const { sumDy: sumDz, sumDyX: sumDzX } = writeBackwardScales(e, sums, gamma, invStd, rows, C, offK, offMd, offMdx);
    const inRows = split(pool.batch * pool.inHeight, x.length);
    runJobs(e, 'bnActPoolBackwardApply', inRows.map(([r0, r1]) => [offG, r0, r1, offDy, offMean, offInv, offGa, offB, r, offK, offMd, offMdx, offDx]));
    return { dx: result(e, dxRes, offDx, x.length), dGamma: Float32Array.from(sumDzX), dBeta: Float32Array.from(sumDz) };
  },

  add(a, b) {
    const e = getEngine();
    if (e === null || a.length < ELEMENT_MIN) return null;
    return elementJobs(e, 'addForward', [a, b], ([offA, offB], i0, i1, offY) => [offA, offB, i0, i1, offY]);
  },

  avgPool(x, info) {
    const e = getEngine();
    if (e === null || x.length < ELEMENT_MIN) return null;
    const { batch, outHeight: OH, outWidth: OW, inChannels: C } = info;
    const sizeY = batch * OH * OW * C;
    const yRes = residentF32(e, sizeY);
    const { offs, end } = place(e.workBase, [POOL_GEOMETRY_WORDS, scratchFor(e, x), yRes ? 0 : sizeY]);
    if (!reserve(e, end)) return null;
    const offX = stage(e, x, offs[1]);
    const offY = yRes ? yRes.byteOffset : offs[2];
    writePoolGeometry(e, offs[0], info, offX, offY, 0);
    runJobs(e, 'avgPool', split(batch * OH, x.length).map(([q0, q1]) => [offs[0], q0, q1]));
    return result(e, yRes, offY, sizeY);
  },

  maxPool(x, info) {
    const e = getEngine();
    if (e === null) return null;
    const sizeY = info.batch * info.outHeight * info.outWidth * info.inChannels;
    const yRes = residentF32(e, sizeY);
    const aRes = residentI32(e, sizeY);
    const { offs, end } = place(e.workBase, [POOL_GEOMETRY_WORDS, scratchFor(e, x), yRes ? 0 : sizeY, aRes ? 0 : sizeY]);
    if (!reserve(e, end)) return null;
    const offG = offs[0];
    const offX = stage(e, x, offs[1]);
    const offY = yRes ? yRes.byteOffset : offs[2];
    const offA = aRes ? aRes.byteOffset : offs[3];
    maxPoolInMemory(e, info, offG, offX, offY, offA);
    return { y: result(e, yRes, offY, sizeY), argmax: resultInt32(e, aRes, offA, sizeY) };
  },
};

/**
 * Max pooling of x (at byte offX of wasm memory, [batch, inH, inW, C]) into y and argmax (at offY
 * and offA, each batch·outH·outW·C), split over the threads; offG holds the geometry block.
 */
export function maxPoolInMemory(e: Engine, info: Conv2DInfo, offG: number, offX: number, offY: number, offA: number): void {
  const { batch, outHeight: OH, outWidth: OW, inChannels: C } = info;
  writePoolGeometry(e, offG, info, offX, offY, offA);
  const parts = split(batch * OH, batch * info.inHeight * info.inWidth * C);
  runJobs(e, 'maxPool', parts.map(([q0, q1]) => [offG, q0, q1]));
}
