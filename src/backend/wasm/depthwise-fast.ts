// Depthwise convolutions in WebAssembly SIMD (asm/depthwise.ts): operands copied into the shared
// memory once (or read where they are, when resident), the work split over the engine's threads,
// the result copied out once (or left resident). Output channels C·M a multiple of 4; a depth
// multiplier M > 1 runs the multiplier-1 kernels on x widened to C·M channels (each channel
// repeated M times, asm depthwiseExpand), its input gradient summed back over m (depthwiseReduce).
// Other shapes return null and the caller runs the reference loops.
import type { Conv2DInfo } from '../../geometry.js';
import { CONV_GEOMETRY_WORDS } from './engine-exports.generated.js';
import { align, getEngine, reserve, runJobs, type Engine } from './engine.js';
import { writeGeometry, type Layout } from './conv-plan.js';
import { place, ranges, split, threadCount } from './parts.js';
import { copyOut, residentF32, result, scratchFor, stage } from './resident.js';

/** The depthwise ops the `cpu` backend runs in WebAssembly; each null where it declines. */
export interface DepthwiseKernels {
  /** See Backend.depthwiseConv2d. */
  depthwiseConv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array | null;
  /** See Backend.depthwiseConv2dBackpropInput. */
  depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array | null;
  /** See Backend.depthwiseConv2dBackpropFilter. */
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array | null;
}

/** The engine, when it runs `info`: output channels (C·M) a multiple of 4. */
function engineFor(info: Conv2DInfo): Engine | null {
  return info.outChannels % 4 === 0 ? getEngine() : null;
}

// The geometry block at workBase; scratch from the returned layout's `next`.
function lay(e: Engine, t: number): Layout {
  const work = align(e.workBase + CONV_GEOMETRY_WORDS * 4, 64);
  return { g: e.workBase, t, block: 0, work, threadBytes: 0, next: work };
}

// `info` as the multiplier-1 kernels see it: C·M input channels.
const widened = (info: Conv2DInfo): Conv2DInfo => ({ ...info, inChannels: info.outChannels });
const multiplier = (info: Conv2DInfo): number => info.outChannels / info.inChannels;
const inPixels = (info: Conv2DInfo): number => info.batch * info.inHeight * info.inWidth;
const macs = (info: Conv2DInfo): number => info.batch * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.outChannels;

// x [pixels, C] at byte `from` widened to [pixels, C·M] at byte `to`.
function expand(e: Engine, info: Conv2DInfo, from: number, to: number): void {
  const C = info.inChannels, M = multiplier(info), pixels = inPixels(info);
  runJobs(e, 'depthwiseExpand', split(pixels, pixels * C * M).map(([s, f]) => [from, to, s, f, C, M]));
}

// w [KH, KW, F] turned 180° in its two spatial axes.
function rotated(w: Float32Array, info: Conv2DInfo): Float32Array {
  const { filterHeight: KH, filterWidth: KW, outChannels: F } = info;
  const out = new Float32Array(w.length);
  for (let i = 0; i < KH; i++) {
    for (let j = 0; j < KW; j++) out.set(w.subarray((i * KW + j) * F, (i * KW + j + 1) * F), ((KH - 1 - i) * KW + (KW - 1 - j)) * F);
  }
  return out;
}

/** The WebAssembly depthwise convolutions; see {@link DepthwiseKernels}. */
export const depthwiseFast: DepthwiseKernels = {
  depthwiseConv2d(x, w, info) {
    const e = engineFor(info);
    if (e === null) return null;
    const pixels = info.batch * info.outHeight * info.outWidth;
    const size = pixels * info.outChannels;
    const res = residentF32(e, size);
    const layout = lay(e, threadCount(macs(info), pixels));
    const wide = multiplier(info) > 1;
    const { offs, end } = place(layout.next, [scratchFor(e, x), wide ? inPixels(info) * info.outChannels : 0, w.length, res ? 0 : size]);
    if (!reserve(e, end)) return null;
    let offX = stage(e, x, offs[0]);
    if (wide) {
      expand(e, info, offX, offs[1]);
      offX = offs[1];
    }
    e.f32.set(w, offs[2] >> 2);
    const offOut = res ? res.byteOffset : offs[3];
    writeGeometry(e, layout, widened(info), { x: offX, w: offs[2], out: offOut }, false);
    runJobs(e, 'depthwiseForward', ranges(pixels, layout.t).map(([s, f]) => [layout.g, s, f]));
    return result(e, res, offOut, size);
  },

  depthwiseConv2dBackpropInput(dy, w, info) {
    const e = engineFor(info);
    if (e === null) return null;
    const pixels = inPixels(info);
    const size = pixels * info.inChannels;
    const M = multiplier(info);
    const res = residentF32(e, size);
    const layout = lay(e, threadCount(macs(info), pixels));
    const { offs, end } = place(layout.next, [scratchFor(e, dy), w.length, M > 1 ? pixels * info.outChannels : 0, res ? 0 : size]);
    if (!reserve(e, end)) return null;
    const offDy = stage(e, dy, offs[0]);
    const offOut = res ? res.byteOffset : offs[3];
    // With M > 1 the kernels write dx widened to C·M channels, summed back over m below.
    const offWide = M > 1 ? offs[2] : offOut;
    const parts = ranges(pixels, layout.t).map(([s, f]): [number, number, number] => [layout.g, s, f]);
    if (info.strideHeight === 1 && info.strideWidth === 1) {
      // Stride 1: dx is the forward of dy [batch, OH, OW, F] with the filter turned 180° and
      // padded by (k − 1)·d − pad, giving [batch, H, W, F]: the forward's four-pixel kernel.
      e.f32.set(rotated(w, info), offs[1] >> 2);
      const back: Conv2DInfo = {
        ...widened(info), inHeight: info.outHeight, inWidth: info.outWidth, outHeight: info.inHeight, outWidth: info.inWidth,
        padTop: (info.filterHeight - 1) * info.dilationHeight - info.padTop, padLeft: (info.filterWidth - 1) * info.dilationWidth - info.padLeft,
      };
      writeGeometry(e, layout, back, { x: offDy, w: offs[1], out: offWide }, false);
      runJobs(e, 'depthwiseForward', parts);
    } else {
      e.f32.set(w, offs[1] >> 2);
      writeGeometry(e, layout, widened(info), { w: offs[1], dy: offDy, out: offWide }, false);
      runJobs(e, 'depthwiseBackpropInput', parts);
    }
    if (M > 1) runJobs(e, 'depthwiseReduce', split(pixels, pixels * info.outChannels).map(([s, f]) => [offWide, offOut, s, f, info.inChannels, M]));
    return result(e, res, offOut, size);
  },

  depthwiseConv2dBackpropFilter(x, dy, info) {
    const e = engineFor(info);
    if (e === null) return null;
    const F = info.outChannels;
    const size = info.filterHeight * info.filterWidth * F;
    // Threads own groups of 4 channels: no parts to add, the same sums for any thread count.
    const layout = lay(e, threadCount(macs(info), F / 4));
    const wide = multiplier(info) > 1;
    const { offs, end } = place(layout.next, [scratchFor(e, x), wide ? inPixels(info) * F : 0, scratchFor(e, dy), size]);
    if (!reserve(e, end)) return null;
    let offX = stage(e, x, offs[0]);
    if (wide) {
      expand(e, info, offX, offs[1]);
      offX = offs[1];
    }
    writeGeometry(e, layout, widened(info), { x: offX, dy: stage(e, dy, offs[2]), out: offs[3] }, false);
    const rows = info.batch * info.outHeight;
    runJobs(e, 'depthwiseBackpropFilter', ranges(F / 4, layout.t).map(([s, f]) => [layout.g, s * 4, f * 4, rows]));
    return copyOut(e, offs[3], size);
  },
};
