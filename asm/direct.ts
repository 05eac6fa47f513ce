// Direct convolutions (no im2col columns), for layers with few input channels (a first layer on
// RGB), where K = kh·kw·C is too short for the GEMM's packing to pay: forward (alone and with a
// max pool of its output; its register blocks in asm/direct-blocks.ts) and filter gradient, eight
// output channels at a time; the input gradient is in asm/direct-input.ts.
// Geometry and pointers in the block at g (asm/geometry.ts).

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_X, G_WT, G_OUT, G_BIAS, G_RELU, G_DY, G_NEXT } from './geometry';
import { poolMax, storeFour } from './conv-common';
import { madd } from './microkernel';
import { directPairs, directPixel, directWindow, PAIR_POOL_LOWER, PAIR_POOL_UPPER, PAIR_STORE } from './direct-blocks';
import { filterGradRow16 } from './direct-filter-grad';

/**
 * Direct forward convolution of output pixels [start, end) for few input channels (F a multiple
 * of 8), accumulating y = Σ_taps x · w straight from NHWC with no im2col copy (+ bias, relu as
 * convForward): with F a multiple of 16 and no column dilation, pairs of pixels in a row × 16
 * channels (directPairs); else 2×2 blocks where the range holds a whole pair of rows and the
 * convolution has stride 1 and no dilation (directWindow), else four horizontally adjacent pixels.
 * Taps outside the image contribute nothing; a group of four whose taps would leave the image
 * horizontally, and the pixels left over, go through directPixel. Every thread of one convolution
 * gets the same range and takes the next `chunk` pixels from the counter at G_NEXT (0 before the
 * jobs start) until none is left, as convForwardDirectPool: a pixel's result does not depend on the
 * block it is computed in (test/conv-fast.test.ts), so the bits do not depend on the threads.
 */
export function convForwardDirect(g: usize, start: i32, end: i32, chunk: i32): void {
  const next = g + (<usize>G_NEXT << 2);
  const out = <usize>gi(g, G_OUT);
  for (let b = start + atomic.add<i32>(next, chunk); b < end; b = start + atomic.add<i32>(next, chunk)) directRange(g, b, min(b + chunk, end), out);
}

/**
 * Inference: the direct convolution pooled by non-overlapping pkh×pkw windows ('valid'), for
 * pooled rows (n, ph) in [q0, q1); only the window maxima reach `out` [n, POH, POW, F]: the
 * full-size convolution output is never written to memory. Every thread of one convolution gets
 * the same range and takes the next `rows` pooled rows from the counter at G_NEXT (0 before the
 * jobs start) until none is left: a thread slowed by another process on its core leaves its share
 * to the others, and each row's result is the same whichever thread computes it. 2×2 windows run as
 * pixel pairs (directPairs) where F is a multiple of 16 and columns are undilated, else, for a
 * stride-1 undilated convolution, as one register block (directWindow); any other pool, and those
 * 2×2 blocks' windows whose taps leave the image horizontally, go through `scratch` (pkh·OW·F
 * floats per thread, in cache).
 */
export function convForwardDirectPool(g: usize, q0: i32, q1: i32, rows: i32, scratch: usize, out: usize, pkh: i32, pkw: i32, POH: i32, POW: i32): void {
  const next = g + (<usize>G_NEXT << 2);
  for (let b = q0 + atomic.add<i32>(next, rows); b < q1; b = q0 + atomic.add<i32>(next, rows)) {
    directPoolRows(g, b, min(b + rows, q1), scratch, out, pkh, pkw, POH, POW);
  }
}

// convForwardDirectPool's pooled rows [q0, q1).
function directPoolRows(g: usize, q0: i32, q1: i32, scratch: usize, out: usize, pkh: i32, pkw: i32, POH: i32, POW: i32): void {
  const W = gi(g, G_W), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F), KW = gi(g, G_KW), pl = gi(g, G_PL);
  const rowF = <usize>F << 2;
  const rowBytes = <usize>OW * rowF;
  const windows = pkh == 2 && pkw == 2 && gi(g, G_SH) == 1 && gi(g, G_SW) == 1 && gi(g, G_DH) == 1 && gi(g, G_DW) == 1;
  const pairs = pkh == 2 && pkw == 2 && gi(g, G_DW) == 1 && (F & 15) == 0;
  const relu = gi(g, G_RELU) != 0;
  for (let q = q0; q < q1; q++) {
    const n = q / POH;
    const ph = q - n * POH;
    if (pairs) {
      // The upper output row's pair maxima written to out, then the lower row's pairs pooled into
      // them, sixteen channels at a time (directPairs).
      const o = out + <usize>(q * POW) * rowF;
      for (let f0 = 0; f0 < F; f0 += 16) {
        const at = o + (<usize>f0 << 2);
        if (relu) {
          directPairs(g, n, 2 * ph, 0, POW, f0, at, rowF, PAIR_POOL_UPPER, true);
          directPairs(g, n, 2 * ph + 1, 0, POW, f0, at, rowF, PAIR_POOL_LOWER, true);
        } else {
          directPairs(g, n, 2 * ph, 0, POW, f0, at, rowF, PAIR_POOL_UPPER, false);
          directPairs(g, n, 2 * ph + 1, 0, POW, f0, at, rowF, PAIR_POOL_LOWER, false);
        }
      }
      continue;
    }
    if (windows) {
      for (let pw = 0; pw < POW; pw++) {
        const o = out + <usize>(q * POW + pw) * rowF;
        const iw0 = 2 * pw - pl;
        if (iw0 >= 0 && iw0 + KW < W) {
          directWindow(g, n, 2 * ph, iw0, o, 0);
          continue;
        }
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) directPixel(g, n, 2 * ph + i, 2 * pw + j, scratch + <usize>(i * 2 + j) * rowF);
        }
        poolRows(scratch, 2 * rowF, o, F, 2, 2, 0);
      }
      continue;
    }
    for (let i = 0; i < pkh; i++) {
      const r0 = (n * OH + ph * pkh + i) * OW;
      // directRange writes pixel r at base + r·rowF: place row r0 at scratch + i·rowBytes.
      directRange(g, r0, r0 + OW, scratch + <usize>i * rowBytes - <usize>r0 * rowF);
    }
    for (let pw = 0; pw < POW; pw++) poolRows(scratch, rowBytes, out + <usize>(q * POW + pw) * rowF, F, pkh, pkw, pw);
  }
}

// out[0, F) = the maximum of the pkh×pkw pixels from column pw·pkw of the rows at rows, rows +
// rowBytes, …: the reference pool's rule (a greater value, or a NaN over a number, wins).
function poolRows(rows: usize, rowBytes: usize, out: usize, F: i32, pkh: i32, pkw: i32, pw: i32): void {
  const rowF = <usize>F << 2;
  for (let f = 0; f < F; f += 4) {
    const c = <usize>f << 2;
    let best = v128.load(rows + <usize>(pw * pkw) * rowF + c);
    for (let i = 0; i < pkh; i++) {
      for (let j = 0; j < pkw; j++) {
        if (i == 0 && j == 0) continue;
        best = poolMax(best, v128.load(rows + <usize>i * rowBytes + <usize>(pw * pkw + j) * rowF + c));
      }
    }
    v128.store(out + c, best);
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
  const pairs = sh == 1 && sw == 1 && dh == 1 && dw == 1;
  const pairs16 = dw == 1 && (F & 15) == 0;
  let r = start;
  while (r < end) {
    const n = r / pix;
    const rem = r - n * pix;
    const oh = rem / OW;
    const ow = rem - oh * OW;
    const yp = y + <usize>r * rowF;
    const iw0 = ow * sw - pl;
    if (pairs16 && ow + 1 < OW && r + 2 <= end) {
      // The pairs of pixels left in this output row and this range (directPairs).
      let k = (OW - ow) >> 1;
      if (end - r < 2 * k) k = (end - r) >> 1;
      for (let f0 = 0; f0 < F; f0 += 16) {
        if (relu) directPairs(g, n, oh, ow, k, f0, yp + (<usize>f0 << 2), 2 * rowF, PAIR_STORE, true);
        else directPairs(g, n, oh, ow, k, f0, yp + (<usize>f0 << 2), 2 * rowF, PAIR_STORE, false);
      }
      r += 2 * k;
      continue;
    }
    if (pairs && ow == 0 && oh + 1 < OH && r + 2 * OW <= end) {
      // This output row and the next, as 2×2 blocks (directWindow).
      const rowBytes = <usize>OW * rowF;
      for (let o = 0; o < OW; o += 2) {
        const jw = o - pl;
        if (o + 2 <= OW && jw >= 0 && jw + KW < W) {
          directWindow(g, n, oh, jw, yp + <usize>o * rowF, rowBytes);
          continue;
        }
        for (let j = o; j < min(o + 2, OW); j++) {
          directPixel(g, n, oh, j, yp + <usize>j * rowF);
          directPixel(g, n, oh + 1, j, yp + rowBytes + <usize>j * rowF);
        }
      }
      r += 2 * OW;
      continue;
    }
    // Four pixels in this output row and this range, all horizontal taps inside the image.
    if (ow + 4 <= OW && r + 4 <= end && iw0 >= 0 && iw0 + 3 * sw + (KW - 1) * dw < W) {
      const ih0 = oh * sh - pt;
      for (let f0 = 0; f0 < F; f0 += 8) {
        let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        for (let i = 0; i < KH; i++) {
          const ih = ih0 + i * dh;
          if (ih < 0 || ih >= H) continue;
          // Undilated, a row's taps (j, c) are KW·C consecutive floats of x and rows of w: one
          // loop over them; dilated, one loop per tap column.
          const runs = dw == 1 ? 1 : KW;
          const len = dw == 1 ? KW * C : C;
          for (let j = 0; j < runs; j++) {
            let xp = x + (<usize>(((n * H + ih) * W + iw0 + j * dw) * C) << 2);
            let wp = w + (<usize>((i * KW + j) * C) * rowF) + (<usize>f0 << 2);
            const xe = xp + (<usize>len << 2);
            while (xp < xe) {
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
        storeFour(yp + (<usize>f0 << 2), rowF, a0, a1, a2, a3, a4, a5, a6, a7);
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
 * while every tap and channel group sweeps them; no im2col columns. When db ≠ 0, also the bias
 * gradient's sums over the same rows, read from L1: db[f] += Σ dy[n, oh, ow, f] (F f64).
 * Column stride and dilation 1 with F a multiple of 16 (the first layer's usual case) run in
 * pair blocks (asm/direct-filter-grad.ts filterGradRow16); the per-tap sweep below covers the rest.
 */
export function convBackpropFilterDirect(g: usize, q0: i32, q1: i32, part: usize, db: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY);
  const rowF = <usize>F << 2;
  const xStep = <usize>(sw * C) << 2;
  memory.fill(part, 0, <usize>(KH * KW * C) * rowF);
  const zero = f32x4.splat(0);
  if (sw == 1 && dw == 1 && (F & 15) == 0) {
    for (let q = q0; q < q1; q++) {
      if (db != 0) rowChannelSums(dy + <usize>(q * OW) * rowF, OW, F, db);
      filterGradRow16(g, q, part);
    }
    return;
  }
  for (let q = q0; q < q1; q++) {
    if (db != 0) rowChannelSums(dy + <usize>(q * OW) * rowF, OW, F, db);
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
          // RGB without the general loop's channel tests: six accumulators, each dy vector pair and
          // x value loaded once. (Sixteen channels per sweep, twelve accumulators, measured about
          // 1.5× slower: V8 spills them.)
          for (; f0 < F; f0 += 8) {
            let a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero;
            let xp = xRow;
            let dp = dyRow + (<usize>f0 << 2);
            for (let ow = owLo; ow < owHi; ow++) {
              const g0 = v128.load(dp);
              const g1 = v128.load(dp, 16);
              let xv = v128.load32_splat(xp);
              a0 = madd(xv, g0, a0); a1 = madd(xv, g1, a1);
              xv = v128.load32_splat(xp, 4);
              b0 = madd(xv, g0, b0); b1 = madd(xv, g1, b1);
              xv = v128.load32_splat(xp, 8);
              c0 = madd(xv, g0, c0); c1 = madd(xv, g1, c1);
              xp += xStep;
              dp += rowF;
            }
            const p = pTap + (<usize>f0 << 2);
            v128.store(p, f32x4.add(v128.load(p), a0));
            v128.store(p, f32x4.add(v128.load(p, 16), a1), 16);
            v128.store(p + rowF, f32x4.add(v128.load(p + rowF), b0));
            v128.store(p + rowF, f32x4.add(v128.load(p + rowF, 16), b1), 16);
            v128.store(p + 2 * rowF, f32x4.add(v128.load(p + 2 * rowF), c0));
            v128.store(p + 2 * rowF, f32x4.add(v128.load(p + 2 * rowF, 16), c1), 16);
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


// db[f] += Σ_ow row[ow, f] over one row of OW pixels of F channels (F a multiple of 8): f64 sums
// of the row in registers, eight or sixteen channels at a time, then added to db.
function rowChannelSums(row: usize, OW: i32, F: i32, db: usize): void {
  const rowF = <usize>F << 2;
  let f0 = 0;
  for (; f0 + 16 <= F; f0 += 16) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
    let s4 = f64x2.splat(0), s5 = f64x2.splat(0), s6 = f64x2.splat(0), s7 = f64x2.splat(0);
    let p = row + (<usize>f0 << 2);
    for (let ow = 0; ow < OW; ow++, p += rowF) {
      const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(a));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(b));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1)));
      s4 = f64x2.add(s4, f64x2.promote_low_f32x4(c));
      s5 = f64x2.add(s5, f64x2.promote_low_f32x4(v128.shuffle<f32>(c, c, 2, 3, 0, 1)));
      s6 = f64x2.add(s6, f64x2.promote_low_f32x4(d));
      s7 = f64x2.add(s7, f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1)));
    }
    const o = db + (<usize>f0 << 3);
    v128.store(o, f64x2.add(v128.load(o), s0));
    v128.store(o, f64x2.add(v128.load(o, 16), s1), 16);
    v128.store(o, f64x2.add(v128.load(o, 32), s2), 32);
    v128.store(o, f64x2.add(v128.load(o, 48), s3), 48);
    v128.store(o, f64x2.add(v128.load(o, 64), s4), 64);
    v128.store(o, f64x2.add(v128.load(o, 80), s5), 80);
    v128.store(o, f64x2.add(v128.load(o, 96), s6), 96);
    v128.store(o, f64x2.add(v128.load(o, 112), s7), 112);
  }
  for (; f0 < F; f0 += 8) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
    let p = row + (<usize>f0 << 2);
    for (let ow = 0; ow < OW; ow++, p += rowF) {
      const a = v128.load(p), b = v128.load(p, 16);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(a));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(b));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1)));
    }
    const o = db + (<usize>f0 << 3);
    v128.store(o, f64x2.add(v128.load(o), s0));
    v128.store(o, f64x2.add(v128.load(o, 16), s1), 16);
    v128.store(o, f64x2.add(v128.load(o, 32), s2), 32);
    v128.store(o, f64x2.add(v128.load(o, 48), s3), 48);
  }
}
