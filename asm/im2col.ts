// Convolutions over NHWC f32 tensors lowered onto gemm() inside WebAssembly memory, one block of
// output pixels at a time, so the im2col columns of a block stay in cache and never leave wasm:
//   forward   y[r, f]  = Σ_k cols[r, k] · w[k, f]  (+ bias[f], then relu when asked)
//   input     dx       = col2im(dy[r, :] · wᵀ)
//   filter    dw[k, f] = Σ_r cols[r, k] · dy[r, f]
// where r = (n, oh, ow) is an output pixel and k = (i, j, c) a filter tap. Every entry point
// handles rows [start, end) of the output pixels, so threads split the work by calling it with
// disjoint ranges over the same shared memory.
//
// The geometry and operand pointers sit in a block of i32 words at g (layout: the G_* constants of
// asm/geometry.ts).

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_X, G_WT, G_OUT, G_BIAS, G_RELU, G_DY, G_ROWS, G_POINTWISE } from './geometry';
import { gemm } from './gemm';
import { copy, gemmWork } from './conv-common';

// cols[q, :] = receptive field of output pixel r0 + q, for q < rows; out-of-image taps are 0.
function im2col(g: usize, r0: i32, rows: i32, cols: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X);
  const pix = OH * OW;
  const rowBytes = <usize>C << 2;
  const runBytes = <usize>(KW * C) << 2;
  let n = r0 / pix;
  let rem = r0 - n * pix;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  let o = cols;
  for (let q = 0; q < rows; q++) {
    const xn = x + (<usize>(n * H * W * C) << 2);
    const ih0 = oh * sh - pt;
    const iw0 = ow * sw - pl;
    const fullRow = dw == 1 && iw0 >= 0 && iw0 + KW <= W;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) {
        memory.fill(o, 0, runBytes);
        o += runBytes;
        continue;
      }
      const src = xn + (<usize>((ih * W + iw0) * C) << 2);
      if (fullRow) {
        copy(o, src, KW * C);
        o += runBytes;
        continue;
      }
      for (let j = 0; j < KW; j++) {
        const iw = iw0 + j * dw;
        if (iw < 0 || iw >= W) memory.fill(o, 0, rowBytes);
        else copy(o, xn + (<usize>((ih * W + iw) * C) << 2), C);
        o += rowBytes;
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

// dx[receptive field of pixel r0 + q] += cols[q, :], for q < rows (the adjoint of im2col).
function col2im(g: usize, r0: i32, rows: i32, cols: usize, dx: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const pix = OH * OW;
  const rowBytes = <usize>C << 2;
  let n = r0 / pix;
  let rem = r0 - n * pix;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  let o = cols;
  for (let q = 0; q < rows; q++) {
    const xn = dx + (<usize>(n * H * W * C) << 2);
    const ih0 = oh * sh - pt;
    const iw0 = ow * sw - pl;
    const fullRow = dw == 1 && iw0 >= 0 && iw0 + KW <= W;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) {
        o += rowBytes * <usize>KW;
        continue;
      }
      if (fullRow) {
        addTo(xn + (<usize>((ih * W + iw0) * C) << 2), o, KW * C);
        o += rowBytes * <usize>KW;
        continue;
      }
      for (let j = 0; j < KW; j++) {
        const iw = iw0 + j * dw;
        if (iw >= 0 && iw < W) addTo(xn + (<usize>((ih * W + iw) * C) << 2), o, C);
        o += rowBytes;
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}


// dst[i] += src[i] for i < count floats.
// @ts-ignore: decorator
@inline
function addTo(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

// y[q, f] = y[q, f] + bias[f] (bias ≠ 0), then max(·, 0) when relu, for q < rows.
function epilogue(y: usize, rows: i32, F: i32, bias: usize, relu: bool): void {
  if (bias == 0 && !relu) return;
  const zero = f32x4.splat(0);
  const rowBytes = <usize>F << 2;
  for (let q = 0; q < rows; q++) {
    let f = 0;
    for (; f + 4 <= F; f += 4) {
      const o = <usize>f << 2;
      let v = v128.load(y + o);
      if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
      // A mask, not f32x4.max: NaN and -0 become +0 as in the reference `v > 0 ? v : 0`.
      if (relu) v = v128.and(v, f32x4.gt(v, zero));
      v128.store(y + o, v);
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      let v = load<f32>(y + o);
      if (bias != 0) v += load<f32>(bias + o);
      if (relu) v = v > 0 ? v : 0;
      store<f32>(y + o, v);
    }
    y += rowBytes;
  }
}

/**
 * Forward rows [start, end): y[r, :] = cols[r, :] · w (+ bias, relu). `work`: this thread's
 * gemm workspace followed by room for G_ROWS rows of columns.
 */
export function convForward(g: usize, start: i32, end: i32, work: usize): void {
  const C = gi(g, G_C), F = gi(g, G_F);
  const K = gi(g, G_KH) * gi(g, G_KW) * C;
  const block = gi(g, G_ROWS);
  const pointwise = gi(g, G_POINTWISE) != 0;
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT), y = <usize>gi(g, G_OUT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const cols = work + gemmWork();
  for (let r0 = start; r0 < end; r0 += block) {
    const rows = min(block, end - r0);
    let a = cols;
    if (pointwise) a = x + (<usize>(r0 * K) << 2);
    else im2col(g, r0, rows, cols);
    const yr = y + (<usize>(r0 * F) << 2);
    gemm(rows, F, K, a, K, false, w, F, false, yr, F, false, work);
    epilogue(yr, rows, F, bias, relu);
  }
}

/**
 * Input gradient for rows [start, end), which must cover whole images: zeroes those images of
 * dx, then adds col2im(dy[r, :] · wᵀ) block by block.
 */
export function convBackpropInput(g: usize, start: i32, end: i32, work: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), F = gi(g, G_F);
  const pix = gi(g, G_OH) * gi(g, G_OW);
  const K = gi(g, G_KH) * gi(g, G_KW) * C;
  const block = gi(g, G_ROWS);
  const pointwise = gi(g, G_POINTWISE) != 0;
  const w = <usize>gi(g, G_WT), dy = <usize>gi(g, G_DY), dx = <usize>gi(g, G_OUT);
  if (end <= start) return;
  if (pointwise) {
    for (let r0 = start; r0 < end; r0 += block) {
      const rows = min(block, end - r0);
      gemm(rows, K, F, dy + (<usize>(r0 * F) << 2), F, false, w, F, true, dx + (<usize>(r0 * K) << 2), K, false, work);
    }
    return;
  }
  const n0 = start / pix;
  const n1 = end / pix;
  const image = <usize>(H * W * C) << 2;
  memory.fill(dx + <usize>n0 * image, 0, <usize>(n1 - n0) * image);
  const cols = work + gemmWork();
  for (let r0 = start; r0 < end; r0 += block) {
    const rows = min(block, end - r0);
    gemm(rows, K, F, dy + (<usize>(r0 * F) << 2), F, false, w, F, true, cols, K, false, work);
    col2im(g, r0, rows, cols, dx);
  }
}

/**
 * Filter gradient of rows [start, end): part[k, f] = Σ_r cols[r, k] · dy[r, f] (overwritten;
 * zero when the range is empty). Threads write separate `part`s that the caller adds up.
 */
export function convBackpropFilter(g: usize, start: i32, end: i32, work: usize, part: usize): void {
  const C = gi(g, G_C), F = gi(g, G_F);
  const K = gi(g, G_KH) * gi(g, G_KW) * C;
  const block = gi(g, G_ROWS);
  const pointwise = gi(g, G_POINTWISE) != 0;
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY);
  if (end <= start) {
    memory.fill(part, 0, <usize>(K * F) << 2);
    return;
  }
  const cols = work + gemmWork();
  for (let r0 = start; r0 < end; r0 += block) {
    const rows = min(block, end - r0);
    let a = cols;
    if (pointwise) a = x + (<usize>(r0 * K) << 2);
    else im2col(g, r0, rows, cols);
    gemm(K, F, rows, a, K, true, dy + (<usize>(r0 * F) << 2), F, false, part, F, r0 != start, work);
  }
}
