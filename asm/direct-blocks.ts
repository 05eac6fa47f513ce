// The direct convolution's register blocks (asm/direct.ts), inlined where they are called:
// directPixel (any one pixel, every tap bounds-checked: borders and remainders), directWindow (a
// 2×2 block × 8 channels) and directPairs (pairs of pixels × 16 channels). Every block sums each
// pixel's taps in the same order (tap rows, then columns, then input channels, from zero) and
// skips the taps outside the image, so that every path of the direct convolution gives the same
// bits. Geometry and pointers in the block at g (asm/geometry.ts).
//
// V8 keeps at most 15 v128 values in registers and loads a loop iteration's operands before its
// multiply-adds, so a block holds accumulators + weight vectors + x values ≤ 15: directPairs 8 + 4
// + 2, each x value feeding four multiply-adds and each weight vector two.

import { gi, G_H, G_W, G_C, G_F, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_X, G_WT, G_BIAS, G_RELU } from './geometry';
import { poolMax } from './conv-common';
import { madd } from './microkernel';

// y[p, f0 .. f0+8) for one output pixel p at (n, oh, ow), every tap bounds-checked: the
// direct convolution's border and remainder path.
// @ts-ignore: decorator
@inline
export function directPixel(g: usize, n: i32, oh: i32, ow: i32, yp: usize): void {
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

// The 2×2 block of output pixels (oh0, ow0 .. +1) × (oh0 + 1, …) of a stride-1, undilated
// convolution, all horizontal taps inside the image (from input column iw0), eight channels at a
// time: eight accumulators as directRange's four pixels, each input row's x values shared by the
// block's two rows (tap rows t and t − 1). Each pixel sums its taps in directRange's order. With
// rowStride 0, out gets the block's maximum (the pool's rule); else the four pixels, the lower row
// rowStride bytes after the upper.
// @ts-ignore: decorator
@inline
export function directWindow(g: usize, n: i32, oh0: i32, iw0: i32, out: usize, rowStride: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), F = gi(g, G_F), KH = gi(g, G_KH), KW = gi(g, G_KW), pt = gi(g, G_PT);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const rowF = <usize>F << 2;
  const tapRow = <usize>(KW * C) * rowF;
  const len = <usize>(KW * C) << 2;
  const next = <usize>C << 2;
  const zero = f32x4.splat(0);
  for (let f0 = 0; f0 < F; f0 += 8) {
    // a, b: the upper row's two pixels; c, d: the lower row's.
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero, d0 = zero, d1 = zero;
    for (let t = 0; t <= KH; t++) {
      const ih = oh0 - pt + t;
      if (ih < 0 || ih >= H) continue;
      let xp = x + (<usize>(((n * H + ih) * W + iw0) * C) << 2);
      const xe = xp + len;
      let wa = w + <usize>t * tapRow + (<usize>f0 << 2);
      let wb = wa - tapRow;
      if (t > 0 && t < KH) {
        while (xp < xe) {
          const xa = v128.load32_splat(xp);
          const xb = v128.load32_splat(xp + next);
          let w0 = v128.load(wa);
          let w1 = v128.load(wa, 16);
          a0 = madd(xa, w0, a0); a1 = madd(xa, w1, a1);
          b0 = madd(xb, w0, b0); b1 = madd(xb, w1, b1);
          w0 = v128.load(wb);
          w1 = v128.load(wb, 16);
          c0 = madd(xa, w0, c0); c1 = madd(xa, w1, c1);
          d0 = madd(xb, w0, d0); d1 = madd(xb, w1, d1);
          xp += 4;
          wa += rowF;
          wb += rowF;
        }
      } else if (t == 0) {
        while (xp < xe) {
          const xa = v128.load32_splat(xp);
          const xb = v128.load32_splat(xp + next);
          const w0 = v128.load(wa);
          const w1 = v128.load(wa, 16);
          a0 = madd(xa, w0, a0); a1 = madd(xa, w1, a1);
          b0 = madd(xb, w0, b0); b1 = madd(xb, w1, b1);
          xp += 4;
          wa += rowF;
        }
      } else {
        while (xp < xe) {
          const xa = v128.load32_splat(xp);
          const xb = v128.load32_splat(xp + next);
          const w0 = v128.load(wb);
          const w1 = v128.load(wb, 16);
          c0 = madd(xa, w0, c0); c1 = madd(xa, w1, c1);
          d0 = madd(xb, w0, d0); d1 = madd(xb, w1, d1);
          xp += 4;
          wb += rowF;
        }
      }
    }
    if (bias != 0) {
      const bv0 = v128.load(bias + (<usize>f0 << 2));
      const bv1 = v128.load(bias + (<usize>f0 << 2), 16);
      a0 = f32x4.add(a0, bv0); a1 = f32x4.add(a1, bv1);
      b0 = f32x4.add(b0, bv0); b1 = f32x4.add(b1, bv1);
      c0 = f32x4.add(c0, bv0); c1 = f32x4.add(c1, bv1);
      d0 = f32x4.add(d0, bv0); d1 = f32x4.add(d1, bv1);
    }
    if (relu) {
      a0 = v128.and(a0, f32x4.gt(a0, zero)); a1 = v128.and(a1, f32x4.gt(a1, zero));
      b0 = v128.and(b0, f32x4.gt(b0, zero)); b1 = v128.and(b1, f32x4.gt(b1, zero));
      c0 = v128.and(c0, f32x4.gt(c0, zero)); c1 = v128.and(c1, f32x4.gt(c1, zero));
      d0 = v128.and(d0, f32x4.gt(d0, zero)); d1 = v128.and(d1, f32x4.gt(d1, zero));
    }
    const o = out + (<usize>f0 << 2);
    if (rowStride == 0) {
      v128.store(o, poolMax(poolMax(poolMax(a0, b0), c0), d0));
      v128.store(o, poolMax(poolMax(poolMax(a1, b1), c1), d1), 16);
    } else {
      v128.store(o, a0); v128.store(o, a1, 16);
      v128.store(o + rowF, b0); v128.store(o + rowF, b1, 16);
      v128.store(o + rowStride, c0); v128.store(o + rowStride, c1, 16);
      v128.store(o + rowStride + rowF, d0); v128.store(o + rowStride + rowF, d1, 16);
    }
  }
}

/** directPairs' output: both pixels at out and out + F floats. */
export const PAIR_STORE: i32 = 0;
/** directPairs' output: the pair's maximum (the pool's rule) at out, the upper row of a 2×2 window. */
export const PAIR_POOL_UPPER: i32 = 1;
/** directPairs' output: the maximum of out (PAIR_POOL_UPPER's) and the pair, at out. */
export const PAIR_POOL_LOWER: i32 = 2;

// The bias-added values after relu, when relu: max(0, v) with a pseudo-max (one instruction), the
// reference's `v > 0 ? v : 0` bit for bit (NaN and −0 give +0).
// @ts-ignore: decorator
@inline
function activate(v: v128, relu: bool): v128 {
  if (relu) return f32x4.pmax(f32x4.splat(0), v);
  return v;
}

// The window maximum so far against v (maxPool's order and rule). After relu no value is NaN or −0,
// so a pseudo-max picks the same value as poolMax's compare-and-select, in one instruction.
// @ts-ignore: decorator
@inline
function poolNext(best: v128, v: v128, relu: bool): v128 {
  if (relu) return f32x4.pmax(best, v);
  return poolMax(best, v);
}

/**
 * Output pixels (n, oh, ow0 + 2k) and (n, oh, ow0 + 2k + 1) for k < pairs, channels [f0, f0 + 16),
 * of a convolution without column dilation (F a multiple of 16; any stride, row dilation and
 * kernel size), + bias, then relu when `relu`, as convForward; pair k's output at out + k·outStep.
 * `mode` (PAIR_STORE, PAIR_POOL_UPPER or PAIR_POOL_LOWER) and `relu` are constants where it is
 * called: inlined, the code of the others folds away.
 */
// @ts-ignore: decorator
@inline
export function directPairs(g: usize, n: i32, oh: i32, ow0: i32, pairs: i32, f0: i32, out: usize, outStep: usize, mode: i32, relu: bool): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), F = gi(g, G_F), KH = gi(g, G_KH), KW = gi(g, G_KW);
  const sw = gi(g, G_SW), dh = gi(g, G_DH), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT) + (<usize>f0 << 2);
  const bias = <usize>gi(g, G_BIAS);
  const rowF = <usize>F << 2;
  const ih0 = oh * gi(g, G_SH) - gi(g, G_PT);
  const step = <usize>(sw * C) << 2;
  const run = <usize>(KW * C) << 2;
  const xRow = <usize>(W * C * dh) << 2;
  const wRow = <usize>(KW * C) * rowF;
  const zero = f32x4.splat(0);
  // Pair k's first x (tap (0, 0, 0) of its first pixel, maybe outside the image) by one add per
  // pair: no multiply between one pair's last multiply-adds and the next pair's first loads.
  let xk = x + (<usize>(((n * H + ih0) * W + ow0 * sw - pl) * C) << 2);
  for (let k = 0; k < pairs; k++, xk += step << 1) {
    const iw0 = (ow0 + 2 * k) * sw - pl;
    const o = out + <usize>k * outStep;
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    let xr = xk;
    if (iw0 >= 0 && iw0 + sw + KW <= W) {
      // Every tap column inside the image: a tap row's (column, channel) taps are KW·C consecutive
      // floats of x and rows of w. RGB at stride 1 reads the second pixel's x at a constant offset
      // (one instruction fewer per step).
      let wp = w;
      for (let i = 0; i < KH; i++, xr += xRow) {
        const ih = ih0 + i * dh;
        if (ih < 0 || ih >= H) {
          wp += wRow;
          continue;
        }
        let xp = xr;
        const xe = xr + run;
        if (step == 12) {
          while (xp < xe) {
            const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
            const xa = v128.load32_splat(xp);
            a0 = madd(xa, w0, a0); a1 = madd(xa, w1, a1); a2 = madd(xa, w2, a2); a3 = madd(xa, w3, a3);
            const xb = v128.load32_splat(xp, 12);
            b0 = madd(xb, w0, b0); b1 = madd(xb, w1, b1); b2 = madd(xb, w2, b2); b3 = madd(xb, w3, b3);
            xp += 4;
            wp += rowF;
          }
        } else {
          while (xp < xe) {
            const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
            const xa = v128.load32_splat(xp);
            a0 = madd(xa, w0, a0); a1 = madd(xa, w1, a1); a2 = madd(xa, w2, a2); a3 = madd(xa, w3, a3);
            const xb = v128.load32_splat(xp + step);
            b0 = madd(xb, w0, b0); b1 = madd(xb, w1, b1); b2 = madd(xb, w2, b2); b3 = madd(xb, w3, b3);
            xp += 4;
            wp += rowF;
          }
        }
      }
    } else {
      // At the image's left or right edge: tap column by tap column, each pixel only where its
      // column is inside.
      for (let i = 0; i < KH; i++, xr += xRow) {
        const ih = ih0 + i * dh;
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < KW; j++) {
          const inA = iw0 + j >= 0 && iw0 + j < W;
          const inB = iw0 + sw + j >= 0 && iw0 + sw + j < W;
          let xp = xr + (<usize>(j * C) << 2);
          let wp = w + <usize>i * wRow + <usize>(j * C) * rowF;
          const xe = xp + (<usize>C << 2);
          for (; xp < xe; xp += 4, wp += rowF) {
            const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
            if (inA) {
              const xa = v128.load32_splat(xp);
              a0 = madd(xa, w0, a0); a1 = madd(xa, w1, a1); a2 = madd(xa, w2, a2); a3 = madd(xa, w3, a3);
            }
            if (inB) {
              const xb = v128.load32_splat(xp + step);
              b0 = madd(xb, w0, b0); b1 = madd(xb, w1, b1); b2 = madd(xb, w2, b2); b3 = madd(xb, w3, b3);
            }
          }
        }
      }
    }
    if (bias != 0) {
      const bp = bias + (<usize>f0 << 2);
      const c0 = v128.load(bp), c1 = v128.load(bp, 16), c2 = v128.load(bp, 32), c3 = v128.load(bp, 48);
      a0 = f32x4.add(a0, c0); a1 = f32x4.add(a1, c1); a2 = f32x4.add(a2, c2); a3 = f32x4.add(a3, c3);
      b0 = f32x4.add(b0, c0); b1 = f32x4.add(b1, c1); b2 = f32x4.add(b2, c2); b3 = f32x4.add(b3, c3);
    }
    a0 = activate(a0, relu); a1 = activate(a1, relu); a2 = activate(a2, relu); a3 = activate(a3, relu);
    b0 = activate(b0, relu); b1 = activate(b1, relu); b2 = activate(b2, relu); b3 = activate(b3, relu);
    if (mode == PAIR_STORE) {
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      v128.store(o + rowF, b0); v128.store(o + rowF, b1, 16); v128.store(o + rowF, b2, 32); v128.store(o + rowF, b3, 48);
    } else if (mode == PAIR_POOL_UPPER) {
      v128.store(o, poolNext(a0, b0, relu)); v128.store(o, poolNext(a1, b1, relu), 16);
      v128.store(o, poolNext(a2, b2, relu), 32); v128.store(o, poolNext(a3, b3, relu), 48);
    } else {
      v128.store(o, poolNext(poolNext(v128.load(o), a0, relu), b0, relu));
      v128.store(o, poolNext(poolNext(v128.load(o, 16), a1, relu), b1, relu), 16);
      v128.store(o, poolNext(poolNext(v128.load(o, 32), a2, relu), b2, relu), 32);
      v128.store(o, poolNext(poolNext(v128.load(o, 48), a3, relu), b3, relu), 48);
    }
  }
}
