import { isPointwise, type Conv2DInfo } from '../../geometry.js';
import { CONV_GEOMETRY, CONV_GEOMETRY_WORDS, POOL_GEOMETRY_WORDS, type JobArgs } from './engine-exports.generated.js';
import { align, getEngine, reserve, runJobs, threads, type Engine } from './engine.js';
import { maxPoolInMemory, reduceRows, writePoolGeometry } from './elementwise-fast.js';
import { elementRanges, place, ranges, threadCount } from './parts.js';
import { copyOut, residentF32, residentI32, result, resultInt32, scratchFor, stage } from './resident.js';
import {
  filterFloats, filterPartBytes, forwardThreads, layout, transformedFloats, useDirect, useWinograd, useWinograd4, winograd4Tiles,
  resetCounter, useWinograd4Grad, useWinograd4TrainPool, winograd4GradTiles, winogradTiles, writeGeometry, type Layout,
} from './conv-plan.js';
import { heldWinograd4Filter, winograd2Packed, winogradPools, winogradRun } from './conv-winograd.js';

/**
 * Convolutions run whole in WebAssembly (asm/im2col.ts, direct.ts, winograd2.ts, winograd4.ts): the operands are copied into the shared
 * memory once, im2col/col2im and the GEMM run there block by block on every thread, and the
 * result is copied out once. Each returns null where the WebAssembly engine is missing or the
 * operands do not fit in its memory; the caller then lowers the op itself.
 */
export interface ConvKernels {
  /** y [batch, outH, outW, outC] = x ⋆ w (+ bias[outC]), then max(·, 0) when relu. */
  conv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean): Float32Array | null;
  /**
   * maxPool(conv2d(x, w, info, bias, relu), pool).y: the convolution's output stays in wasm
   * memory and only the pooled result is copied out (inference; no argmax is kept). With
   * `wVersion` (w is a weight at that version), a Winograd F(4×4) transform of w is kept for the
   * next call (heldWinograd4Filter).
   */
  conv2dMaxPool(x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean, pool: Conv2DInfo, wVersion?: number): Float32Array | null;
  /** conv2dMaxPool for training: the pooled output and its argmax (flat index in the conv output). */
  conv2dMaxPoolTrain(
    x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean, pool: Conv2DInfo,
  ): { y: Float32Array; argmax: Int32Array } | null;
  /**
   * Gradients of conv2dMaxPoolTrain from the pooled gradient dy, its pooled output y and argmax:
   * dz = the pooled gradient at each argmax cell (where y > 0 when relu), 0 elsewhere; then
   * db, dw, dx from dz as conv2dBackward, each only when asked.
   */
  conv2dMaxPoolBackward(
    x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, argmax: Int32Array, info: Conv2DInfo, relu: boolean,
    need: { dx: boolean; dw: boolean; db: boolean },
  ): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null } | null;
  /** dx [batch, inH, inW, inC] from dy [batch, outH, outW, outC] and w [fh, fw, inC, outC]. */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array | null;
  /** dw [fh, fw, inC, outC] from x and dy. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array | null;
  /**
   * All gradients of y = act(x ⋆ w + b) from one copy of dy: dz = relu'·dy when reluY (the
   * forward's output) is given, else dy; then db = Σ dz, dw and dx, each only when asked.
   */
  conv2dBackward(
    x: Float32Array, w: Float32Array, dy: Float32Array, reluY: Float32Array | null, info: Conv2DInfo,
    need: { dx: boolean; dw: boolean; db: boolean },
  ): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null } | null;
}

// Stages x (unless resident) and copies w and bias in at their offsets, then computes
// y = conv(x, w) (+ bias, relu) at offY; with `pooledAt` (where winogradPools), its 2×2 max pool
// there instead (and its argmax at `argmaxAt` unless 0), and nothing at offY. `heldU`: where
// F(4×4) runs, its filter transform already in memory there (heldWinograd4Filter), else -1.
function forwardInMemory(
  e: Engine, lay: Layout, info: Conv2DInfo, x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean,
  offX: number, offW: number, offB: number, offY: number, pooledAt = 0, argmaxAt = 0, heldU = -1,
): void {
  offX = stage(e, x, offX);
  if (heldU < 0) e.f32.set(w, offW >> 2);
  if (bias) e.f32.set(bias.subarray(0, info.outChannels), offB >> 2);
  writeGeometry(e, lay, info, { x: offX, w: offW, out: offY, bias: bias ? offB : 0 }, relu);
  if (useWinograd(info)) {
    const offU = offW + align(w.length * 4, 64);
    const trainPool = pooledAt !== 0 && argmaxAt !== 0 && useWinograd4TrainPool(info);
    const four = trainPool || useWinograd4(info, pooledAt !== 0 && argmaxAt === 0);
    let at = four && heldU >= 0 ? heldU : offU;
    // A filter not held (training: it changes every step) is transformed in wasm, the values of
    // winograd4Filter bit for bit.
    if (four && heldU < 0) e.wasm.winograd4FilterTransform(offW, info.inChannels, info.outChannels, 0, offU);
    else if (!four) {
      e.wasm.winogradFilterTransform(offW, info.inChannels, info.outChannels, 0, offU, offU + transformedFloats(info) * 4);
      at = winograd2Packed(e, offU, info.inChannels, info.outChannels);
    }
    new Int32Array(e.memory.buffer, lay.g, CONV_GEOMETRY_WORDS)[CONV_GEOMETRY.WT] = at;
    if (trainPool) {
      winograd4PoolArgmax(e, lay, info, pooledAt, argmaxAt);
      return;
    }
    winogradRun(e, lay, info.batch, info.outHeight, info.outWidth, four ? winograd4Tiles(info) : winogradTiles(info), four, pooledAt, argmaxAt);
    return;
  }
  const pixels = info.batch * info.outHeight * info.outWidth;
  if (useDirect(info)) {
    // Blocks of whole row pairs (the 2×2 register blocks), at most 16 rows and a quarter of a
    // thread's share, taken from the counter by whichever thread comes free.
    const pairs = Math.max(1, Math.min(8, Math.floor(info.batch * info.outHeight / (8 * lay.t))));
    resetCounter(e, lay);
    runJobs(e, 'convForwardDirect', Array.from({ length: lay.t }, () => [lay.g, 0, pixels, 2 * pairs * info.outWidth]), true);
    return;
  }
  const parts = ranges(pixels, lay.t, 4);
  runJobs(e, 'convForward', parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes]));
}

// convForwardWinograd4PoolArgmax over the tiles under the pooled output (odd OH or OW: the last
// row or column of outputs feeds no window), every thread taking blocks from the counter at G_NEXT.
function winograd4PoolArgmax(e: Engine, lay: Layout, info: Conv2DInfo, pooledAt: number, argmaxAt: number): void {
  const tiles = info.batch * Math.ceil((info.outHeight >> 1) / 2) * Math.ceil((info.outWidth >> 1) / 2);
  const tb = winograd4Tiles(info);
  resetCounter(e, lay);
  const t = Math.max(1, Math.min(lay.t, Math.ceil(tiles / tb)));
  runJobs(e, 'convForwardWinograd4PoolArgmax', Array.from({ length: t }, (_, i) => [lay.g, 0, tiles, lay.work + i * lay.threadBytes, tb, pooledAt, argmaxAt]), true);
}

function inputGradThreads(info: Conv2DInfo): number {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const rows = info.batch * info.outHeight * info.outWidth;
  const units = useDirect(info) ? info.batch * info.inHeight : isPointwise(info) ? Math.ceil(rows / 4) : info.batch;
  return threadCount(rows * K * info.outChannels, units);
}

// dx (at offDx) from w and dy already in memory, over lay.t threads: the direct kernel by input
// rows, else GEMM + col2im by whole images (col2im adds across neighbouring pixels), or by rows
// when pointwise.
function inputGradInMemory(e: Engine, lay: Layout, info: Conv2DInfo, offW: number, offDy: number, offDx: number): void {
  if (useWinograd(info)) {
    // dx = the stride-1 convolution of dy [batch, OH, OW, F] with the rotated, transposed filter,
    // padded by 2 − pad, giving [batch, H, W, C].
    const { inChannels: C, outChannels: F } = info;
    const offU = offW + align(9 * C * F * 4, 64);
    const four = useWinograd4(info, false, true);
    let at = offU;
    // The filter changes every training step: transformed in wasm (asm/winograd4-filter.ts, the
    // values of winograd4Filter).
    if (four) e.wasm.winograd4FilterTransform(offW, C, F, 1, offU);
    else {
      e.wasm.winogradFilterTransform(offW, C, F, 1, offU, offU + transformedFloats(info) * 4);
      at = winograd2Packed(e, offU, F, C);
    }
    const back: Conv2DInfo = {
      ...info, inHeight: info.outHeight, inWidth: info.outWidth, inChannels: F, outHeight: info.inHeight, outWidth: info.inWidth,
      outChannels: C, padTop: 2 - info.padTop, padLeft: 2 - info.padLeft,
    };
    writeGeometry(e, lay, back, { x: offDy, w: at, out: offDx }, false);
    winogradRun(e, lay, info.batch, info.inHeight, info.inWidth, four ? winograd4Tiles(info) : winogradTiles(info), four);
    return;
  }
  writeGeometry(e, lay, info, { w: offW, dy: offDy, out: offDx }, false);
  if (useDirect(info)) {
    runJobs(e, 'convBackpropInputDirect', ranges(info.batch * info.inHeight, lay.t).map(([s, f]) => [lay.g, s, f]));
    return;
  }
  const pix = info.outHeight * info.outWidth;
  const rows = info.batch * pix;
  const parts = isPointwise(info) ? ranges(rows, lay.t, 4) : ranges(info.batch, lay.t).map(([s, f]): [number, number] => [s * pix, f * pix]);
  runJobs(e, 'convBackpropInput', parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes]));
}

// dw from x and dy already in memory, over lay.t threads each summing its own part (at the end
// of its work area), then the parts added up: the direct kernel by output rows, else im2col + GEMM.
// With `dbAcc` (room for biasAccFloats) where the direct kernel runs, it also sums the bias
// gradient from the dy rows it reads (asm rowChannelSums): `db` is then set, and no channelSum pass runs.
function filterGradInMemory(e: Engine, lay: Layout, info: Conv2DInfo, offX: number, offDy: number, dbAcc = 0): { dw: Float32Array; db: Float32Array | null } {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const F = info.outChannels;
  const partAt = (i: number) => lay.work + i * lay.threadBytes + lay.threadBytes - align(filterPartBytes(info), 64);
  writeGeometry(e, lay, info, { x: offX, dy: offDy, out: 0 }, false);
  if (useWinograd4Grad(info)) {
    const C = info.inChannels;
    const tiles = info.batch * Math.ceil(info.outHeight / 4) * Math.ceil(info.outWidth / 4);
    const parts = ranges(tiles, lay.t, 1);
    const tb = winograd4GradTiles(info);
    runJobs(e, 'convBackpropFilterWinograd4', parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes, tb, partAt(i)]));
    const floats = (36 * e.wasm.winograd4GradPartStride(C, F)) / 4;
    for (let i = 1; i < parts.length; i++) e.wasm.addInto(partAt(0), partAt(i), floats);
    const dwAt = partAt(0) + floats * 4;
    e.wasm.winograd4FilterGradTransform(partAt(0), C, F, dwAt);
    return { dw: copyOut(e, dwAt, 9 * C * F), db: null };
  }
  if (useWinograd(info)) {
    const C = info.inChannels;
    const tiles = info.batch * Math.ceil(info.outHeight / 2) * Math.ceil(info.outWidth / 2);
    const tb = winogradTiles(info);
    const parts = ranges(tiles, lay.t, 1);
    runJobs(e, 'convBackpropFilterWinograd', parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes, tb, partAt(i)]));
    for (let i = 1; i < parts.length; i++) e.wasm.addInto(partAt(0), partAt(i), 16 * C * F);
    e.wasm.winogradFilterGradTransform(partAt(0), C, F, partAt(0) + 16 * C * F * 4);
    return { dw: copyOut(e, partAt(0), 9 * C * F), db: null };
  }
  let count: number;
  let db: Float32Array | null = null;
  if (useDirect(info)) {
    const parts = ranges(info.batch * info.outHeight, lay.t);
    if (dbAcc) {
      const args = (s: number, f: number, acc: number): JobArgs<'convBackpropFilterDirect'> => [lay.g, s, f, partAt(parts.findIndex((p) => p[0] === s)), acc];
      db = Float32Array.from(reduceRows(e, 'convBackpropFilterDirect', parts, dbAcc, F, args));
    } else runJobs(e, 'convBackpropFilterDirect', parts.map(([s, f], i) => [lay.g, s, f, partAt(i), 0]));
    count = parts.length;
  } else {
    const parts = ranges(info.batch * info.outHeight * info.outWidth, lay.t, 4);
    runJobs(e, 'convBackpropFilter', parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes, partAt(i)]));
    count = parts.length;
  }
  for (let i = 1; i < count; i++) e.wasm.addInto(partAt(0), partAt(i), K * F);
  return { dw: copyOut(e, partAt(0), K * F), db };
}

// conv (+ bias, relu) then max pool, all in wasm memory; copies out the pooled result (and its
// argmax when `withArgmax`).
function convPool(
  x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean, pool: Conv2DInfo, withArgmax: boolean, wVersion?: number,
): { y: Float32Array; argmax: Int32Array } | null {
  const e = getEngine();
  if (e === null) return null;
  const sizeY = info.batch * info.outHeight * info.outWidth * info.outChannels;
  const sizeP = pool.batch * pool.outHeight * pool.outWidth * pool.inChannels;
  if (!withArgmax && useDirect(info) && isPlainPool(pool)) {
    const y = directPool(e, x, w, info, bias, relu, pool);
    return y && { y, argmax: new Int32Array(0) };
  }
  // Pooled in the Winograd output transform: the convolution's output is never stored.
  const tilesPool = winogradPools(info, pool, withArgmax);
  const pRes = residentF32(e, sizeP);
  const aRes = withArgmax ? residentI32(e, sizeP) : null;
  const heldU = tilesPool && !withArgmax && wVersion !== undefined && useWinograd4(info, true)
    ? heldWinograd4Filter(e, w, info.inChannels, info.outChannels, wVersion)
    : -1;
  const lay = layout(e, info, forwardThreads(info), 0);
  const { offs, end } = place(lay.next, [
    scratchFor(e, x), heldU >= 0 ? 0 : filterFloats(info), bias ? info.outChannels : 0, tilesPool ? 0 : sizeY, tilesPool ? 0 : POOL_GEOMETRY_WORDS, pRes ? 0 : sizeP,
    aRes ? 0 : sizeP,
  ]);
  if (!reserve(e, end)) return null;
  const [offX, offW, offB, offY, offG] = offs;
  const offP = pRes ? pRes.byteOffset : offs[5];
  const offA = aRes ? aRes.byteOffset : offs[6];
  forwardInMemory(e, lay, info, x, w, bias, relu, offX, offW, offB, offY, tilesPool ? offP : 0, tilesPool && withArgmax ? offA : 0, heldU);
  if (!tilesPool) maxPoolInMemory(e, pool, offG, offY, offP, offA);
  return { y: result(e, pRes, offP, sizeP), argmax: withArgmax ? resultInt32(e, aRes, offA, sizeP) : new Int32Array(0) };
}

// The pool of each argmax conv2dMaxPoolTrain returned (windows that tile), for its backward.
const trainPools = new WeakMap<Int32Array, Conv2DInfo>();

// Windows that tile without overlap, inside the input: strides = pool size, no padding.
function isPlainPool(pool: Conv2DInfo): boolean {
  return pool.strideHeight === pool.filterHeight && pool.strideWidth === pool.filterWidth && pool.padTop === 0 && pool.padLeft === 0;
}

// Inference conv + pool with the direct kernel: each thread convolves the rows under one pooled
// row into its own scratch and writes only the pooled maxima (asm convForwardDirectPool), taking
// blocks of up to 8 pooled rows from the counter at G_NEXT as it comes free: with a static split,
// the job waits for a thread slowed by another process on its core.
function directPool(e: Engine, x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean, pool: Conv2DInfo): Float32Array | null {
  const F = info.outChannels;
  const scratchBytes = pool.filterHeight * info.outWidth * F * 4;
  const rowsP = pool.batch * pool.outHeight;
  const t = threadCount(info.batch * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels * F, rowsP);
  const sizeP = rowsP * pool.outWidth * F;
  const pRes = residentF32(e, sizeP);
  const lay = layout(e, info, t, scratchBytes);
  const { offs, end } = place(lay.next, [scratchFor(e, x), w.length, bias ? F : 0, pRes ? 0 : sizeP]);
  if (!reserve(e, end)) return null;
  const [, offW, offB] = offs;
  const offP = pRes ? pRes.byteOffset : offs[3];
  const offX = stage(e, x, offs[0]);
  e.f32.set(w, offW >> 2);
  if (bias) e.f32.set(bias.subarray(0, F), offB >> 2);
  writeGeometry(e, lay, info, { x: offX, w: offW, out: 0, bias: bias ? offB : 0 }, relu);
  resetCounter(e, lay);
  const scratchAt = (i: number) => lay.work + i * lay.threadBytes + lay.threadBytes - align(scratchBytes, 64);
  const rows = Math.max(1, Math.min(8, Math.floor(rowsP / (4 * t))));
  runJobs(e, 'convForwardDirectPool', Array.from({ length: t }, (_, i) => [
    lay.g, 0, rowsP, rows, scratchAt(i), offP, pool.filterHeight, pool.filterWidth, pool.outHeight, pool.outWidth,
  ]), true);
  return result(e, pRes, offP, sizeP);
}

// The layout of a backward pass: threads for the filter and input gradients, each thread's work
// area with room for its filter-gradient part.
function backwardLayout(e: Engine, info: Conv2DInfo): { lay: Layout; tw: number; tx: number } {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const F = info.outChannels;
  const rows = info.batch * info.outHeight * info.outWidth;
  const tw = threadCount(rows * K * F, Math.ceil(rows / 64));
  const tx = inputGradThreads(info);
  return { lay: layout(e, info, Math.max(tw, tx), filterPartBytes(info)), tw, tx };
}

// Floats of room for the bias gradient's f64 sums (reduceRows): one block of F per thread.
function biasAccFloats(F: number): number {
  return (threads() * align(F * 8, 64)) / 4;
}

// db[f] = Σ_r dz[r, f]: f64 sums over row ranges on the threads (SIMD channelSum), then added.
function biasGradInMemory(e: Engine, offDz: number, rows: number, F: number, offAcc: number): Float32Array {
  const parts = ranges(rows, threadCount(rows * F * 16, rows), 1);
  return Float32Array.from(reduceRows(e, 'channelSum', parts, offAcc, F, (r0, r1, acc) => [offDz, F, r0, r1, acc]));
}

// db = Σ dz (f64; `dbGiven` when the caller has it already), dw and dx from dz already at offDz,
// each only when asked; stages x and copies w in at offX and offW as needed; dx goes to dxRes
// when given, else offDx.
function backwardFromDz(
  e: Engine, lay: Layout, tw: number, tx: number, info: Conv2DInfo, x: Float32Array, w: Float32Array,
  need: { dx: boolean; dw: boolean; db: boolean }, offDz: number, offX: number, offW: number, offDx: number, offDb: number,
  dxRes: Float32Array | null, dbGiven: Float32Array | null = null,
): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null } {
  const F = info.outChannels;
  const rows = info.batch * info.outHeight * info.outWidth;
  let db = need.db ? dbGiven : null;
  let dw: Float32Array | null = null;
  if (need.dw) {
    const g = filterGradInMemory(e, { ...lay, t: tw }, info, stage(e, x, offX), offDz, need.db && !dbGiven ? offDb : 0);
    dw = g.dw;
    db ??= g.db;
  }
  if (need.db) db ??= biasGradInMemory(e, offDz, rows, F, offDb);
  let dx: Float32Array | null = null;
  if (need.dx) {
    e.f32.set(w, offW >> 2);
    if (dxRes) offDx = dxRes.byteOffset;
    inputGradInMemory(e, { ...lay, t: tx }, info, offW, offDz, offDx);
    dx = result(e, dxRes, offDx, info.batch * info.inHeight * info.inWidth * info.inChannels);
  }
  return { dx, dw, db };
}

/** The WebAssembly convolutions; see {@link ConvKernels}. */
export const convFast: ConvKernels = {
  conv2d(x, w, info, bias, relu) {
    const e = getEngine();
    if (e === null) return null;
    const sizeY = info.batch * info.outHeight * info.outWidth * info.outChannels;
    const yRes = residentF32(e, sizeY);
    const lay = layout(e, info, forwardThreads(info), 0);
    const { offs, end } = place(lay.next, [scratchFor(e, x), filterFloats(info), bias ? info.outChannels : 0, yRes ? 0 : sizeY]);
    if (!reserve(e, end)) return null;
    const offY = yRes ? yRes.byteOffset : offs[3];
    forwardInMemory(e, lay, info, x, w, bias, relu, offs[0], offs[1], offs[2], offY);
    return result(e, yRes, offY, sizeY);
  },

  conv2dMaxPool(x, w, info, bias, relu, pool, wVersion) {
    return convPool(x, w, info, bias, relu, pool, false, wVersion)?.y ?? null;
  },

  conv2dMaxPoolTrain(x, w, info, bias, relu, pool) {
    const r = convPool(x, w, info, bias, relu, pool, true);
    if (r && isPlainPool(pool) && pool.outHeight > 0 && pool.outWidth > 0) trainPools.set(r.argmax, pool);
    return r;
  },

  conv2dMaxPoolBackward(x, w, dy, y, argmax, info, relu, need) {
    const e = getEngine();
    if (e === null) return null;
    const sizeZ = info.batch * info.outHeight * info.outWidth * info.outChannels;
    const sizeX = info.batch * info.inHeight * info.inWidth * info.inChannels;
    const dxRes = need.dx ? residentF32(e, sizeX) : null;
    const { lay, tw, tx } = backwardLayout(e, info);
    const { offs, end } = place(lay.next, [
      sizeZ, scratchFor(e, dy), scratchFor(e, y), scratchFor(e, argmax), need.dw ? scratchFor(e, x) : 0, need.dx ? filterFloats(info) : 0,
      need.dx && !dxRes ? sizeX : 0, need.db ? biasAccFloats(info.outChannels) : 0, POOL_GEOMETRY_WORDS,
    ]);
    if (!reserve(e, end)) return null;
    const [offDz, , , , offX, offW, offDx, offDb, offG] = offs;
    const offDp = stage(e, dy, offs[1]);
    const offY = stage(e, y, offs[2]);
    const offA = stage(e, argmax, offs[3]);
    const F = info.outChannels;
    let db: Float32Array | null = null;
    const pool = trainPools.get(argmax);
    if (pool && pool.batch === info.batch && pool.inHeight === info.outHeight && pool.inWidth === info.outWidth && pool.inChannels === F &&
      dy.length === pool.batch * pool.outHeight * pool.outWidth * F) {
      // Window by window (the pool of conv2dMaxPoolTrain that made this argmax): each thread writes
      // every dz cell under its pooled rows once, and sums db over them.
      writePoolGeometry(e, offG, pool, offDz, offY, offA);
      const q = pool.batch * pool.outHeight;
      const parts = ranges(q, threadCount(sizeZ * 4, q), 1);
      const args = (q0: number, q1: number, acc: number): JobArgs<'scatterPooledGradWindows'> => [offG, q0, q1, offDp, relu ? 1 : 0, acc];
      if (need.db) db = Float32Array.from(reduceRows(e, 'scatterPooledGradWindows', parts, offDb, F, args));
      else runJobs(e, 'scatterPooledGradWindows', parts.map(([q0, q1]) => args(q0, q1, 0)));
      return backwardFromDz(e, lay, tw, tx, info, x, w, need, offDz, offX, offW, offDx, offDb, dxRes, db);
    }
    // An argmax of unknown geometry: each thread zeroes and fills the dz of its images (a pool
    // window stays inside its image) and sums the values it puts there by channel: db without
    // another pass over dz.
    const perImage = dy.length / info.batch;
    const zPerImage = sizeZ / info.batch;
    const parts = ranges(info.batch, threadCount(sizeZ * 4, info.batch), 1);
    const args = (n0: number, n1: number, acc: number): JobArgs<'scatterPooledGrad'> => [
      offDz, offDp, offY, offA, n0 * perImage, n1 * perImage, n0 * zPerImage, n1 * zPerImage, F, relu ? 1 : 0, acc,
    ];
    if (need.db) db = Float32Array.from(reduceRows(e, 'scatterPooledGrad', parts, offDb, F, args));
    else runJobs(e, 'scatterPooledGrad', parts.map(([n0, n1]) => args(n0, n1, 0)));
    return backwardFromDz(e, lay, tw, tx, info, x, w, need, offDz, offX, offW, offDx, offDb, dxRes, db);
  },

  conv2dBackpropInput(dy, w, info) {
    const e = getEngine();
    if (e === null) return null;
    const sizeX = info.batch * info.inHeight * info.inWidth * info.inChannels;
    const dxRes = residentF32(e, sizeX);
    const lay = layout(e, info, inputGradThreads(info), 0);
    const { offs, end } = place(lay.next, [scratchFor(e, dy), filterFloats(info), dxRes ? 0 : sizeX]);
    if (!reserve(e, end)) return null;
    const offDy = stage(e, dy, offs[0]);
    const offW = offs[1];
    const offDx = dxRes ? dxRes.byteOffset : offs[2];
    e.f32.set(w, offW >> 2);
    inputGradInMemory(e, lay, info, offW, offDy, offDx);
    return result(e, dxRes, offDx, sizeX);
  },

  conv2dBackpropFilter(x, dy, info) {
    const e = getEngine();
    if (e === null) return null;
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const F = info.outChannels;
    const rows = info.batch * info.outHeight * info.outWidth;
    const t = threadCount(rows * K * F, Math.ceil(rows / 64));
    const lay = layout(e, info, t, filterPartBytes(info));
    const { offs, end } = place(lay.next, [scratchFor(e, x), scratchFor(e, dy)]);
    if (!reserve(e, end)) return null;
    return filterGradInMemory(e, lay, info, stage(e, x, offs[0]), stage(e, dy, offs[1])).dw;
  },

  conv2dBackward(x, w, dy, reluY, info, need) {
    const e = getEngine();
    if (e === null) return null;
    const sizeX = info.batch * info.inHeight * info.inWidth * info.inChannels;
    const dxRes = need.dx ? residentF32(e, sizeX) : null;
    const { lay, tw, tx } = backwardLayout(e, info);
    // Without relu, dz is dy itself, read where it is (resident) or from its copy.
    const { offs, end } = place(lay.next, [
      reluY ? dy.length : 0, scratchFor(e, dy), reluY ? scratchFor(e, reluY) : 0, need.dw ? scratchFor(e, x) : 0, need.dx ? filterFloats(info) : 0,
      need.dx && !dxRes ? sizeX : 0, need.db ? biasAccFloats(info.outChannels) : 0,
    ]);
    if (!reserve(e, end)) return null;
    const [, , , offX, offW, offDx, offDb] = offs;
    const offDy = stage(e, dy, offs[1]);
    let offDz = offDy;
    if (reluY) {
      // dz = relu'(y)·dy into its own place (a resident dy is never written); db by backwardFromDz.
      offDz = offs[0];
      const offY = stage(e, reluY, offs[2]);
      const n = dy.length;
      const parts = ranges(Math.ceil(n / 16), threadCount(n * 16, Math.ceil(n / 16))).map(([s, f]) => [s * 16, Math.min(n, f * 16)]);
      runJobs(e, 'reluBackward', parts.map(([i0, i1]) => [offDy, offY, i0, i1, offDz]));
    }
    return backwardFromDz(e, lay, tw, tx, info, x, w, need, offDz, offX, offW, offDx, offDb, dxRes);
  },

};
