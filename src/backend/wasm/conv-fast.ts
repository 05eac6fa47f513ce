import type { Conv2DInfo } from '../../geometry.js';
import {
  align,
  copyOut,
  getEngine,
  JOB_CONV_BACKPROP_FILTER,
  JOB_CONV_BACKPROP_INPUT,
  JOB_CONV_FORWARD,
  JOB_CONV_FORWARD_DIRECT,
  JOB_CONV_FORWARD_DIRECT_POOL,
  JOB_CONV_BACKPROP_FILTER_DIRECT,
  JOB_CONV_BACKPROP_INPUT_DIRECT,
  JOB_CONV_FORWARD_WINOGRAD,
  JOB_CONV_FORWARD_WINOGRAD4,
  JOB_CONV_BACKPROP_FILTER_WINOGRAD,
  JOB_CHANNEL_SUM,
  JOB_RELU_BACKWARD,
  JOB_SCATTER_POOLED_GRAD,
  reserve,
  residentF32,
  residentI32,
  result,
  resultInt32,
  runJobs,
  scratchFor,
  stage,
  THREAD_MIN_MACS,
  threads,
  type Engine,
} from './gemm-fast.js';
import { MAX_POOL_GEOMETRY_WORDS, maxPoolInMemory, reduceRows } from './elementwise-fast.js';

/**
 * Convolutions run whole in WebAssembly (asm/conv.ts): the operands are copied into the shared
 * memory once, im2col/col2im and the GEMM run there block by block on every thread, and the
 * result is copied out once. Each returns null where the WebAssembly engine is missing or the
 * operands do not fit in its memory; the caller then lowers the op itself.
 */
export interface ConvKernels {
  /** y [batch, outH, outW, outC] = x ⋆ w (+ bias[outC]), then max(·, 0) when relu. */
  conv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean): Float32Array | null;
  /**
   * maxPool(conv2d(x, w, info, bias, relu), pool).y: the convolution's output stays in wasm
   * memory and only the pooled result is copied out (inference; no argmax is kept).
   */
  conv2dMaxPool(x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean, pool: Conv2DInfo): Float32Array | null;
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

// Word offsets of the geometry block read by asm/conv.ts (its G_* constants).
const G_WORDS = 32;
const G_H = 0, G_W = 1, G_C = 2, G_OH = 3, G_OW = 4, G_F = 5, G_KH = 6, G_KW = 7;
const G_SH = 8, G_SW = 9, G_DH = 10, G_DW = 11, G_PT = 12, G_PL = 13;
const G_X = 14, G_WT = 15, G_OUT = 16, G_BIAS = 17, G_RELU = 18, G_DY = 19, G_ROWS = 20, G_POINTWISE = 21;

// Floats of im2col columns per block: a block of rows × K stays within about 256 KiB (L2).
const COLS_FLOATS = 1 << 16;

interface Layout {
  g: number;
  t: number;
  block: number;
  /** Bytes of each thread's work area; thread i's starts at work + i·threadBytes. */
  work: number;
  threadBytes: number;
  /** Next free byte, 64-aligned. */
  next: number;
}

function isPointwise(info: Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.padTop === 0 && info.padLeft === 0;
}

/**
 * Whether the forward runs as a direct convolution (asm convForwardDirect) rather than im2col +
 * GEMM: with few input channels (a first layer on RGB) K = kh·kw·C is too short for the GEMM's
 * packing to pay, and the direct loop writes no im2col columns. Measured on [32,100,100,3] → 16:
 * 8–12 ms against 15–16 ms; at 16 input channels the two are even, so the GEMM keeps those.
 */
export function useDirect(info: Conv2DInfo): boolean {
  return info.outChannels % 8 === 0 && info.inChannels <= 4;
}

let winogradOn = process.env.TSCNN_WINOGRAD !== '0';
{
  const env = process.env.TSCNN_WINOGRAD;
  if (env !== undefined && env !== '' && env !== '0' && env !== '2' && env !== '4') {
    throw new Error(`tscnn: TSCNN_WINOGRAD must be 0 (im2col + GEMM), 2 (F(2×2, 3×3), the default) or 4 (F(4×4, 3×3)), got ${JSON.stringify(env)}`);
  }
}

/**
 * Whether 3×3 stride-1 convolutions use Winograd (default; TSCNN_WINOGRAD=0 keeps im2col + GEMM).
 * For tests and measurements.
 */
export function setWinograd(on: boolean): void {
  winogradOn = on;
}

/**
 * Whether the forward and both gradients run as Winograd (asm convForwardWinograd: F(2×2, 3×3)
 * for the forward and, on the rotated filter, the input gradient; convBackpropFilterWinograd:
 * F(3×3, 2×2) for the filter gradient): 3×3 filters, stride 1, no dilation, channels in and out
 * multiples of 4, not a first layer (direct kernels). 16 multiply-adds per 2×2 outputs and channel
 * pair instead of 36: measured single-threaded on the seed model's layers 2–4 (50²×16→32,
 * 25²×32→64, 12²×64→128) at 1.4–1.8× the im2col + GEMM speed; results differ from it within
 * float32 rounding of the transforms.
 */
export function useWinograd(info: Conv2DInfo): boolean {
  return winogradOn && info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.inChannels % 4 === 0 && info.outChannels % 4 === 0 &&
    info.padTop <= 2 && info.padLeft <= 2 && !useDirect(info);
}

// Tiles per Winograd block: its 16 transformed inputs and outputs (16·tb·(C + F) floats) in
// about 384 KiB, so they stay in L2 between the transforms and the GEMMs.
function winogradTiles(info: Conv2DInfo): number {
  return Math.max(8, Math.min(128, Math.floor(6144 / (info.inChannels + info.outChannels) / 4) * 4));
}

// Floats the filter takes in wasm memory: w itself, then where Winograd runs its transform and the
// room the F(2×2) transform works in (asm winogradFilterTransform: 25 rows of C·F + 16).
function filterFloats(info: Conv2DInfo): number {
  const kf = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  return useWinograd(info) ? align(kf, 16) + transformedFloats(info) + 25 * (info.inChannels * info.outChannels + 16) : kf;
}

// Floats of the transformed filter (F(2×2) or, with room for either direction, F(4×4)).
function transformedFloats(info: Conv2DInfo): number {
  const { inChannels: C, outChannels: F } = info;
  return align(Math.max(16 * C * F, winograd4FilterFloats(C, F), winograd4FilterFloats(F, C)), 16);
}

// Bytes of one thread's filter-gradient part: K × F, or the 16 Winograd matrices C × F and the
// room their transform back works in (asm winogradFilterGradTransform: 16 rows of C·F + 16).
function filterPartBytes(info: Conv2DInfo): number {
  const cf = info.inChannels * info.outChannels;
  return (useWinograd(info) ? 16 * cf + 16 * (cf + 16) : info.filterHeight * info.filterWidth * cf) * 4;
}

// G of F(4×4, 3×3) (points 0, ±1, ±2, ∞).
const G4 = [
  [1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1],
];

/** Floats of the packed F(4×4) filter: 36 matrices cin × cout, cout padded to a multiple of 8. */
function winograd4FilterFloats(cin: number, cout: number): number {
  return 36 * cin * align(cout, 8);
}

/**
 * U = G g Gᵀ (6 × 6, G = {@link G4}) of every 3×3 slice, as {@link winogradFilter} (same
 * `transpose`), written at byte `at` as 36 matrices [cin × cout] packed for gemmPackedB: slivers
 * of 8 output channels, each cin × 8, zero-padded.
 */
function winograd4Filter(e: Engine, w: Float32Array, C: number, F: number, transpose: boolean, at: number): void {
  const cin = transpose ? F : C;
  const cout = transpose ? C : F;
  const u = new Float32Array(e.memory.buffer, at, winograd4FilterFloats(cin, cout));
  u.fill(0);
  const per = cin * align(cout, 8);
  const g = new Float64Array(9);
  const t = new Float64Array(18);
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f++) {
      for (let k = 0; k < 9; k++) g[transpose ? 8 - k : k] = w[(k * C + c) * F + f];
      // t = G g (6 × 3), then U = t Gᵀ (6 × 6).
      for (let i = 0; i < 6; i++) {
        const r = G4[i];
        for (let j = 0; j < 3; j++) t[3 * i + j] = r[0] * g[j] + r[1] * g[3 + j] + r[2] * g[6 + j];
      }
      const p = transpose ? c : f;
      const q = transpose ? f : c;
      const at8 = (p >> 3) * cin * 8 + q * 8 + (p & 7);
      for (let i = 0; i < 6; i++) {
        const a = t[3 * i], b = t[3 * i + 1], d = t[3 * i + 2];
        for (let k = 0; k < 6; k++) {
          const r = G4[k];
          u[(6 * i + k) * per + at8] = r[0] * a + r[1] * b + r[2] * d;
        }
      }
    }
  }
}

/**
 * Whether the forward and input gradient use F(4×4, 3×3) rather than F(2×2, 3×3): opt-in
 * (TSCNN_WINOGRAD=4), for at most 256 channels in and out (gemmPackedB's one panel). It runs the
 * seed model's layers 2–4 another 1.05–1.3× faster (2 threads) but its transforms (entries up
 * to 8 and 1/24) round about 10× worse: errors up to ~2·10⁻⁵ of the output's scale against
 * ~10⁻⁶ for F(2×2) and im2col, measured on random 3×3×32→64 layers.
 */
function useWinograd4(info: Conv2DInfo): boolean {
  return winograd4On && info.inChannels <= 256 && info.outChannels <= 256;
}

let winograd4On = process.env.TSCNN_WINOGRAD === '4';

/** Whether eligible layers use F(4×4, 3×3) (opt-in) or F(2×2, 3×3) (default) for forward and dx; for tests. */
export function setWinograd4(on: boolean): void {
  winograd4On = on;
}

// Tiles per F(4×4) block: 36 transformed inputs and outputs in about 384 KiB.
function winograd4Tiles(info: Conv2DInfo): number {
  return Math.max(4, Math.min(64, Math.floor(2730 / (info.inChannels + info.outChannels) / 4) * 4));
}

// Runs convForwardWinograd (F(2×2)) or convForwardWinograd4 (F(4×4)) over all tiles of the
// convolution whose geometry is at lay.g.
function winogradRun(e: Engine, lay: Layout, batch: number, OH: number, OW: number, tb: number, four: boolean): void {
  const m = four ? 4 : 2;
  const tiles = batch * Math.ceil(OH / m) * Math.ceil(OW / m);
  runJobs(e, four ? JOB_CONV_FORWARD_WINOGRAD4 : JOB_CONV_FORWARD_WINOGRAD, ranges(tiles, lay.t, 1).map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes, tb]));
}

// Rows of one im2col block (at least 256 rows for the filter gradient measured no faster).
function blockRows(K: number): number {
  return Math.max(16, Math.min(1024, Math.floor(COLS_FLOATS / K / 4) * 4));
}

// Geometry block, then t thread work areas (gemm workspace, a block of columns, `extra` bytes).
function layout(e: Engine, info: Conv2DInfo, t: number, extra: number): Layout {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const block = blockRows(K);
  const g = e.workBase;
  const work = align(g + G_WORDS * 4, 64);
  const wino = useWinograd(info)
    ? Math.max(e.wasm.winogradWorkBytes(winogradTiles(info), info.inChannels, info.outChannels), e.wasm.winograd4WorkBytes(winograd4Tiles(info), info.inChannels, info.outChannels))
    : 0;
  const threadBytes = align(e.workBytes, 64) + Math.max(align(block * K * 4, 64), wino) + align(extra, 64);
  return { g, t, block, work, threadBytes, next: work + t * threadBytes };
}

function writeGeometry(e: Engine, lay: Layout, info: Conv2DInfo, ptrs: { x?: number; w?: number; out: number; bias?: number; dy?: number }, relu: boolean): void {
  const g = new Int32Array(e.memory.buffer, lay.g, G_WORDS);
  g[G_H] = info.inHeight;
  g[G_W] = info.inWidth;
  g[G_C] = info.inChannels;
  g[G_OH] = info.outHeight;
  g[G_OW] = info.outWidth;
  g[G_F] = info.outChannels;
  g[G_KH] = info.filterHeight;
  g[G_KW] = info.filterWidth;
  g[G_SH] = info.strideHeight;
  g[G_SW] = info.strideWidth;
  g[G_DH] = info.dilationHeight;
  g[G_DW] = info.dilationWidth;
  g[G_PT] = info.padTop;
  g[G_PL] = info.padLeft;
  g[G_X] = ptrs.x ?? 0;
  g[G_WT] = ptrs.w ?? 0;
  g[G_OUT] = ptrs.out;
  g[G_BIAS] = ptrs.bias ?? 0;
  g[G_RELU] = relu ? 1 : 0;
  g[G_DY] = ptrs.dy ?? 0;
  g[G_ROWS] = lay.block;
  g[G_POINTWISE] = isPointwise(info) ? 1 : 0;
}

// Places arrays one after another from `at`, each 64-aligned; returns their byte offsets and the end.
function place(at: number, sizes: number[]): { offs: number[]; end: number } {
  const offs: number[] = [];
  for (const size of sizes) {
    offs.push(at);
    at = align(at + size * 4, 64);
  }
  return { offs, end: at };
}

function threadCount(macs: number, units: number): number {
  return macs < THREAD_MIN_MACS ? 1 : Math.max(1, Math.min(threads(), units));
}

// [start, end) of `count` units split into t near-equal ranges, starts multiples of `grain`.
function ranges(count: number, t: number, grain: number): [number, number][] {
  const chunk = align(Math.ceil(count / t), grain);
  const out: [number, number][] = [];
  for (let s = 0; s < count; s += chunk) out.push([s, Math.min(count, s + chunk)]);
  if (out.length === 0) out.push([0, 0]);
  return out;
}

function forwardThreads(info: Conv2DInfo): number {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const rows = info.batch * info.outHeight * info.outWidth;
  return threadCount(rows * K * info.outChannels, Math.ceil(rows / 4));
}

// Stages x (unless resident) and copies w and bias in at their offsets, then computes
// y = conv(x, w) (+ bias, relu) at offY.
function forwardInMemory(
  e: Engine, lay: Layout, info: Conv2DInfo, x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean,
  offX: number, offW: number, offB: number, offY: number,
): void {
  offX = stage(e, x, offX);
  e.f32.set(w, offW >> 2);
  if (bias) e.f32.set(bias.subarray(0, info.outChannels), offB >> 2);
  writeGeometry(e, lay, info, { x: offX, w: offW, out: offY, bias: bias ? offB : 0 }, relu);
  if (useWinograd(info)) {
    const offU = offW + align(w.length * 4, 64);
    const four = useWinograd4(info);
    if (four) winograd4Filter(e, w, info.inChannels, info.outChannels, false, offU);
    else e.wasm.winogradFilterTransform(offW, info.inChannels, info.outChannels, 0, offU, offU + transformedFloats(info) * 4);
    new Int32Array(e.memory.buffer, lay.g, G_WORDS)[G_WT] = offU;
    winogradRun(e, lay, info.batch, info.outHeight, info.outWidth, four ? winograd4Tiles(info) : winogradTiles(info), four);
    return;
  }
  const parts = ranges(info.batch * info.outHeight * info.outWidth, lay.t, 4);
  if (useDirect(info)) runJobs(e, JOB_CONV_FORWARD_DIRECT, parts.map(([s, f]) => [lay.g, s, f]));
  else runJobs(e, JOB_CONV_FORWARD, parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes]));
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
    const four = useWinograd4(info);
    if (four) winograd4Filter(e, e.f32.subarray(offW >> 2, (offW >> 2) + 9 * C * F), C, F, true, offU);
    else e.wasm.winogradFilterTransform(offW, C, F, 1, offU, offU + transformedFloats(info) * 4);
    const back: Conv2DInfo = {
      ...info, inHeight: info.outHeight, inWidth: info.outWidth, inChannels: F, outHeight: info.inHeight, outWidth: info.inWidth,
      outChannels: C, padTop: 2 - info.padTop, padLeft: 2 - info.padLeft,
    };
    writeGeometry(e, lay, back, { x: offDy, w: offU, out: offDx }, false);
    winogradRun(e, lay, info.batch, info.inHeight, info.inWidth, four ? winograd4Tiles(info) : winogradTiles(info), four);
    return;
  }
  writeGeometry(e, lay, info, { w: offW, dy: offDy, out: offDx }, false);
  if (useDirect(info)) {
    runJobs(e, JOB_CONV_BACKPROP_INPUT_DIRECT, ranges(info.batch * info.inHeight, lay.t, 1).map(([s, f]) => [lay.g, s, f]));
    return;
  }
  const pix = info.outHeight * info.outWidth;
  const rows = info.batch * pix;
  const parts = isPointwise(info) ? ranges(rows, lay.t, 4) : ranges(info.batch, lay.t, 1).map(([s, f]): [number, number] => [s * pix, f * pix]);
  runJobs(e, JOB_CONV_BACKPROP_INPUT, parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes]));
}

// dw from x and dy already in memory, over lay.t threads each summing its own part (at the end
// of its work area), then the parts added up: the direct kernel by output rows, else im2col + GEMM.
function filterGradInMemory(e: Engine, lay: Layout, info: Conv2DInfo, offX: number, offDy: number): Float32Array {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const F = info.outChannels;
  const partAt = (i: number) => lay.work + i * lay.threadBytes + lay.threadBytes - align(filterPartBytes(info), 64);
  writeGeometry(e, lay, info, { x: offX, dy: offDy, out: 0 }, false);
  if (useWinograd(info)) {
    const C = info.inChannels;
    const tiles = info.batch * Math.ceil(info.outHeight / 2) * Math.ceil(info.outWidth / 2);
    const tb = winogradTiles(info);
    const parts = ranges(tiles, lay.t, 1);
    runJobs(e, JOB_CONV_BACKPROP_FILTER_WINOGRAD, parts.map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes, tb, partAt(i)]));
    for (let i = 1; i < parts.length; i++) e.wasm.addInto(partAt(0), partAt(i), 16 * C * F);
    e.wasm.winogradFilterGradTransform(partAt(0), C, F, partAt(0) + 16 * C * F * 4);
    return copyOut(e, partAt(0), 9 * C * F);
  }
  const jobs = useDirect(info)
    ? ranges(info.batch * info.outHeight, lay.t, 1).map(([s, f], i) => [lay.g, s, f, partAt(i)])
    : ranges(info.batch * info.outHeight * info.outWidth, lay.t, 4).map(([s, f], i) => [lay.g, s, f, lay.work + i * lay.threadBytes, partAt(i)]);
  runJobs(e, useDirect(info) ? JOB_CONV_BACKPROP_FILTER_DIRECT : JOB_CONV_BACKPROP_FILTER, jobs);
  for (let i = 1; i < jobs.length; i++) e.wasm.addInto(partAt(0), partAt(i), K * F);
  return copyOut(e, partAt(0), K * F);
}

// conv (+ bias, relu) then max pool, all in wasm memory; copies out the pooled result (and its
// argmax when `withArgmax`).
function convPool(
  x: Float32Array, w: Float32Array, info: Conv2DInfo, bias: Float32Array | null, relu: boolean, pool: Conv2DInfo, withArgmax: boolean,
): { y: Float32Array; argmax: Int32Array } | null {
  const e = getEngine();
  if (e === null) return null;
  const sizeY = info.batch * info.outHeight * info.outWidth * info.outChannels;
  const sizeP = pool.batch * pool.outHeight * pool.outWidth * pool.inChannels;
  if (!withArgmax && useDirect(info) && isPlainPool(pool)) {
    const y = directPool(e, x, w, info, bias, relu, pool);
    return y && { y, argmax: new Int32Array(0) };
  }
  const pRes = residentF32(e, sizeP);
  const aRes = withArgmax ? residentI32(e, sizeP) : null;
  const lay = layout(e, info, forwardThreads(info), 0);
  const { offs, end } = place(lay.next, [
    scratchFor(e, x), filterFloats(info), bias ? info.outChannels : 0, sizeY, MAX_POOL_GEOMETRY_WORDS, pRes ? 0 : sizeP, aRes ? 0 : sizeP,
  ]);
  if (!reserve(e, end)) return null;
  const [offX, offW, offB, offY, offG] = offs;
  const offP = pRes ? pRes.byteOffset : offs[5];
  const offA = aRes ? aRes.byteOffset : offs[6];
  forwardInMemory(e, lay, info, x, w, bias, relu, offX, offW, offB, offY);
  maxPoolInMemory(e, pool, offG, offY, offP, offA);
  return { y: result(e, pRes, offP, sizeP), argmax: withArgmax ? resultInt32(e, aRes, offA, sizeP) : new Int32Array(0) };
}

// Windows that tile without overlap, inside the input: strides = pool size, no padding.
function isPlainPool(pool: Conv2DInfo): boolean {
  return pool.strideHeight === pool.filterHeight && pool.strideWidth === pool.filterWidth && pool.padTop === 0 && pool.padLeft === 0;
}

// Inference conv + pool with the direct kernel: each thread convolves the rows under one pooled
// row into its own scratch and writes only the pooled maxima (asm convForwardDirectPool).
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
  const scratchAt = (i: number) => lay.work + i * lay.threadBytes + lay.threadBytes - align(scratchBytes, 64);
  runJobs(e, JOB_CONV_FORWARD_DIRECT_POOL, ranges(rowsP, t, 1).map(([s, f], i) => [
    lay.g, s, f, scratchAt(i), offP, pool.filterHeight, pool.filterWidth, pool.outHeight, pool.outWidth,
  ]));
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
  return Float32Array.from(reduceRows(e, JOB_CHANNEL_SUM, parts, offAcc, F, (r0, r1, acc) => [offDz, F, r0, r1, acc]));
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
  const db = need.db ? dbGiven ?? biasGradInMemory(e, offDz, rows, F, offDb) : null;
  let dw: Float32Array | null = null;
  if (need.dw) dw = filterGradInMemory(e, { ...lay, t: tw }, info, stage(e, x, offX), offDz);
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

  conv2dMaxPool(x, w, info, bias, relu, pool) {
    return convPool(x, w, info, bias, relu, pool, false)?.y ?? null;
  },

  conv2dMaxPoolTrain(x, w, info, bias, relu, pool) {
    return convPool(x, w, info, bias, relu, pool, true);
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
      need.dx && !dxRes ? sizeX : 0, need.db ? biasAccFloats(info.outChannels) : 0,
    ]);
    if (!reserve(e, end)) return null;
    const [offDz, , , , offX, offW, offDx, offDb] = offs;
    const offDp = stage(e, dy, offs[1]);
    const offY = stage(e, y, offs[2]);
    const offA = stage(e, argmax, offs[3]);
    // Each thread zeroes and fills the dz of its images (a pool window stays inside its image)
    // and sums the values it puts there by channel: db without another pass over dz.
    const F = info.outChannels;
    const perImage = dy.length / info.batch;
    const zPerImage = sizeZ / info.batch;
    const parts = ranges(info.batch, threadCount(sizeZ * 4, info.batch), 1);
    const args = (n0: number, n1: number, acc: number) => [
      offDz, offDp, offY, offA, n0 * perImage, n1 * perImage, n0 * zPerImage, n1 * zPerImage, F, relu ? 1 : 0, acc,
    ];
    let db: Float32Array | null = null;
    if (need.db) db = Float32Array.from(reduceRows(e, JOB_SCATTER_POOLED_GRAD, parts, offDb, F, args));
    else runJobs(e, JOB_SCATTER_POOLED_GRAD, parts.map(([n0, n1]) => args(n0, n1, 0)));
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
    return filterGradInMemory(e, lay, info, stage(e, x, offs[0]), stage(e, dy, offs[1]));
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
      const parts = ranges(Math.ceil(n / 16), threadCount(n * 16, Math.ceil(n / 16)), 1).map(([s, f]) => [s * 16, Math.min(n, f * 16)]);
      runJobs(e, JOB_RELU_BACKWARD, parts.map(([i0, i1]) => [offDy, offY, i0, i1, offDz]));
    }
    return backwardFromDz(e, lay, tw, tx, info, x, w, need, offDz, offX, offW, offDx, offDb, dxRes);
  },

};
