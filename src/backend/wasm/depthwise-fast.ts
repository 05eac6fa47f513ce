// Depthwise convolutions in WebAssembly SIMD (asm/depthwise.ts): operands copied into the shared
// memory once (or read where they are, when resident), the pixels split over the engine's threads,
// the result copied out once (or left resident). Depth multiplier 1 with channels a multiple of 4
// only (MobileNet's layers); every other case returns null and the caller runs the reference loops.
import type { Conv2DInfo } from '../../geometry.js';
import { CONV_GEOMETRY_WORDS } from './engine-exports.generated.js';
import { align, getEngine, reserve, runJobs, type Engine } from './engine.js';
import { writeGeometry, type Layout } from './conv-plan.js';
import { place, ranges, threadCount } from './parts.js';
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

function supported(info: Conv2DInfo): boolean {
  return info.outChannels === info.inChannels && info.inChannels % 4 === 0;
}

// The geometry block at workBase, then `parts` filter-gradient parts of `partFloats` each.
function lay(e: Engine, info: Conv2DInfo, t: number, partFloats: number): { layout: Layout; partAt: (i: number) => number } {
  const g = e.workBase;
  const work = align(g + CONV_GEOMETRY_WORDS * 4, 64);
  const threadBytes = align(partFloats * 4, 64);
  return { layout: { g, t, block: 0, work, threadBytes, next: work + t * threadBytes }, partAt: (i) => work + i * threadBytes };
}

// w [KH, KW, C] turned 180° in its two spatial axes.
function rotated(w: Float32Array, info: Conv2DInfo): Float32Array {
  const { filterHeight: KH, filterWidth: KW, inChannels: C } = info;
  const out = new Float32Array(w.length);
  for (let i = 0; i < KH; i++) {
    for (let j = 0; j < KW; j++) out.set(w.subarray((i * KW + j) * C, (i * KW + j + 1) * C), ((KH - 1 - i) * KW + (KW - 1 - j)) * C);
  }
  return out;
}

const macs = (info: Conv2DInfo): number => info.batch * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;

// The forward and the input gradient: `input` staged, w's place, and an output of `pixels`·C
// (resident when asked); `run` splits the pixels over the threads, `finish` hands the output back.
function planPixels(input: Float32Array, w: Float32Array, info: Conv2DInfo, pixels: number) {
  const e = getEngine();
  if (e === null || !supported(info)) return null;
  const size = pixels * info.outChannels;
  const res = residentF32(e, size);
  const t = threadCount(macs(info), pixels);
  const { layout } = lay(e, info, t, 0);
  const { offs, end } = place(layout.next, [scratchFor(e, input), w.length, res ? 0 : size]);
  if (!reserve(e, end)) return null;
  const offIn = stage(e, input, offs[0]);
  const offOut = res ? res.byteOffset : offs[2];
  return {
    e, layout, offIn, offW: offs[1], offOut,
    run: (kernel: 'depthwiseForward' | 'depthwiseBackpropInput') => runJobs(e, kernel, ranges(pixels, t).map(([s, f]) => [layout.g, s, f])),
    finish: () => result(e, res, offOut, size),
  };
}

/** The WebAssembly depthwise convolutions; see {@link DepthwiseKernels}. */
export const depthwiseFast: DepthwiseKernels = {
  depthwiseConv2d(x, w, info) {
    const p = planPixels(x, w, info, info.batch * info.outHeight * info.outWidth);
    if (p === null) return null;
    p.e.f32.set(w, p.offW >> 2);
    writeGeometry(p.e, p.layout, info, { x: p.offIn, w: p.offW, out: p.offOut }, false);
    p.run('depthwiseForward');
    return p.finish();
  },

  depthwiseConv2dBackpropInput(dy, w, info) {
    const p = planPixels(dy, w, info, info.batch * info.inHeight * info.inWidth);
    if (p === null) return null;
    if (info.strideHeight === 1 && info.strideWidth === 1) {
      // Stride 1: dx is the forward of dy [batch, OH, OW, C] with the filter rotated 180° and
      // padded by (k − 1)·d − pad, giving [batch, H, W, C]: the forward's faster kernel.
      p.e.f32.set(rotated(w, info), p.offW >> 2);
      const back: Conv2DInfo = {
        ...info, inHeight: info.outHeight, inWidth: info.outWidth, outHeight: info.inHeight, outWidth: info.inWidth,
        padTop: (info.filterHeight - 1) * info.dilationHeight - info.padTop, padLeft: (info.filterWidth - 1) * info.dilationWidth - info.padLeft,
      };
      writeGeometry(p.e, p.layout, back, { x: p.offIn, w: p.offW, out: p.offOut }, false);
      p.run('depthwiseForward');
    } else {
      p.e.f32.set(w, p.offW >> 2);
      writeGeometry(p.e, p.layout, info, { w: p.offW, dy: p.offIn, out: p.offOut }, false);
      p.run('depthwiseBackpropInput');
    }
    return p.finish();
  },

  depthwiseConv2dBackpropFilter(x, dy, info) {
    const e = getEngine();
    if (e === null || !supported(info)) return null;
    const rows = info.batch * info.outHeight * info.outWidth;
    const partFloats = info.filterHeight * info.filterWidth * info.inChannels;
    // Each thread sums its pixels into its own part; more threads than that are not worth their parts.
    const t = threadCount(macs(info), Math.ceil(rows / 64));
    const { layout, partAt } = lay(e, info, t, partFloats);
    const { offs, end } = place(layout.next, [scratchFor(e, x), scratchFor(e, dy)]);
    if (!reserve(e, end)) return null;
    writeGeometry(e, layout, info, { x: stage(e, x, offs[0]), dy: stage(e, dy, offs[1]), out: 0 }, false);
    const parts = ranges(rows, t);
    runJobs(e, 'depthwiseBackpropFilter', parts.map(([s, f], i) => [layout.g, s, f, partAt(i)]));
    for (let i = 1; i < parts.length; i++) e.wasm.addInto(partAt(0), partAt(i), partFloats);
    return copyOut(e, partAt(0), partFloats);
  },
};
