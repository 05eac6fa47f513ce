// Convolutions lowered onto one GEMM: im2col copies receptive fields into rows, one GEMM per chunk
// of images multiplies them with the kernel, col2im adds the input gradient back. The cpu backend
// runs this wherever its WebAssembly convolution kernels decline a case.
import { isPointwise, type Conv2DInfo } from '../../geometry.js';
import { outputF32 } from '../arena.js';
import type { Gemm } from '../gemm.js';

/** Upper bound on im2col buffer size (floats) per chunk: keeps memory flat whatever the batch. */
const COLS_BUDGET = 1 << 22;

/**
 * Walks the receptive fields of images [n0, n1) against the rows of `cols` ([rows, fh·fw·inC]).
 * `gather` (im2col) copies x into cols, with 0 for padding; otherwise (col2im, the adjoint) adds
 * each row of cols back into x at its receptive field.
 */
function patches(x: Float32Array, info: Conv2DInfo, n0: number, n1: number, cols: Float32Array, gather: boolean): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = info;
  const K = KH * KW * C;
  let row = 0;
  for (let n = n0; n < n1; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * sh - padTop;
      for (let ow = 0; ow < OW; ow++, row++) {
        const iw0 = ow * sw - padLeft;
        let o = row * K;
        for (let i = 0; i < KH; i++) {
          const ih = ih0 + i * dh;
          const rowIn = ih >= 0 && ih < H;
          for (let j = 0; j < KW; j++, o += C) {
            const iw = iw0 + j * dw;
            if (!rowIn || iw < 0 || iw >= W) {
              if (gather) cols.fill(0, o, o + C);
              continue;
            }
            const at = xn + (ih * W + iw) * C;
            if (gather) for (let c = 0; c < C; c++) cols[o + c] = x[at + c];
            else for (let c = 0; c < C; c++) x[at + c] += cols[o + c];
          }
        }
      }
    }
  }
}

/** Copies the receptive fields of images [n0, n1) into rows of `cols` ([rows, fh·fw·inC]). */
function im2col(x: Float32Array, info: Conv2DInfo, n0: number, n1: number, cols: Float32Array): void {
  patches(x, info, n0, n1, cols, true);
}

/** The adjoint of im2col: adds each row of `cols` back into dx at its receptive field. */
function col2im(cols: Float32Array, info: Conv2DInfo, n0: number, n1: number, dx: Float32Array): void {
  patches(dx, info, n0, n1, cols, false);
}

/** Images per im2col chunk so that one chunk's columns stay within COLS_BUDGET floats. */
function chunkImages(info: Conv2DInfo): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(1, Math.min(info.batch, Math.floor(COLS_BUDGET / Math.max(perImage, 1))));
}

/**
 * Calls `body(n0, n1, rows, cols)` for each chunk [n0, n1) of images in order, with `rows` im2col
 * rows and one `cols` buffer of chunkImages(info) images reused by every chunk.
 */
function forChunks(info: Conv2DInfo, body: (n0: number, n1: number, rows: number, cols: Float32Array) => void): void {
  const pix = info.outHeight * info.outWidth;
  const step = chunkImages(info);
  const cols = new Float32Array(step * pix * info.filterHeight * info.filterWidth * info.inChannels);
  for (let n0 = 0; n0 < info.batch; n0 += step) {
    const n1 = Math.min(info.batch, n0 + step);
    body(n0, n1, (n1 - n0) * pix, cols);
  }
}

/** matmul and the three convolution ops on `gemm`. */
export function gemmOps(gemm: Gemm) {
  return {
    matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array {
      const c = outputF32(m * n);
      gemm(transA, transB, m, n, k, a, b, c, false);
      return c;
    },

  conv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const pix = info.outHeight * info.outWidth;
    const y = new Float32Array(info.batch * pix * info.outChannels);
    if (isPointwise(info)) {
      gemm(false, false, info.batch * pix, info.outChannels, K, x, w, y, false);
      return y;
    }
    forChunks(info, (n0, n1, rows, cols) => {
      im2col(x, info, n0, n1, cols);
      gemm(false, false, rows, info.outChannels, K, cols, w, y.subarray(n0 * pix * info.outChannels), false);
    });
    return y;
  },

  conv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const pix = info.outHeight * info.outWidth;
    const dx = new Float32Array(info.batch * info.inHeight * info.inWidth * info.inChannels);
    if (isPointwise(info)) {
      gemm(false, true, info.batch * pix, K, info.outChannels, dy, w, dx, false);
      return dx;
    }
    forChunks(info, (n0, n1, rows, cols) => {
      gemm(false, true, rows, K, info.outChannels, dy.subarray(n0 * pix * info.outChannels), w, cols, false);
      col2im(cols, info, n0, n1, dx);
    });
    return dx;
  },

  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const pix = info.outHeight * info.outWidth;
    const dw = new Float32Array(K * info.outChannels);
    if (isPointwise(info)) {
      gemm(true, false, K, info.outChannels, info.batch * pix, x, dy, dw, false);
      return dw;
    }
    forChunks(info, (n0, n1, rows, cols) => {
      im2col(x, info, n0, n1, cols);
      gemm(true, false, K, info.outChannels, rows, cols, dy.subarray(n0 * pix * info.outChannels), dw, true);
    });
    return dw;
  },
  };
}
