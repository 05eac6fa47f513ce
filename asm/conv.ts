// Convolutions over NHWC f32 tensors lowered onto gemm() inside WebAssembly memory, one block of
// output pixels at a time, so the im2col columns of a block stay in cache and never leave wasm:
//   forward   y[r, f]  = Σ_k cols[r, k] · w[k, f]  (+ bias[f], then relu when asked)
//   input     dx       = col2im(dy[r, :] · wᵀ)
//   filter    dw[k, f] = Σ_r cols[r, k] · dy[r, f]
// where r = (n, oh, ow) is an output pixel and k = (i, j, c) a filter tap. Every entry point
// handles rows [start, end) of the output pixels, so threads split the work by calling it with
// disjoint ranges over the same shared memory.
//
// The geometry and operand pointers sit in a block of i32 words at g (layout: the G_* constants,
// written by src/backend/wasm/gemm-fast.ts).

import { gemm, gemmPackedB, madd, workspaceBytes } from './gemm';

const G_H: i32 = 0;
const G_W: i32 = 1;
const G_C: i32 = 2;
const G_OH: i32 = 3;
const G_OW: i32 = 4;
const G_F: i32 = 5;
const G_KH: i32 = 6;
const G_KW: i32 = 7;
const G_SH: i32 = 8;
const G_SW: i32 = 9;
const G_DH: i32 = 10;
const G_DW: i32 = 11;
const G_PT: i32 = 12;
const G_PL: i32 = 13;
const G_X: i32 = 14;
const G_WT: i32 = 15;
const G_OUT: i32 = 16;
const G_BIAS: i32 = 17;
const G_RELU: i32 = 18;
const G_DY: i32 = 19;
const G_ROWS: i32 = 20;
const G_POINTWISE: i32 = 21;

// @ts-ignore: decorator
@inline
function gi(g: usize, i: i32): i32 {
  return load<i32>(g + (<usize>i << 2));
}

/** Bytes of the gemm packing workspace at the start of a thread's work area. */
// @ts-ignore: decorator
@inline
function gemmWork(): usize {
  return <usize>(workspaceBytes() + 63) & ~63;
}

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

// dst[i] = src[i] for i < count floats (short runs are common: C = 3 in a first layer).
// @ts-ignore: decorator
@inline
function copy(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, v128.load(src + o));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o));
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

// y[p, f0 .. f0+8) for one output pixel p at (n, oh, ow), every tap bounds-checked: the
// direct convolution's border and remainder path.
// @ts-ignore: decorator
@inline
function directPixel(g: usize, n: i32, oh: i32, ow: i32, yp: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const ih0 = oh * gi(g, G_SH) - gi(g, G_PT);
  const iw0 = ow * gi(g, G_SW) - gi(g, G_PL);
  const rowF = <usize>F << 2;
  const zero = f32x4.splat(0);
  for (let f0 = 0; f0 < F; f0 += 8) {
    let a0 = zero, a1 = zero;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < KW; j++) {
        const iw = iw0 + j * dw;
        if (iw < 0 || iw >= W) continue;
        const xp = x + (<usize>(((n * H + ih) * W + iw) * C) << 2);
        let wp = w + (<usize>((i * KW + j) * C) * rowF) + (<usize>f0 << 2);
        for (let c = 0; c < C; c++) {
          const xv = v128.load32_splat(xp + (<usize>c << 2));
          a0 = madd(xv, v128.load(wp), a0);
          a1 = madd(xv, v128.load(wp, 16), a1);
          wp += rowF;
        }
      }
    }
    if (bias != 0) {
      a0 = f32x4.add(a0, v128.load(bias + (<usize>f0 << 2)));
      a1 = f32x4.add(a1, v128.load(bias + (<usize>f0 << 2), 16));
    }
    if (relu) {
      a0 = v128.and(a0, f32x4.gt(a0, zero));
      a1 = v128.and(a1, f32x4.gt(a1, zero));
    }
    v128.store(yp + (<usize>f0 << 2), a0);
    v128.store(yp + (<usize>f0 << 2), a1, 16);
  }
}

/**
 * Direct forward convolution of output pixels [start, end) for few input channels (F a multiple
 * of 8): four horizontally adjacent pixels at a time share each weight load, accumulating
 * y = Σ_taps x · w straight from NHWC with no im2col copy (+ bias, relu as convForward). Taps
 * outside the image contribute nothing; a group of four whose taps would leave the image
 * horizontally, and the pixels left over, go through directPixel.
 */
export function convForwardDirect(g: usize, start: i32, end: i32): void {
  directRange(g, start, end, <usize>gi(g, G_OUT));
}

/**
 * Inference: the direct convolution pooled by non-overlapping pkh×pkw windows ('valid'), for
 * pooled rows (n, ph) in [q0, q1). The pkh convolution rows under each pooled row go to `scratch`
 * (pkh·OW·F floats per thread, stays in cache), and only their window maxima reach `out`
 * [n, POH, POW, F]: the full-size convolution output is never written to memory.
 */
export function convForwardDirectPool(g: usize, q0: i32, q1: i32, scratch: usize, out: usize, pkh: i32, pkw: i32, POH: i32, POW: i32): void {
  const OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const rowF = <usize>F << 2;
  const rowBytes = <usize>OW * rowF;
  for (let q = q0; q < q1; q++) {
    const n = q / POH;
    const ph = q - n * POH;
    for (let i = 0; i < pkh; i++) {
      const r0 = (n * OH + ph * pkh + i) * OW;
      // directRange writes pixel r at base + r·rowF: place row r0 at scratch + i·rowBytes.
      directRange(g, r0, r0 + OW, scratch + <usize>i * rowBytes - <usize>r0 * rowF);
    }
    for (let pw = 0; pw < POW; pw++) {
      const o = out + <usize>(q * POW + pw) * rowF;
      for (let f = 0; f < F; f += 4) {
        const c = <usize>f << 2;
        let best = v128.load(scratch + <usize>(pw * pkw) * rowF + c);
        for (let i = 0; i < pkh; i++) {
          for (let j = 0; j < pkw; j++) {
            if (i == 0 && j == 0) continue;
            const v = v128.load(scratch + <usize>i * rowBytes + <usize>(pw * pkw + j) * rowF + c);
            // The reference pool's rule: a greater value, or a NaN over a number, wins.
            best = v128.bitselect(v, best, v128.or(f32x4.gt(v, best), v128.andnot(f32x4.eq(best, best), f32x4.eq(v, v))));
          }
        }
        v128.store(o + c, best);
      }
    }
  }
}

// The direct convolution of output pixels [start, end), pixel r written at y + r·F floats.
function directRange(g: usize, start: i32, end: i32, y: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const pix = OH * OW;
  const rowF = <usize>F << 2;
  const step = <usize>(sw * C) << 2;
  const zero = f32x4.splat(0);
  let r = start;
  while (r < end) {
    const n = r / pix;
    const rem = r - n * pix;
    const oh = rem / OW;
    const ow = rem - oh * OW;
    const yp = y + <usize>r * rowF;
    const iw0 = ow * sw - pl;
    // Four pixels in this output row and this range, all horizontal taps inside the image.
    if (ow + 4 <= OW && r + 4 <= end && iw0 >= 0 && iw0 + 3 * sw + (KW - 1) * dw < W) {
      const ih0 = oh * sh - pt;
      for (let f0 = 0; f0 < F; f0 += 8) {
        let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        for (let i = 0; i < KH; i++) {
          const ih = ih0 + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < KW; j++) {
            let xp = x + (<usize>(((n * H + ih) * W + iw0 + j * dw) * C) << 2);
            let wp = w + (<usize>((i * KW + j) * C) * rowF) + (<usize>f0 << 2);
            for (let c = 0; c < C; c++) {
              const w0 = v128.load(wp);
              const w1 = v128.load(wp, 16);
              let xv = v128.load32_splat(xp);
              a0 = madd(xv, w0, a0);
              a1 = madd(xv, w1, a1);
              xv = v128.load32_splat(xp + step);
              a2 = madd(xv, w0, a2);
              a3 = madd(xv, w1, a3);
              xv = v128.load32_splat(xp + 2 * step);
              a4 = madd(xv, w0, a4);
              a5 = madd(xv, w1, a5);
              xv = v128.load32_splat(xp + 3 * step);
              a6 = madd(xv, w0, a6);
              a7 = madd(xv, w1, a7);
              xp += 4;
              wp += rowF;
            }
          }
        }
        if (bias != 0) {
          const b0 = v128.load(bias + (<usize>f0 << 2));
          const b1 = v128.load(bias + (<usize>f0 << 2), 16);
          a0 = f32x4.add(a0, b0); a1 = f32x4.add(a1, b1);
          a2 = f32x4.add(a2, b0); a3 = f32x4.add(a3, b1);
          a4 = f32x4.add(a4, b0); a5 = f32x4.add(a5, b1);
          a6 = f32x4.add(a6, b0); a7 = f32x4.add(a7, b1);
        }
        if (relu) {
          // A mask, not f32x4.max: NaN and -0 become +0 as in the reference `v > 0 ? v : 0`.
          a0 = v128.and(a0, f32x4.gt(a0, zero)); a1 = v128.and(a1, f32x4.gt(a1, zero));
          a2 = v128.and(a2, f32x4.gt(a2, zero)); a3 = v128.and(a3, f32x4.gt(a3, zero));
          a4 = v128.and(a4, f32x4.gt(a4, zero)); a5 = v128.and(a5, f32x4.gt(a5, zero));
          a6 = v128.and(a6, f32x4.gt(a6, zero)); a7 = v128.and(a7, f32x4.gt(a7, zero));
        }
        const o = yp + (<usize>f0 << 2);
        v128.store(o, a0);
        v128.store(o, a1, 16);
        v128.store(o + rowF, a2);
        v128.store(o + rowF, a3, 16);
        v128.store(o + 2 * rowF, a4);
        v128.store(o + 2 * rowF, a5, 16);
        v128.store(o + 3 * rowF, a6);
        v128.store(o + 3 * rowF, a7, 16);
      }
      r += 4;
    } else {
      directPixel(g, n, oh, ow, yp);
      r++;
    }
  }
}

/**
 * Direct filter gradient for few input channels (F a multiple of 8, C ≤ 4), over output rows
 * q = (n, oh) in [q0, q1): part[(i, j, c), f] = Σ x[n, ih, iw, c] · dy[n, oh, ow, f] with
 * ih = oh·sh − pt + i·dh, iw = ow·sw − pl + j·dw inside the image (overwritten; threads write
 * separate parts the caller adds up). One output row at a time, so its dy and x rows stay in L1
 * while every tap and channel group sweeps them; no im2col columns.
 */
export function convBackpropFilterDirect(g: usize, q0: i32, q1: i32, part: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY);
  const rowF = <usize>F << 2;
  const xStep = <usize>(sw * C) << 2;
  memory.fill(part, 0, <usize>(KH * KW * C) * rowF);
  const zero = f32x4.splat(0);
  for (let q = q0; q < q1; q++) {
    const n = q / OH;
    const oh = q - n * OH;
    for (let i = 0; i < KH; i++) {
      const ih = oh * sh - pt + i * dh;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < KW; j++) {
        // Output columns whose tap j lands inside the image: 0 ≤ ow·sw − pl + j·dw < W.
        const off = j * dw - pl;
        let owLo = off >= 0 ? 0 : (-off + sw - 1) / sw;
        let owHi = W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1;
        if (owHi > OW) owHi = OW;
        if (owLo >= owHi) continue;
        const xRow = x + (<usize>(((n * H + ih) * W + owLo * sw + off) * C) << 2);
        const dyRow = dy + <usize>(q * OW + owLo) * rowF;
        const pTap = part + <usize>((i * KW + j) * C) * rowF;
        let f0 = 0;
        if (C == 3) {
          // 16 channels per sweep: 12 accumulators (3 input channels × 4 vectors), each dy vector
          // loaded once for all three, half the sweeps of the 8-channel loop below.
          for (; f0 + 16 <= F; f0 += 16) {
            let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
            let c0 = zero, c1 = zero, c2 = zero, c3 = zero;
            let xp = xRow;
            let dp = dyRow + (<usize>f0 << 2);
            for (let ow = owLo; ow < owHi; ow++) {
              const x0 = v128.load32_splat(xp);
              const x1 = v128.load32_splat(xp, 4);
              const x2 = v128.load32_splat(xp, 8);
              let gv = v128.load(dp);
              a0 = madd(x0, gv, a0); b0 = madd(x1, gv, b0); c0 = madd(x2, gv, c0);
              gv = v128.load(dp, 16);
              a1 = madd(x0, gv, a1); b1 = madd(x1, gv, b1); c1 = madd(x2, gv, c1);
              gv = v128.load(dp, 32);
              a2 = madd(x0, gv, a2); b2 = madd(x1, gv, b2); c2 = madd(x2, gv, c2);
              gv = v128.load(dp, 48);
              a3 = madd(x0, gv, a3); b3 = madd(x1, gv, b3); c3 = madd(x2, gv, c3);
              xp += xStep;
              dp += rowF;
            }
            const p = pTap + (<usize>f0 << 2);
            v128.store(p, f32x4.add(v128.load(p), a0));
            v128.store(p, f32x4.add(v128.load(p, 16), a1), 16);
            v128.store(p, f32x4.add(v128.load(p, 32), a2), 32);
            v128.store(p, f32x4.add(v128.load(p, 48), a3), 48);
            const pb = p + rowF;
            v128.store(pb, f32x4.add(v128.load(pb), b0));
            v128.store(pb, f32x4.add(v128.load(pb, 16), b1), 16);
            v128.store(pb, f32x4.add(v128.load(pb, 32), b2), 32);
            v128.store(pb, f32x4.add(v128.load(pb, 48), b3), 48);
            const pc = p + 2 * rowF;
            v128.store(pc, f32x4.add(v128.load(pc), c0));
            v128.store(pc, f32x4.add(v128.load(pc, 16), c1), 16);
            v128.store(pc, f32x4.add(v128.load(pc, 32), c2), 32);
            v128.store(pc, f32x4.add(v128.load(pc, 48), c3), 48);
          }
        }
        for (; f0 < F; f0 += 8) {
          let a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero, d0 = zero, d1 = zero;
          let xp = xRow;
          let dp = dyRow + (<usize>f0 << 2);
          for (let ow = owLo; ow < owHi; ow++) {
            const g0 = v128.load(dp);
            const g1 = v128.load(dp, 16);
            let xv = v128.load32_splat(xp);
            a0 = madd(xv, g0, a0);
            a1 = madd(xv, g1, a1);
            if (C > 1) {
              xv = v128.load32_splat(xp, 4);
              b0 = madd(xv, g0, b0);
              b1 = madd(xv, g1, b1);
              if (C > 2) {
                xv = v128.load32_splat(xp, 8);
                c0 = madd(xv, g0, c0);
                c1 = madd(xv, g1, c1);
                if (C > 3) {
                  xv = v128.load32_splat(xp, 12);
                  d0 = madd(xv, g0, d0);
                  d1 = madd(xv, g1, d1);
                }
              }
            }
            xp += xStep;
            dp += rowF;
          }
          const p = pTap + (<usize>f0 << 2);
          v128.store(p, f32x4.add(v128.load(p), a0));
          v128.store(p, f32x4.add(v128.load(p, 16), a1), 16);
          if (C > 1) {
            v128.store(p + rowF, f32x4.add(v128.load(p + rowF), b0));
            v128.store(p + rowF, f32x4.add(v128.load(p + rowF, 16), b1), 16);
          }
          if (C > 2) {
            v128.store(p + 2 * rowF, f32x4.add(v128.load(p + 2 * rowF), c0));
            v128.store(p + 2 * rowF, f32x4.add(v128.load(p + 2 * rowF, 16), c1), 16);
          }
          if (C > 3) {
            v128.store(p + 3 * rowF, f32x4.add(v128.load(p + 3 * rowF), d0));
            v128.store(p + 3 * rowF, f32x4.add(v128.load(p + 3 * rowF, 16), d1), 16);
          }
        }
      }
    }
  }
}

// Σ of the four lanes.
// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * Direct input gradient for few input channels (F a multiple of 4, C ≤ 4), over input rows
 * p = (n, ih) in [p0, p1): dx[n, ih, iw, c] = Σ_{i, j, f} dy[n, oh, ow, f] · w[i, j, c, f] over
 * the taps with oh·sh − pt + i·dh = ih and ow·sw − pl + j·dw = iw inside the output. Every dx
 * element of the rows is written (no zeroing, no col2im scatter), so threads own disjoint rows.
 */
export function convBackpropInputDirect(g: usize, p0: i32, p1: i32): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const w = <usize>gi(g, G_WT), dy = <usize>gi(g, G_DY), dx = <usize>gi(g, G_OUT);
  const rowF = <usize>F << 2;
  const zero = f32x4.splat(0);
  for (let p = p0; p < p1; p++) {
    const n = p / H;
    const ih = p - n * H;
    let out = dx + (<usize>(p * W * C) << 2);
    let iw = 0;
    if (sh == 1 && sw == 1 && C == 3) {
      // Four pixels at a time where every tap's column lands inside dy: 12 independent
      // accumulators (4 pixels × 3 channels) share each weight load.
      const iwLo = max(0, (KW - 1) * dw - pl);
      const iwHi = OW - pl - 3;
      // Pixels left of the interior go through the general path below first.
      for (; iw < W && iw < iwLo; iw++) {
        convBackpropInputPixel(g, n, ih, iw, out);
        out += <usize>C << 2;
      }
      for (; iw < iwHi && iw + 4 <= W; iw += 4) {
        let a0 = zero, a1 = zero, a2 = zero, b0 = zero, b1 = zero, b2 = zero;
        let c0 = zero, c1 = zero, c2 = zero, d0 = zero, d1 = zero, d2 = zero;
        for (let i = 0; i < KH; i++) {
          const oh = ih + pt - i * dh;
          if (oh < 0) break;
          if (oh >= OH) continue;
          for (let j = 0; j < KW; j++) {
            let dp = dy + <usize>((n * OH + oh) * OW + iw + pl - j * dw) * rowF;
            let wp = w + <usize>((i * KW + j) * 3) * rowF;
            for (let f = 0; f < F; f += 4) {
              const w0 = v128.load(wp);
              const w1 = v128.load(wp + rowF);
              const w2 = v128.load(wp + 2 * rowF);
              let gv = v128.load(dp);
              a0 = madd(gv, w0, a0); a1 = madd(gv, w1, a1); a2 = madd(gv, w2, a2);
              gv = v128.load(dp + rowF);
              b0 = madd(gv, w0, b0); b1 = madd(gv, w1, b1); b2 = madd(gv, w2, b2);
              gv = v128.load(dp + 2 * rowF);
              c0 = madd(gv, w0, c0); c1 = madd(gv, w1, c1); c2 = madd(gv, w2, c2);
              gv = v128.load(dp + 3 * rowF);
              d0 = madd(gv, w0, d0); d1 = madd(gv, w1, d1); d2 = madd(gv, w2, d2);
              dp += 16;
              wp += 16;
            }
          }
        }
        store<f32>(out, hsum(a0)); store<f32>(out, hsum(a1), 4); store<f32>(out, hsum(a2), 8);
        store<f32>(out, hsum(b0), 12); store<f32>(out, hsum(b1), 16); store<f32>(out, hsum(b2), 20);
        store<f32>(out, hsum(c0), 24); store<f32>(out, hsum(c1), 28); store<f32>(out, hsum(c2), 32);
        store<f32>(out, hsum(d0), 36); store<f32>(out, hsum(d1), 40); store<f32>(out, hsum(d2), 44);
        out += 48;
      }
    }
    for (; iw < W; iw++) {
      convBackpropInputPixel(g, n, ih, iw, out);
      out += <usize>C << 2;
    }
  }
}

// dx[n, ih, iw, 0..C) at out, every tap checked (the general path of convBackpropInputDirect).
function convBackpropInputPixel(g: usize, n: i32, ih: i32, iw: i32, out: usize): void {
  const C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const w = <usize>gi(g, G_WT), dy = <usize>gi(g, G_DY);
  const rowF = <usize>F << 2;
  const zero = f32x4.splat(0);
  {
    {
      let a = zero, b = zero, c = zero, d = zero;
      for (let i = 0; i < KH; i++) {
        const t = ih + pt - i * dh;
        if (t < 0) break;
        // Stride 1 needs no division (the common case; a division per tap measured 2× slower).
        const oh = sh == 1 ? t : t / sh;
        if (oh * sh != t || oh >= OH) continue;
        for (let j = 0; j < KW; j++) {
          const u = iw + pl - j * dw;
          if (u < 0) break;
          const ow = sw == 1 ? u : u / sw;
          if (ow * sw != u || ow >= OW) continue;
          const dp = dy + <usize>((n * OH + oh) * OW + ow) * rowF;
          const wp = w + <usize>((i * KW + j) * C) * rowF;
          for (let f = 0; f < F; f += 4) {
            const o = <usize>f << 2;
            const gv = v128.load(dp + o);
            a = madd(gv, v128.load(wp + o), a);
            if (C > 1) {
              b = madd(gv, v128.load(wp + rowF + o), b);
              if (C > 2) {
                c = madd(gv, v128.load(wp + 2 * rowF + o), c);
                if (C > 3) d = madd(gv, v128.load(wp + 3 * rowF + o), d);
              }
            }
          }
        }
      }
      store<f32>(out, hsum(a));
      if (C > 1) store<f32>(out, hsum(b), 4);
      if (C > 2) store<f32>(out, hsum(c), 8);
      if (C > 3) store<f32>(out, hsum(d), 12);
    }
  }
}

/**
 * dz for a convolution whose (relu) output fed a max pool of windows that do not overlap, for the
 * pooled elements [e0, e1) (whole images, so that their argmax cells are dz [z0, z1)): zeroes dz
 * [z0, z1), then puts each dy[e] at its argmax cell, where relu only if the pooled value y[e]
 * (= that cell's output) is > 0 — the pool's and relu's backward in one pass. When db ≠ 0 it also
 * adds each value put to db[e mod F] (F f64; e0 a multiple of F): the bias gradient Σ dz from the
 * pooled quarter of the data (each cell receives at most one value).
 */
export function scatterPooledGrad(dz: usize, dy: usize, y: usize, am: usize, e0: i32, e1: i32, z0: i32, z1: i32, F: i32, relu: bool, db: usize): void {
  memory.fill(dz + (<usize>z0 << 2), 0, <usize>(z1 - z0) << 2);
  let f = 0;
  for (let e = e0; e < e1; e++) {
    const o = <usize>e << 2;
    if (!relu || load<f32>(y + o) > 0) {
      const v = load<f32>(dy + o);
      store<f32>(dz + (<usize>load<i32>(am + o) << 2), v);
      if (db != 0) {
        const a = db + (<usize>f << 3);
        store<f64>(a, load<f64>(a) + <f64>v);
      }
    }
    if (++f == F) f = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(2×2, 3×3) for 3×3 filters at stride 1 and dilation 1 (Lavin & Gray, 2015): each 2×2
// block of outputs ("tile") comes from a 4×4 input patch d as
//   y = Aᵀ [ Σ_c (Bᵀ d_c B) ⊙ U_c ] A,   U = G w G ᵀ (the filter, transformed once by the caller)
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]
// so the 9 multiply-adds per output and input channel become 4 (16 per tile), done as 16 GEMMs
// V_ξ[tiles × C] · U_ξ[C × F] over a block of tiles whose transforms stay in cache. Channels go
// four at a time through f32x4 (C and F multiples of 4). The input gradient of a stride-1 3×3
// convolution is the same computation on dy with the filter rotated and transposed (the caller
// transforms it so and writes the geometry of that convolution).

/** Bytes of this thread's work area convForwardWinograd needs for blocks of `tb` tiles. */
export function winogradWorkBytes(tb: i32, C: i32, F: i32): i32 {
  return <i32>gemmWork() + 16 * (tb * (C + F) * 4 + 128);
}

// The 16 vectors of the 4×4 patch at (iy0, ix0) for channels [c, c+4) of image xn; 0 outside.
// @ts-ignore: decorator
@inline
function patch(xn: usize, H: i32, W: i32, C: i32, iy0: i32, ix0: i32, c: i32, i: i32, j: i32): v128 {
  const iy = iy0 + i, ix = ix0 + j;
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return f32x4.splat(0);
  return v128.load(xn + (<usize>((iy * W + ix) * C + c) << 2));
}

// V_ξ[t, c] = (Bᵀ d B)[ξ] for tiles [b0, b0 + nt), d the 4×4 input patch of tile b0 + t
// (zeros outside the image), into 16 matrices [nt × C] at vBase, vStride bytes apart.
function winogradInput(g: usize, b0: i32, nt: i32, vBase: usize, vStride: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X);
  const TX = (OW + 1) >> 1, perImage = ((OH + 1) >> 1) * TX;
  for (let t = 0; t < nt; t++) {
    const tile = b0 + t;
    const n = tile / perImage;
    const rem = tile - n * perImage;
    const ty = rem / TX;
    const tx = rem - ty * TX;
    const iy0 = 2 * ty - pt, ix0 = 2 * tx - pl;
    const xn = x + (<usize>(n * H * W * C) << 2);
    const interior = iy0 >= 0 && iy0 + 4 <= H && ix0 >= 0 && ix0 + 4 <= W;
    const vt = vBase + (<usize>(t * C) << 2);
    for (let c = 0; c < C; c += 4) {
      // Rows of Bᵀ d: r0 = d0 − d2, r1 = d1 + d2, r2 = d2 − d1, r3 = d1 − d3 (per column j).
      const o = vt + (<usize>c << 2);
      for (let j = 0; j < 4; j++) {
        let d0: v128, d1: v128, d2: v128, d3: v128;
        if (interior) {
          const p = xn + (<usize>((iy0 * W + ix0 + j) * C + c) << 2);
          const row = <usize>(W * C) << 2;
          d0 = v128.load(p);
          d1 = v128.load(p + row);
          d2 = v128.load(p + 2 * row);
          d3 = v128.load(p + 3 * row);
        } else {
          d0 = patch(xn, H, W, C, iy0, ix0, c, 0, j);
          d1 = patch(xn, H, W, C, iy0, ix0, c, 1, j);
          d2 = patch(xn, H, W, C, iy0, ix0, c, 2, j);
          d3 = patch(xn, H, W, C, iy0, ix0, c, 3, j);
        }
        // Column j of Bᵀ d, kept in V for the second pass (rows ξ = 4i + j are filled below).
        v128.store(o + <usize>(0 * 4 + j) * vStride, f32x4.sub(d0, d2));
        v128.store(o + <usize>(1 * 4 + j) * vStride, f32x4.add(d1, d2));
        v128.store(o + <usize>(2 * 4 + j) * vStride, f32x4.sub(d2, d1));
        v128.store(o + <usize>(3 * 4 + j) * vStride, f32x4.sub(d1, d3));
      }
      // (Bᵀ d) B on each row i: [r0 − r2, r1 + r2, r2 − r1, r1 − r3] over its columns.
      for (let i = 0; i < 4; i++) {
        const q = o + <usize>(i * 4) * vStride;
        const r0 = v128.load(q), r1 = v128.load(q + vStride), r2 = v128.load(q + 2 * vStride), r3 = v128.load(q + 3 * vStride);
        v128.store(q, f32x4.sub(r0, r2));
        v128.store(q + vStride, f32x4.add(r1, r2));
        v128.store(q + 2 * vStride, f32x4.sub(r2, r1));
        v128.store(q + 3 * vStride, f32x4.sub(r1, r3));
      }
    }
  }
}

// Two f32 at p as f64x2, and an f64x2 rounded to f32 and stored as two f32 at p.
// @ts-ignore: decorator
@inline
function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}
// @ts-ignore: decorator
@inline
function store2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

/**
 * U = G g Gᵀ (G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]) of every 3×3 filter slice g of w [9 × C·F] (tap k
 * of slice s = c·F + f at w[k·C·F + s]) into u [16 × C·F] (element ξ = 4i + j at u[ξ·C·F + s]),
 * in f64 before rounding, two slices per step (C·F is a multiple of 16 for Winograd layers). With
 * `rot`: g is the filter rotated by 180° (tap 8 − k) and u holds 16 matrices [F × C] (slice (c, f)
 * at f·C + c): the input gradient's filter, in and out swapped. The rows are C·F floats apart, a
 * multiple of 4 KiB for the seed model's layers, and each step touches all 25 of them: in place
 * they fell into the same L1 sets (0.23 ms for 64 × 128; 0.035 ms at an unaligned width), so the
 * work goes through copies a cache line further apart per row in `scratch` (25·(C·F + 16) floats).
 */
export function winogradFilterTransform(w: usize, C: i32, F: i32, rot: bool, u: usize, scratch: usize): void {
  const CF = C * F;
  const row = <usize>CF << 2;
  const prow = row + 64;
  const uOut = scratch + 9 * prow;
  for (let k = 0; k < 9; k++) memory.copy(scratch + <usize>k * prow, w + <usize>k * row, row);
  for (let s = 0; s < CF; s += 2) {
    const p = scratch + (<usize>s << 2);
    // The nine taps; t = G g (4 × 3) has the rows r0, (r0 + r1 + r2)/2, (r0 − r1 + r2)/2, r2 of
    // g's rows r0 = (g0, g1, g2), r1 = (g3, g4, g5), r2 = (g6, g7, g8).
    const g0 = load2(p + <usize>(rot ? 8 : 0) * prow), g1 = load2(p + <usize>(rot ? 7 : 1) * prow), g2 = load2(p + <usize>(rot ? 6 : 2) * prow);
    const g3 = load2(p + <usize>(rot ? 5 : 3) * prow), g4 = load2(p + 4 * prow), g5 = load2(p + <usize>(rot ? 3 : 5) * prow);
    const g6 = load2(p + <usize>(rot ? 2 : 6) * prow), g7 = load2(p + <usize>(rot ? 1 : 7) * prow), g8 = load2(p + <usize>(rot ? 0 : 8) * prow);
    // U = t Gᵀ: row i of U from row i of t, the same combination.
    const q = rot ? uOut + (<usize>((s % F) * C + s / F) << 2) : uOut + (<usize>s << 2);
    filterRow(q, prow, rot, C, g0, g1, g2);
    filterRow(q + 4 * prow, prow, rot, C, half3(g0, g3, g6), half3(g1, g4, g7), half3(g2, g5, g8));
    filterRow(q + 8 * prow, prow, rot, C, half3m(g0, g3, g6), half3m(g1, g4, g7), half3m(g2, g5, g8));
    filterRow(q + 12 * prow, prow, rot, C, g6, g7, g8);
  }
  for (let r = 0; r < 16; r++) memory.copy(u + <usize>r * row, uOut + <usize>r * prow, row);
}

// (a + b + d)/2 and (a − b + d)/2 in f64x2, in the order the reference rounds them.
// @ts-ignore: decorator
@inline
function half3(a: v128, b: v128, d: v128): v128 {
  return f64x2.mul(f64x2.add(f64x2.add(a, b), d), f64x2.splat(0.5));
}
// @ts-ignore: decorator
@inline
function half3m(a: v128, b: v128, d: v128): v128 {
  return f64x2.mul(f64x2.add(f64x2.sub(a, b), d), f64x2.splat(0.5));
}

// One row of U = (a, b, d) Gᵀ = a, (a + b + d)/2, (a − b + d)/2, d as four consecutive rows of u
// from q; with `rot`, the second slice of each pair goes C floats further (the [F × C] layout).
// @ts-ignore: decorator
@inline
function filterRow(q: usize, row: usize, rot: bool, C: i32, a: v128, b: v128, d: v128): void {
  put2(q, rot, C, a);
  put2(q + row, rot, C, half3(a, b, d));
  put2(q + 2 * row, rot, C, half3m(a, b, d));
  put2(q + 3 * row, rot, C, d);
}

// The two slices' values of v at q, or with `rot` at q and C floats further.
// @ts-ignore: decorator
@inline
function put2(q: usize, rot: bool, C: i32, v: v128): void {
  if (rot) {
    const h = f32x4.demote_f64x2_zero(v);
    v128.store32_lane(q, h, 0);
    v128.store32_lane(q + (<usize>C << 2), h, 1);
  } else {
    store2(q, v);
  }
}

/**
 * Over m [16 × C·F] (the summed matrices M_ξ of convBackpropFilterWinograd): its first 9 rows
 * become dw [3, 3, C, F] = Gᵀ M G (Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]) of each slice, in f64 before
 * rounding, two slices per step (all 16 values of a pair are read before any is written), through
 * copies of the rows a cache line further apart in `scratch` (16·(C·F + 16) floats; see
 * winogradFilterTransform).
 */
export function winogradFilterGradTransform(m: usize, C: i32, F: i32, scratch: usize): void {
  const CF = C * F;
  const row = <usize>CF << 2;
  const prow = row + 64;
  for (let r = 0; r < 16; r++) memory.copy(scratch + <usize>r * prow, m + <usize>r * row, row);
  for (let s = 0; s < CF; s += 2) {
    const p = scratch + (<usize>s << 2);
    const m0 = load2(p), m1 = load2(p + prow), m2 = load2(p + 2 * prow), m3 = load2(p + 3 * prow);
    const m4 = load2(p + 4 * prow), m5 = load2(p + 5 * prow), m6 = load2(p + 6 * prow), m7 = load2(p + 7 * prow);
    const m8 = load2(p + 8 * prow), m9 = load2(p + 9 * prow), m10 = load2(p + 10 * prow), m11 = load2(p + 11 * prow);
    const m12 = load2(p + 12 * prow), m13 = load2(p + 13 * prow), m14 = load2(p + 14 * prow), m15 = load2(p + 15 * prow);
    // t = Gᵀ M (3 × 4): rows r0 + (r1 + r2)/2, (r1 − r2)/2, (r1 + r2)/2 + r3 of M's rows r0..r3;
    // then dw = t G: the same combination of each t row's four entries.
    gradRow(p, prow, gradFirst(m0, m4, m8), gradFirst(m1, m5, m9), gradFirst(m2, m6, m10), gradFirst(m3, m7, m11));
    gradRow(p + 3 * prow, prow, gradMid(m4, m8), gradMid(m5, m9), gradMid(m6, m10), gradMid(m7, m11));
    gradRow(p + 6 * prow, prow, gradLast(m4, m8, m12), gradLast(m5, m9, m13), gradLast(m6, m10, m14), gradLast(m7, m11, m15));
  }
  for (let r = 0; r < 9; r++) memory.copy(m + <usize>r * row, scratch + <usize>r * prow, row);
}

// a + (b + c)/2, (b − c)/2 and (b + c)/2 + d in f64x2, in the order the reference rounds them.
// @ts-ignore: decorator
@inline
function gradFirst(a: v128, b: v128, c: v128): v128 {
  return f64x2.add(a, f64x2.mul(f64x2.add(b, c), f64x2.splat(0.5)));
}
// @ts-ignore: decorator
@inline
function gradMid(b: v128, c: v128): v128 {
  return f64x2.mul(f64x2.sub(b, c), f64x2.splat(0.5));
}
// @ts-ignore: decorator
@inline
function gradLast(b: v128, c: v128, d: v128): v128 {
  return f64x2.add(f64x2.mul(f64x2.add(b, c), f64x2.splat(0.5)), d);
}

// One row of dw = (p0, p1, p2, p3) G as three consecutive rows from q.
// @ts-ignore: decorator
@inline
function gradRow(q: usize, row: usize, p0: v128, p1: v128, p2: v128, p3: v128): void {
  store2(q, gradFirst(p0, p1, p2));
  store2(q + row, gradMid(p1, p2));
  store2(q + 2 * row, gradLast(p1, p2, p3));
}

/**
 * Output tiles [t0, t1) (tile = (n, ty, tx), ty < ⌈OH/2⌉, tx < ⌈OW/2⌉) of the convolution whose
 * geometry is at g, with the transformed filter U (16 × C × F) at G_WT, in blocks of `tb` tiles.
 */
export function convForwardWinograd(g: usize, t0: i32, t1: i32, work: usize, tb: i32): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), u = <usize>gi(g, G_WT), y = <usize>gi(g, G_OUT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const TY = (OH + 1) >> 1, TX = (OW + 1) >> 1, perImage = TY * TX;
  const vBase = work + gemmWork();
  // One cache line more than the matrix, so that the 16 matrices do not all fall into the same
  // L1 sets (strides of multiples of 4 KiB did: 1.5× slower).
  const vStride = (<usize>(tb * C) << 2) + 64;
  const mBase = vBase + 16 * vStride;
  const mStride = (<usize>(tb * F) << 2) + 64;
  const zero = f32x4.splat(0);
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const nt = min(tb, t1 - b0);
    winogradInput(g, b0, nt, vBase, vStride);
    // M_ξ = V_ξ · U_ξ.
    for (let xi = 0; xi < 16; xi++) {
      gemm(nt, F, C, vBase + <usize>xi * vStride, C, false, u + (<usize>(xi * C * F) << 2), F, false, mBase + <usize>xi * mStride, F, false, work);
    }
    // y = Aᵀ M A (+ bias, relu) for the block's tiles, the parts inside the output.
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      const oy = 2 * ty, ox = 2 * tx;
      const twoRows = oy + 1 < OH, twoCols = ox + 1 < OW;
      const yt = y + (<usize>(((n * OH + oy) * OW + ox) * F) << 2);
      const rowBytes = <usize>(OW * F) << 2;
      const mt = mBase + (<usize>(t * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const o = mt + (<usize>f << 2);
        // s_j = column j of Aᵀ M: s0_j = m0j + m1j + m2j, s1_j = m1j − m2j − m3j.
        let a0 = zero, a1 = zero, b0v = zero, b1v = zero;
        for (let j = 0; j < 4; j++) {
          const m0 = v128.load(o + <usize>(0 * 4 + j) * mStride);
          const m1 = v128.load(o + <usize>(1 * 4 + j) * mStride);
          const m2 = v128.load(o + <usize>(2 * 4 + j) * mStride);
          const m3 = v128.load(o + <usize>(3 * 4 + j) * mStride);
          const s0 = f32x4.add(f32x4.add(m0, m1), m2);
          const s1 = f32x4.sub(f32x4.sub(m1, m2), m3);
          // (Aᵀ M) A: out[., 0] = s0 + s1 + s2 (columns 0..2), out[., 1] = s1 − s2 − s3.
          if (j == 0) {
            a0 = s0;
            b0v = s1;
          } else if (j == 1) {
            a1 = s0;
            b1v = s1;
            a0 = f32x4.add(a0, s0);
            b0v = f32x4.add(b0v, s1);
          } else if (j == 2) {
            a0 = f32x4.add(a0, s0);
            b0v = f32x4.add(b0v, s1);
            a1 = f32x4.sub(a1, s0);
            b1v = f32x4.sub(b1v, s1);
          } else {
            a1 = f32x4.sub(a1, s0);
            b1v = f32x4.sub(b1v, s1);
          }
        }
        // a0 = y(0,0), a1 = y(0,1), b0v = y(1,0), b1v = y(1,1).
        if (bias != 0) {
          const bv = v128.load(bias + (<usize>f << 2));
          a0 = f32x4.add(a0, bv);
          a1 = f32x4.add(a1, bv);
          b0v = f32x4.add(b0v, bv);
          b1v = f32x4.add(b1v, bv);
        }
        if (relu) {
          a0 = v128.and(a0, f32x4.gt(a0, zero));
          a1 = v128.and(a1, f32x4.gt(a1, zero));
          b0v = v128.and(b0v, f32x4.gt(b0v, zero));
          b1v = v128.and(b1v, f32x4.gt(b1v, zero));
        }
        const p = yt + (<usize>f << 2);
        v128.store(p, a0);
        if (twoCols) v128.store(p + (<usize>F << 2), a1);
        if (twoRows) {
          v128.store(p + rowBytes, b0v);
          if (twoCols) v128.store(p + rowBytes + (<usize>F << 2), b1v);
        }
      }
    }
  }
}

/**
 * Filter gradient by Winograd F(3×3, 2×2) over output tiles [t0, t1): with V_ξ the transformed
 * input patches (as in the forward) and D_ξ = (A g Aᵀ)[ξ] the transformed 2×2 tiles g of dy
 * (A = [1 0; 1 1; 1 −1; 0 −1]), part_ξ[c, f] = Σ_t V_ξ[t, c]·D_ξ[t, f] (16 matrices C × F at
 * `part`, overwritten; zero for an empty range). The caller adds the threads' parts and maps
 * them to dw = Gᵀ part G (Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]).
 */
export function convBackpropFilterWinograd(g: usize, t0: i32, t1: i32, work: usize, tb: i32, part: usize): void {
  const C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const dy = <usize>gi(g, G_DY);
  const TY = (OH + 1) >> 1, TX = (OW + 1) >> 1, perImage = TY * TX;
  const vBase = work + gemmWork();
  const vStride = (<usize>(tb * C) << 2) + 64;
  const dBase = vBase + 16 * vStride;
  const dStride = (<usize>(tb * F) << 2) + 64;
  const partStride = <usize>(C * F) << 2;
  if (t1 <= t0) {
    memory.fill(part, 0, 16 * partStride);
    return;
  }
  const zero = f32x4.splat(0);
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const nt = min(tb, t1 - b0);
    winogradInput(g, b0, nt, vBase, vStride);
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      const oy = 2 * ty, ox = 2 * tx;
      const twoRows = oy + 1 < OH, twoCols = ox + 1 < OW;
      const gt = dy + (<usize>(((n * OH + oy) * OW + ox) * F) << 2);
      const rowBytes = <usize>(OW * F) << 2;
      const dt = dBase + (<usize>(t * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const p = gt + (<usize>f << 2);
        const g00 = v128.load(p);
        const g01 = twoCols ? v128.load(p + (<usize>F << 2)) : zero;
        const g10 = twoRows ? v128.load(p + rowBytes) : zero;
        const g11 = twoRows && twoCols ? v128.load(p + rowBytes + (<usize>F << 2)) : zero;
        // A g: rows [g0, g0 + g1, g0 − g1, −g1] of the two tile rows; then the same on columns.
        const o = dt + (<usize>f << 2);
        for (let i = 0; i < 4; i++) {
          let a: v128, b: v128;
          if (i == 0) {
            a = g00;
            b = g01;
          } else if (i == 1) {
            a = f32x4.add(g00, g10);
            b = f32x4.add(g01, g11);
          } else if (i == 2) {
            a = f32x4.sub(g00, g10);
            b = f32x4.sub(g01, g11);
          } else {
            a = f32x4.neg(g10);
            b = f32x4.neg(g11);
          }
          const q = o + <usize>(i * 4) * dStride;
          v128.store(q, a);
          v128.store(q + dStride, f32x4.add(a, b));
          v128.store(q + 2 * dStride, f32x4.sub(a, b));
          v128.store(q + 3 * dStride, f32x4.neg(b));
        }
      }
    }
    for (let xi = 0; xi < 16; xi++) {
      gemm(C, F, nt, vBase + <usize>xi * vStride, C, true, dBase + <usize>xi * dStride, F, false, part + <usize>xi * partStride, F, b0 > t0, work);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4×4, 3×3) (Lavin & Gray, points 0, ±1, ±2, ∞): each 4×4 block of outputs from a 6×6
// input patch, 36 products per tile and channel pair instead of 144 (2.25 multiply-adds per output
// instead of 4 for F(2×2, 3×3) and 9 directly):
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
// The filter (U = G w Gᵀ, G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]) comes
// already packed as gemmPackedB wants it, 36 matrices of C × F, so the GEMMs pack only V.

/** Bytes of this thread's work area convForwardWinograd4 needs for blocks of `tb` tiles. */
export function winograd4WorkBytes(tb: i32, C: i32, F: i32): i32 {
  return <i32>gemmWork() + 36 * (tb * (C + F) * 4 + 128) + 512;
}

// o = Bᵀ·d for one column (or row) of six vectors, stored at p, p + s, …, p + 5s.
// @ts-ignore: decorator
@inline
function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, p: usize, s: usize): void {
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  v128.store(p, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  v128.store(p + s, f32x4.add(f32x4.sub(f32x4.add(d3, d4), f32x4.mul(four, d1)), f32x4.neg(f32x4.mul(four, d2))));
  v128.store(p + 2 * s, f32x4.add(f32x4.mul(four, f32x4.sub(d1, d2)), f32x4.sub(d4, d3)));
  v128.store(p + 3 * s, f32x4.add(f32x4.mul(two, f32x4.sub(d3, d1)), f32x4.sub(d4, d2)));
  v128.store(p + 4 * s, f32x4.add(f32x4.mul(two, f32x4.sub(d1, d3)), f32x4.sub(d4, d2)));
  v128.store(p + 5 * s, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

/**
 * Output tiles [t0, t1) (tile = (n, ty, tx), ty < ⌈OH/4⌉, tx < ⌈OW/4⌉) of the convolution whose
 * geometry is at g, with the packed transformed filter at G_WT, in blocks of `tb` tiles.
 */
export function convForwardWinograd4(g: usize, t0: i32, t1: i32, work: usize, tb: i32): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), u = <usize>gi(g, G_WT), y = <usize>gi(g, G_OUT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const TY = (OH + 3) >> 2, TX = (OW + 3) >> 2, perImage = TY * TX;
  const vBase = work + gemmWork();
  const vStride = (<usize>(tb * C) << 2) + 64;
  const mBase = vBase + 36 * vStride;
  const mStride = (<usize>(tb * F) << 2) + 64;
  const tmp = mBase + 36 * mStride;
  const uStride = <usize>(C * (((F + 7) >> 3) << 3)) << 2;
  const zero = f32x4.splat(0), two = f32x4.splat(2), four = f32x4.splat(4), eight = f32x4.splat(8);
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const nt = min(tb, t1 - b0);
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      const iy0 = 4 * ty - pt, ix0 = 4 * tx - pl;
      const xn = x + (<usize>(n * H * W * C) << 2);
      const interior = iy0 >= 0 && iy0 + 6 <= H && ix0 >= 0 && ix0 + 6 <= W;
      const vt = vBase + (<usize>(t * C) << 2);
      const row = <usize>(W * C) << 2;
      for (let c = 0; c < C; c += 4) {
        const o = vt + (<usize>c << 2);
        // Columns: Bᵀ d[:, j] into ξ = 6i + j.
        for (let j = 0; j < 6; j++) {
          let d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128;
          if (interior) {
            const p = xn + (<usize>((iy0 * W + ix0 + j) * C + c) << 2);
            d0 = v128.load(p);
            d1 = v128.load(p + row);
            d2 = v128.load(p + 2 * row);
            d3 = v128.load(p + 3 * row);
            d4 = v128.load(p + 4 * row);
            d5 = v128.load(p + 5 * row);
          } else {
            d0 = patch(xn, H, W, C, iy0, ix0, c, 0, j);
            d1 = patch(xn, H, W, C, iy0, ix0, c, 1, j);
            d2 = patch(xn, H, W, C, iy0, ix0, c, 2, j);
            d3 = patch(xn, H, W, C, iy0, ix0, c, 3, j);
            d4 = patch(xn, H, W, C, iy0, ix0, c, 4, j);
            d5 = patch(xn, H, W, C, iy0, ix0, c, 5, j);
          }
          bt6(d0, d1, d2, d3, d4, d5, o + <usize>j * vStride, 6 * vStride);
        }
        // Rows: (Bᵀ d) B for each row i, in place.
        for (let i = 0; i < 6; i++) {
          const q = o + <usize>(6 * i) * vStride;
          const r0 = v128.load(q), r1 = v128.load(q + vStride), r2 = v128.load(q + 2 * vStride);
          const r3 = v128.load(q + 3 * vStride), r4 = v128.load(q + 4 * vStride), r5 = v128.load(q + 5 * vStride);
          bt6(r0, r1, r2, r3, r4, r5, q, vStride);
        }
      }
    }
    for (let xi = 0; xi < 36; xi++) {
      gemmPackedB(nt, F, C, vBase + <usize>xi * vStride, C, u + <usize>xi * uStride, mBase + <usize>xi * mStride, F, work);
    }
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      const oy = 4 * ty, ox = 4 * tx;
      const rows = min(4, OH - oy), cols = min(4, OW - ox);
      const yt = y + (<usize>(((n * OH + oy) * OW + ox) * F) << 2);
      const rowBytes = <usize>(OW * F) << 2;
      const mt = mBase + (<usize>(t * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const o = mt + (<usize>f << 2);
        // Columns: s_r[j] = (Aᵀ M)[r, j] into tmp[6r + j].
        for (let j = 0; j < 6; j++) {
          const m0 = v128.load(o + <usize>j * mStride);
          const m1 = v128.load(o + <usize>(6 + j) * mStride);
          const m2 = v128.load(o + <usize>(12 + j) * mStride);
          const m3 = v128.load(o + <usize>(18 + j) * mStride);
          const m4 = v128.load(o + <usize>(24 + j) * mStride);
          const m5 = v128.load(o + <usize>(30 + j) * mStride);
          const a12 = f32x4.add(m1, m2), s12 = f32x4.sub(m1, m2), a34 = f32x4.add(m3, m4), s34 = f32x4.sub(m3, m4);
          const q = tmp + (<usize>j << 4);
          v128.store(q, f32x4.add(f32x4.add(m0, a12), a34));
          v128.store(q + 96, f32x4.add(s12, f32x4.mul(two, s34)));
          v128.store(q + 192, f32x4.add(a12, f32x4.mul(four, a34)));
          v128.store(q + 288, f32x4.add(f32x4.add(s12, f32x4.mul(eight, s34)), m5));
        }
        const bv = bias != 0 ? v128.load(bias + (<usize>f << 2)) : zero;
        for (let r = 0; r < rows; r++) {
          const q = tmp + <usize>(r * 96);
          const u0 = v128.load(q), u1 = v128.load(q, 16), u2 = v128.load(q, 32);
          const u3 = v128.load(q, 48), u4 = v128.load(q, 64), u5 = v128.load(q, 80);
          const a12 = f32x4.add(u1, u2), s12 = f32x4.sub(u1, u2), a34 = f32x4.add(u3, u4), s34 = f32x4.sub(u3, u4);
          let y0 = f32x4.add(f32x4.add(f32x4.add(u0, a12), a34), bv);
          let y1 = f32x4.add(f32x4.add(s12, f32x4.mul(two, s34)), bv);
          let y2 = f32x4.add(f32x4.add(a12, f32x4.mul(four, a34)), bv);
          let y3 = f32x4.add(f32x4.add(f32x4.add(s12, f32x4.mul(eight, s34)), u5), bv);
          if (relu) {
            y0 = v128.and(y0, f32x4.gt(y0, zero));
            y1 = v128.and(y1, f32x4.gt(y1, zero));
            y2 = v128.and(y2, f32x4.gt(y2, zero));
            y3 = v128.and(y3, f32x4.gt(y3, zero));
          }
          const p = yt + <usize>r * rowBytes + (<usize>f << 2);
          const fb = <usize>F << 2;
          v128.store(p, y0);
          if (cols > 1) v128.store(p + fb, y1);
          if (cols > 2) v128.store(p + 2 * fb, y2);
          if (cols > 3) v128.store(p + 3 * fb, y3);
        }
      }
    }
  }
}
