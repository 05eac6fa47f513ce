// How a convolution runs in the engine: which algorithm (direct, im2col + GEMM, Winograd F(2×2)
// or F(4×4)), how its operands and each thread's work area are laid out, and the geometry block
// the kernels read (word offsets generated from asm/geometry.ts).
import { isPointwise, type Conv2DInfo } from '../../geometry.js';
import { cpuConfig } from '../config.js';
import { CONV_GEOMETRY as G, CONV_GEOMETRY_WORDS } from './engine-exports.generated.js';
import { align, type Engine } from './engine.js';
import { threadCount } from './parts.js';
import { winograd4FilterFloats } from './conv-winograd.js';

// Floats of im2col columns per block: a block of rows × K stays within about 256 KiB (L2).
const COLS_FLOATS = 1 << 16;

export interface Layout {
  g: number;
  t: number;
  block: number;
  /** Bytes of each thread's work area; thread i's starts at work + i·threadBytes. */
  work: number;
  threadBytes: number;
  /** Next free byte, 64-aligned. */
  next: number;
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

/**
 * Whether the forward and both gradients run as Winograd (asm convForwardWinograd: F(2×2, 3×3)
 * for the forward and, on the rotated filter, the input gradient (F(4×4) by default, see
 * useWinograd4); convBackpropFilterWinograd: F(3×3, 2×2) for the filter gradient, F(3×3, 4×4)
 * by default, see useWinograd4Grad): 3×3 filters, stride 1, no dilation, channels in and out
 * multiples of 4, not a first layer (direct kernels); on unless `setBackend('cpu', { winograd: 0 })`.
 * 16 multiply-adds per 2×2 outputs and channel pair instead of 36; results differ from im2col +
 * GEMM within float32 rounding of the transforms.
 */
export function useWinograd(info: Conv2DInfo): boolean {
  return cpuConfig().winograd !== 0 && info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && info.inChannels % 4 === 0 && info.outChannels % 4 === 0 &&
    info.padTop <= 2 && info.padLeft <= 2 && !useDirect(info);
}

// Tiles per Winograd block: its 16 transformed inputs and outputs (16·tb·(C + F) floats) in
// about 384 KiB, so they stay in L2 between the transforms and the GEMMs.
export function winogradTiles(info: Conv2DInfo): number {
  return Math.max(8, Math.min(128, Math.floor(6144 / (info.inChannels + info.outChannels) / 4) * 4));
}

// Floats the filter takes in wasm memory: w itself, then where Winograd runs its transform and the
// room the F(2×2) transform works in (asm winogradFilterTransform: 25 rows of C·F + 16).
export function filterFloats(info: Conv2DInfo): number {
  const kf = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  return useWinograd(info) ? align(kf, 16) + transformedFloats(info) + 25 * (info.inChannels * info.outChannels + 16) : kf;
}

// Floats of the transformed filter (F(2×2) or, with room for either direction, F(4×4)).
export function transformedFloats(info: Conv2DInfo): number {
  const { inChannels: C, outChannels: F } = info;
  return align(Math.max(16 * C * F, winograd4FilterFloats(C, F), winograd4FilterFloats(F, C)), 16);
}

// Bytes of one thread's filter-gradient part: K × F; the 16 Winograd F(3×3, 2×2) matrices C × F
// and the room their transform back works in (asm winogradFilterGradTransform: 16 rows of
// C·F + 16); or the 36 F(3×3, 4×4) matrices, a cache line apart, and dw after them.
export function filterPartBytes(info: Conv2DInfo): number {
  const cf = info.inChannels * info.outChannels;
  if (useWinograd4Grad(info)) return 36 * (cf * 4 + 64) + 9 * cf * 4;
  return (useWinograd(info) ? 16 * cf + 16 * (cf + 16) : info.filterHeight * info.filterWidth * cf) * 4;
}

/**
 * Whether the filter gradient of a Winograd convolution (useWinograd) runs as F(3×3, 4×4) (asm
 * convBackpropFilterWinograd4: 36 products per 4×4 tile of dy and channel pair, against 64 for
 * four F(3×3, 2×2) tiles) rather than F(3×3, 2×2): with `winograd` 2 (default) and 4, at most
 * 256 channels in and out (its 36 matrices C × F per thread).
 */
export function useWinograd4Grad(info: Conv2DInfo): boolean {
  return useWinograd(info) && info.inChannels <= 256 && info.outChannels <= 256;
}

// Tiles per F(3×3, 4×4) filter-gradient block: its 36 transformed inputs and dy tiles in about
// 768 KiB.
export function winograd4GradTiles(info: Conv2DInfo): number {
  return Math.max(4, Math.min(128, Math.floor(5461 / (info.inChannels + info.outChannels) / 4) * 4));
}

/**
 * Whether a convolution uses F(4×4, 3×3) rather than F(2×2, 3×3): every forward and input gradient
 * with `winograd: 4`; with the default (`winograd: 2`), an inference convolution whose 2×2 max
 * pool is taken in the output transform (`inferencePool`: conv2dMaxPool, see winogradPools), the
 * input gradient (`inputGrad`), and the forwards of convolutions with at least
 * {@link WINOGRAD4_MIN_PAIRS} channel pairs (F(2×2) for narrower ones, whose F(4×4) transforms
 * cost more than its products save). At most 256 channels in and out (gemmPackedB's one panel).
 * F(4×4) rounds worse (output transform entries up to 8): about 4× F(2×2)'s error, within the
 * tolerances of the tests against the reference with the points 0, 1, −1, ½, −2, ∞ and the
 * channel sums split in two (asm/winograd4.ts).
 */
export function useWinograd4(info: Conv2DInfo, inferencePool = false, inputGrad = false): boolean {
  const setting = cpuConfig().winograd;
  return (setting === 4 || (setting === 2 && (inferencePool || inputGrad || wideForWinograd4(info)))) &&
    info.inChannels <= 256 && info.outChannels <= 256;
}

/**
 * Channel pairs (in × out) from which a training forward runs F(4×4) by default: paired in one
 * process against F(2×2) on 50×51 images, F(4×4) was slower at 16→8, even at 16→16 and faster
 * from 16→32 on (the seed model's convolutions 2–4).
 */
export const WINOGRAD4_MIN_PAIRS = 512;

function wideForWinograd4(info: Conv2DInfo): boolean {
  return info.inChannels * info.outChannels >= WINOGRAD4_MIN_PAIRS;
}

/**
 * Whether a training convolution whose 2×2 max pool is taken in the output transform (winogradPools
 * with its argmax: conv2dMaxPoolTrain) runs as F(4×4, 3×3) (asm convForwardWinograd4PoolArgmax)
 * rather than F(2×2): exactly where the same convolution without its pool runs F(4×4)
 * (useWinograd4's forward choice), so that the fused training step computes what the layers one
 * by one do. Its pooled values and argmax are those of asm maxPool over convForwardWinograd4's
 * output, bit for bit; that rounds about 4× F(2×2) (see useWinograd4), so a window whose two
 * largest values lie within that rounding can pick another winner than the reference.
 */
export function useWinograd4TrainPool(info: Conv2DInfo): boolean {
  return useWinograd(info) && useWinograd4(info);
}

// Tiles per F(4×4) block (a multiple of 4, the GEMM's rows a tile): 36 transformed inputs and
// outputs within about 384 KiB, either direction (the input gradient's outputs have the forward's
// input channels). The outputs are budgeted twice, as when each channel half had its own; blocks
// up to twice as large measured no different on a loaded machine.
export function winograd4Tiles(info: Conv2DInfo): number {
  const { inChannels: C, outChannels: F } = info;
  return Math.max(4, Math.min(64, Math.floor(2730 / (C + F + Math.max(C, F)) / 4) * 4));
}

// Rows of one im2col block (at least 256 rows for the filter gradient measured no faster).
function blockRows(K: number): number {
  return Math.max(16, Math.min(1024, Math.floor(COLS_FLOATS / K / 4) * 4));
}

// Geometry block, then t thread work areas (gemm workspace, a block of columns, `extra` bytes).
export function layout(e: Engine, info: Conv2DInfo, t: number, extra: number): Layout {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const block = blockRows(K);
  const g = e.workBase;
  const work = align(g + CONV_GEOMETRY_WORDS * 4, 64);
  const wino = useWinograd(info)
    ? Math.max(e.wasm.winogradWorkBytes(winogradTiles(info), info.inChannels, info.outChannels), e.wasm.winograd4WorkBytes(winograd4Tiles(info), info.inChannels, info.outChannels),
      e.wasm.winograd4WorkBytes(winograd4Tiles(info), info.outChannels, info.inChannels),
      useWinograd4Grad(info) ? e.wasm.winograd4GradWorkBytes(winograd4GradTiles(info), info.inChannels, info.outChannels) : 0)
    : 0;
  const threadBytes = align(e.workBytes, 64) + Math.max(align(block * K * 4, 64), wino) + align(extra, 64);
  return { g, t, block, work, threadBytes, next: work + t * threadBytes };
}

/**
 * Sets the work counter of the geometry block (G_NEXT) to 0: before each job whose threads take
 * their blocks from it (the Winograd and direct convolution forwards).
 */
export function resetCounter(e: Engine, lay: Layout): void {
  new Int32Array(e.memory.buffer, lay.g, CONV_GEOMETRY_WORDS)[G.NEXT] = 0;
}

export function writeGeometry(e: Engine, lay: Layout, info: Conv2DInfo, ptrs: { x?: number; w?: number; out: number; bias?: number; dy?: number }, relu: boolean): void {
  const g = new Int32Array(e.memory.buffer, lay.g, CONV_GEOMETRY_WORDS);
  g[G.H] = info.inHeight;
  g[G.W] = info.inWidth;
  g[G.C] = info.inChannels;
  g[G.OH] = info.outHeight;
  g[G.OW] = info.outWidth;
  g[G.F] = info.outChannels;
  g[G.KH] = info.filterHeight;
  g[G.KW] = info.filterWidth;
  g[G.SH] = info.strideHeight;
  g[G.SW] = info.strideWidth;
  g[G.DH] = info.dilationHeight;
  g[G.DW] = info.dilationWidth;
  g[G.PT] = info.padTop;
  g[G.PL] = info.padLeft;
  g[G.X] = ptrs.x ?? 0;
  g[G.WT] = ptrs.w ?? 0;
  g[G.OUT] = ptrs.out;
  g[G.BIAS] = ptrs.bias ?? 0;
  g[G.RELU] = relu ? 1 : 0;
  g[G.DY] = ptrs.dy ?? 0;
  g[G.ROWS] = lay.block;
  g[G.POINTWISE] = isPointwise(info) ? 1 : 0;
}

export function forwardThreads(info: Conv2DInfo): number {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const rows = info.batch * info.outHeight * info.outWidth;
  return threadCount(rows * K * info.outChannels, Math.ceil(rows / 4));
}

