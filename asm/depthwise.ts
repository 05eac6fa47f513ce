// Depthwise convolution with one filter per channel, NHWC f32, C channels a multiple of 4 (a depth
// multiplier M > 1 runs on x widened to C·M channels by depthwiseExpand, and its input gradient is
// summed back by depthwiseReduce):
//   forward         y[p, c]  = Σ_{i,j} x[n, oh·sh−pt+i·dh, ow·sw−pl+j·dw, c] · w[i, j, c]
//   input gradient  dx[q, c] = Σ_{i,j} dy[n, oh, ow, c] · w[i, j, c]   over oh·sh = ih+pt−i·dh, ow·sw = iw+pl−j·dw
//   filter gradient dw[i, j, c] = Σ_{n,oh,ow} x[n, ih, iw, c] · dy[n, oh, ow, c]
// Geometry and pointers in the block at g (G_* of asm/geometry.ts): x at G_X, w at G_WT, the
// output at G_OUT, dy at G_DY. Taps outside the image contribute nothing.

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_X, G_WT, G_OUT, G_DY } from './geometry';
import { storeFour } from './conv-common';
import { madd } from './microkernel';

// Eight horizontally adjacent output pixels from yp (all their horizontal taps inside the image)
// of a 3-wide, stride-1, undilated row of taps, four channels at a time: pixel p's tap j reads x
// column iw0 + p + j, so each of the ten x vectors of a kernel row is loaded once and serves up to
// three pixels (13 loads for 24 multiply-adds, against 30 in forwardFour).
// @ts-ignore: decorator
@inline
function forwardEight3(g: usize, n: i32, oh: i32, iw0: i32, yp: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C);
  const KH = gi(g, G_KH), dh = gi(g, G_DH);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT);
  const rowC = <usize>C << 2;
  const ih0 = oh * gi(g, G_SH) - gi(g, G_PT);
  const zero = f32x4.splat(0);
  for (let c0 = 0; c0 < C; c0 += 4) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) continue;
      const xp = x + <usize>((n * H + ih) * W + iw0) * rowC + (<usize>c0 << 2);
      const wp = w + <usize>(i * 3) * rowC + (<usize>c0 << 2);
      const w0 = v128.load(wp), w1 = v128.load(wp + rowC), w2 = v128.load(wp + 2 * rowC);
      let v = v128.load(xp);
      a0 = madd(v, w0, a0);
      v = v128.load(xp + rowC);
      a0 = madd(v, w1, a0); a1 = madd(v, w0, a1);
      v = v128.load(xp + 2 * rowC);
      a0 = madd(v, w2, a0); a1 = madd(v, w1, a1); a2 = madd(v, w0, a2);
      v = v128.load(xp + 3 * rowC);
      a1 = madd(v, w2, a1); a2 = madd(v, w1, a2); a3 = madd(v, w0, a3);
      v = v128.load(xp + 4 * rowC);
      a2 = madd(v, w2, a2); a3 = madd(v, w1, a3); a4 = madd(v, w0, a4);
      v = v128.load(xp + 5 * rowC);
      a3 = madd(v, w2, a3); a4 = madd(v, w1, a4); a5 = madd(v, w0, a5);
      v = v128.load(xp + 6 * rowC);
      a4 = madd(v, w2, a4); a5 = madd(v, w1, a5); a6 = madd(v, w0, a6);
      v = v128.load(xp + 7 * rowC);
      a5 = madd(v, w2, a5); a6 = madd(v, w1, a6); a7 = madd(v, w0, a7);
      v = v128.load(xp + 8 * rowC);
      a6 = madd(v, w2, a6); a7 = madd(v, w1, a7);
      v = v128.load(xp + 9 * rowC);
      a7 = madd(v, w2, a7);
    }
    const o = yp + (<usize>c0 << 2);
    v128.store(o, a0);
    v128.store(o + rowC, a1);
    v128.store(o + 2 * rowC, a2);
    v128.store(o + 3 * rowC, a3);
    v128.store(o + 4 * rowC, a4);
    v128.store(o + 5 * rowC, a5);
    v128.store(o + 6 * rowC, a6);
    v128.store(o + 7 * rowC, a7);
  }
}

// Four horizontally adjacent output pixels from r (all their horizontal taps inside the image),
// eight channels at a time: each weight vector loaded once serves the four pixels.
// @ts-ignore: decorator
@inline
function forwardFour(g: usize, n: i32, oh: i32, iw0: i32, yp: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT);
  const rowC = <usize>C << 2;
  const step = <usize>sw * rowC;
  const ih0 = oh * sh - pt;
  const zero = f32x4.splat(0);
  let c0 = 0;
  for (; c0 + 8 <= C; c0 += 8) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) continue;
      let xp = x + <usize>((n * H + ih) * W + iw0) * rowC + (<usize>c0 << 2);
      let wp = w + <usize>(i * KW) * rowC + (<usize>c0 << 2);
      const tapStep = <usize>dw * rowC;
      for (let j = 0; j < KW; j++) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        a0 = madd(v128.load(xp), w0, a0);
        b0 = madd(v128.load(xp, 16), w1, b0);
        a1 = madd(v128.load(xp + step), w0, a1);
        b1 = madd(v128.load(xp + step, 16), w1, b1);
        a2 = madd(v128.load(xp + 2 * step), w0, a2);
        b2 = madd(v128.load(xp + 2 * step, 16), w1, b2);
        a3 = madd(v128.load(xp + 3 * step), w0, a3);
        b3 = madd(v128.load(xp + 3 * step, 16), w1, b3);
        xp += tapStep;
        wp += rowC;
      }
    }
    storeFour(yp + (<usize>c0 << 2), rowC, a0, b0, a1, b1, a2, b2, a3, b3);
  }
  for (; c0 < C; c0 += 4) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < KW; j++) {
        const xp = x + <usize>((n * H + ih) * W + iw0 + j * dw) * rowC + (<usize>c0 << 2);
        const wv = v128.load(w + <usize>(i * KW + j) * rowC + (<usize>c0 << 2));
        a0 = madd(v128.load(xp), wv, a0);
        a1 = madd(v128.load(xp + step), wv, a1);
        a2 = madd(v128.load(xp + 2 * step), wv, a2);
        a3 = madd(v128.load(xp + 3 * step), wv, a3);
      }
    }
    const o = yp + (<usize>c0 << 2);
    v128.store(o, a0);
    v128.store(o + rowC, a1);
    v128.store(o + 2 * rowC, a2);
    v128.store(o + 3 * rowC, a3);
  }
}

// o[0, C) += s[0, C) · w[0, C): one tap of one pixel, accumulated in memory (the border paths,
// where each pixel has its own set of taps).
// @ts-ignore: decorator
@inline
function maddRow(o: usize, s: usize, w: usize, C: i32): void {
  let c = 0;
  for (; c + 16 <= C; c += 16) {
    const b = <usize>c << 2;
    v128.store(o + b, madd(v128.load(s + b), v128.load(w + b), v128.load(o + b)));
    v128.store(o + b, madd(v128.load(s + b, 16), v128.load(w + b, 16), v128.load(o + b, 16)), 16);
    v128.store(o + b, madd(v128.load(s + b, 32), v128.load(w + b, 32), v128.load(o + b, 32)), 32);
    v128.store(o + b, madd(v128.load(s + b, 48), v128.load(w + b, 48), v128.load(o + b, 48)), 48);
  }
  for (; c < C; c += 4) {
    const b = <usize>c << 2;
    v128.store(o + b, madd(v128.load(s + b), v128.load(w + b), v128.load(o + b)));
  }
}

// The row (or column) of the image that tap k reads at pixel a, for stride s, padding p and
// dilation d: forward a·s − p + k·d; backward the output row (a + p − k·d) / s where that divides
// exactly, else −1 (no output pixel's tap k lands on a).
// @ts-ignore: decorator
@inline
function tapAt(a: i32, s: i32, p: i32, k: i32, d: i32, backward: bool): i32 {
  if (!backward) return a * s - p + k * d;
  const r = a + p - k * d;
  const u = r / s;
  return r < 0 || u * s != r ? -1 : u;
}

// out[0, C) = Σ over one pixel's taps of src[tap's pixel] · w[tap], every tap checked. Forward:
// output pixel (a, b) = (oh, ow) of image n, reading x. Backward: input pixel (a, b) = (ih, iw),
// reading the dy pixels (oh, ow) whose window holds it, oh·sh = ih + pt − i·dh.
// @ts-ignore: decorator
@inline
function pixelTaps(g: usize, out: usize, n: i32, a: i32, b: i32, backward: bool): void {
  const C = gi(g, G_C), KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  // The image read: x [H, W] forward, dy [OH, OW] backward.
  const RH = gi(g, backward ? G_OH : G_H), RW = gi(g, backward ? G_OW : G_W);
  const src = <usize>gi(g, backward ? G_DY : G_X), w = <usize>gi(g, G_WT);
  const rowC = <usize>C << 2;
  memory.fill(out, 0, rowC);
  for (let i = 0; i < KH; i++) {
    const u = tapAt(a, sh, pt, i, dh, backward);
    if (u < 0 || u >= RH) continue;
    for (let j = 0; j < KW; j++) {
      const v = tapAt(b, sw, pl, j, dw, backward);
      if (v < 0 || v >= RW) continue;
      maddRow(out, src + <usize>((n * RH + u) * RW + v) * rowC, w + <usize>(i * KW + j) * rowC, C);
    }
  }
}

/**
 * Forward of output pixels [start, end) (flat n·OH·OW + oh·OW + ow). Pixels whose horizontal taps
 * all stay inside the image (ow in [lo, hi)) go in groups of eight (3-wide stride-1 taps) or four;
 * the last four of a row's interior start early where that keeps them inside the range and the
 * interior (recomputing up to three pixels of the group before, with the same sums), so few
 * interior pixels are left to the one-pixel path that checks every tap.
 */
export function depthwiseForward(g: usize, start: i32, end: i32): void {
  const W = gi(g, G_W), C = gi(g, G_C), OW = gi(g, G_OW), pix = gi(g, G_OH) * OW;
  const KW = gi(g, G_KW), sw = gi(g, G_SW), dw = gi(g, G_DW), pl = gi(g, G_PL);
  const y = <usize>gi(g, G_OUT);
  const rowC = <usize>C << 2;
  const lo = (pl + sw - 1) / sw;
  const reach = W - 1 - (KW - 1) * dw + pl;
  const hi = reach < 0 ? 0 : min(OW, reach / sw + 1);
  const eight = KW == 3 && sw == 1 && dw == 1;
  let r = start;
  while (r < end) {
    const n = r / pix;
    const rem = r - n * pix;
    const oh = rem / OW;
    const ow = rem - oh * OW;
    const rowStart = r - ow;
    const left = min(end, rowStart + hi) - r;
    const first = max(start, rowStart + lo);
    const size = eight && left >= 8 ? 8 : 4;
    const q = left >= size ? r : r + left - size;
    if (ow >= lo && left > 0 && q >= first) {
      const yp = y + <usize>q * rowC;
      if (size == 8) forwardEight3(g, n, oh, q - rowStart - pl, yp);
      else forwardFour(g, n, oh, (q - rowStart) * sw - pl, yp);
      r = q + size;
    } else {
      pixelTaps(g, y + <usize>r * rowC, n, oh, ow, false);
      r++;
    }
  }
}

/**
 * Input gradient of input pixels [start, end) (flat n·H·W + ih·W + iw), for strides above 1 (at
 * stride 1 the caller runs depthwiseForward on dy with the filter turned 180°).
 */
export function depthwiseBackpropInput(g: usize, start: i32, end: i32): void {
  const W = gi(g, G_W), pix = gi(g, G_H) * W;
  const dx = <usize>gi(g, G_OUT), rowC = <usize>gi(g, G_C) << 2;
  for (let q = start; q < end; q++) {
    const n = q / pix;
    const rem = q - n * pix;
    const ih = rem / W;
    pixelTaps(g, dx + <usize>q * rowC, n, ih, rem - ih * W, true);
  }
}

// a + Σ over ow in [from, to) of x[xRow + (ow·sw + off)·C] · dy[yRow + ow·C]: one vector of
// channels of one tap's filter gradient over one output row (xRow, yRow point at the channels).
// @ts-ignore: decorator
@inline
function sumRange(xRow: usize, yRow: usize, off: i32, from: i32, to: i32, sw: i32, rowC: usize, a: v128): v128 {
  let xp = xRow + <usize>(from * sw + off) * rowC;
  let yp = yRow + <usize>from * rowC;
  const step = <usize>sw * rowC;
  for (let ow = from; ow < to; ow++) {
    a = madd(v128.load(xp), v128.load(yp), a);
    xp += step;
    yp += rowC;
  }
  return a;
}

// The filter gradient of one row of three stride-1, undilated taps over one output row, channels
// [c0, c1), added into tp (the row's three taps). Tap j reads x column ow − pl + j: where all three
// are inside the image, each x vector loaded once serves the three taps (two loads for three
// multiply-adds); the border columns of each tap go through sumRange. Each channel's order is
// fixed (left border, interior, right border), whatever the thread split.
// @ts-ignore: decorator
@inline
function threeTaps(xRow: usize, yRow: usize, tp: usize, c0: i32, c1: i32, W: i32, OW: i32, pl: i32, rowC: usize): void {
  const zero = f32x4.splat(0);
  const lo = max(0, pl), hi = min(OW, W - 2 + pl);
  for (let c = c0; c < c1; c += 4) {
    const b = <usize>c << 2;
    const xr = xRow + b, yr = yRow + b;
    let s0 = zero;
    let s1 = sumRange(xr, yr, 1 - pl, max(0, pl - 1), lo, 1, rowC, zero);
    let s2 = sumRange(xr, yr, 2 - pl, max(0, pl - 2), lo, 1, rowC, zero);
    let xp = xr + <usize>(lo - pl) * rowC;
    let yp = yr + <usize>lo * rowC;
    let v0 = v128.load(xp), v1 = v128.load(xp + rowC);
    xp += 2 * rowC;
    for (let ow = lo; ow < hi; ow++) {
      const v2 = v128.load(xp);
      const d = v128.load(yp);
      s0 = madd(v0, d, s0);
      s1 = madd(v1, d, s1);
      s2 = madd(v2, d, s2);
      v0 = v1;
      v1 = v2;
      xp += rowC;
      yp += rowC;
    }
    s0 = sumRange(xr, yr, -pl, hi, min(OW, W + pl), 1, rowC, s0);
    s1 = sumRange(xr, yr, 1 - pl, hi, min(OW, W - 1 + pl), 1, rowC, s1);
    v128.store(tp + b, f32x4.add(v128.load(tp + b), s0));
    v128.store(tp + rowC + b, f32x4.add(v128.load(tp + rowC + b), s1));
    v128.store(tp + 2 * rowC + b, f32x4.add(v128.load(tp + 2 * rowC + b), s2));
  }
}

/**
 * Filter gradient of channels [c0, c1) (multiples of 4) over the `rows` = batch·OH output rows, written to dw at
 * G_OUT [KH, KW, C]. Threads own disjoint channels, so there are no parts to add up, and each
 * channel's sum runs in the same order (output row by output row, each row summed in registers
 * along ow first) whatever the split: the result is the same for any thread count. Per output
 * row, tap and 16 channels, the pixels whose tap lands inside the image are a range of ow,
 * computed once: the inner loop has no bounds checks.
 */
export function depthwiseBackpropFilter(g: usize, c0: i32, c1: i32, rows: i32): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY), out = <usize>gi(g, G_OUT);
  const rowC = <usize>C << 2;
  const step = <usize>sw * rowC;
  const zero = f32x4.splat(0);
  for (let t = 0; t < KH * KW; t++) memory.fill(out + <usize>t * rowC + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  const three = KW == 3 && sw == 1 && dw == 1 && max(0, pl) < min(OW, W - 2 + pl);
  for (let q = 0; q < rows; q++) {
    const n = q / OH;
    const oh = q - n * OH;
    const yRow = dy + <usize>(q * OW) * rowC;
    for (let i = 0; i < KH; i++) {
      const ih = oh * sh - pt + i * dh;
      if (ih < 0 || ih >= H) continue;
      const xRow = x + <usize>((n * H + ih) * W) * rowC;
      if (three) {
        threeTaps(xRow, yRow, out + <usize>(i * 3) * rowC, c0, c1, W, OW, pl, rowC);
        continue;
      }
      for (let j = 0; j < KW; j++) {
        // iw = ow·sw + off inside [0, W) for ow in [lo, hi).
        const off = j * dw - pl;
        const lo = off >= 0 ? 0 : (sw - 1 - off) / sw;
        const hi = min(OW, W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1);
        if (lo >= hi) continue;
        const tp = out + <usize>(i * KW + j) * rowC;
        let c = c0;
        for (; c + 16 <= c1; c += 16) {
          const b = <usize>c << 2;
          let xp = xRow + <usize>(lo * sw + off) * rowC + b;
          let yp = yRow + <usize>lo * rowC + b;
          let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
          for (let ow = lo; ow < hi; ow++) {
            a0 = madd(v128.load(xp), v128.load(yp), a0);
            a1 = madd(v128.load(xp, 16), v128.load(yp, 16), a1);
            a2 = madd(v128.load(xp, 32), v128.load(yp, 32), a2);
            a3 = madd(v128.load(xp, 48), v128.load(yp, 48), a3);
            xp += step;
            yp += rowC;
          }
          v128.store(tp + b, f32x4.add(v128.load(tp + b), a0));
          v128.store(tp + b, f32x4.add(v128.load(tp + b, 16), a1), 16);
          v128.store(tp + b, f32x4.add(v128.load(tp + b, 32), a2), 32);
          v128.store(tp + b, f32x4.add(v128.load(tp + b, 48), a3), 48);
        }
        for (; c < c1; c += 4) {
          const b = <usize>c << 2;
          v128.store(tp + b, f32x4.add(v128.load(tp + b), sumRange(xRow + b, yRow + b, off, lo, hi, sw, rowC, zero)));
        }
      }
    }
  }
}

/** dst[p, c·M + m] = src[p, c] for pixels p in [start, end) of C channels: x widened for multiplier M. */
export function depthwiseExpand(src: usize, dst: usize, start: i32, end: i32, C: i32, M: i32): void {
  for (let p = start; p < end; p++) {
    const s = src + (<usize>(p * C) << 2);
    const d = dst + (<usize>(p * C * M) << 2);
    let c = 0;
    if (M == 2) {
      for (; c + 4 <= C; c += 4) {
        const v = v128.load(s + (<usize>c << 2));
        v128.store(d + (<usize>(2 * c) << 2), i32x4.shuffle(v, v, 0, 0, 1, 1));
        v128.store(d + (<usize>(2 * c) << 2), i32x4.shuffle(v, v, 2, 2, 3, 3), 16);
      }
    }
    for (; c < C; c++) {
      const v = load<f32>(s + (<usize>c << 2));
      for (let m = 0; m < M; m++) store<f32>(d + (<usize>(c * M + m) << 2), v);
    }
  }
}

/** dst[p, c] = Σ_m src[p, c·M + m] (m ascending) for pixels p in [start, end): a widened input gradient summed back. */
export function depthwiseReduce(src: usize, dst: usize, start: i32, end: i32, C: i32, M: i32): void {
  for (let p = start; p < end; p++) {
    const s = src + (<usize>(p * C * M) << 2);
    const d = dst + (<usize>(p * C) << 2);
    let c = 0;
    if (M == 2) {
      for (; c + 4 <= C; c += 4) {
        const a = v128.load(s + (<usize>(2 * c) << 2));
        const b = v128.load(s + (<usize>(2 * c) << 2), 16);
        v128.store(d + (<usize>c << 2), f32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7)));
      }
    }
    for (; c < C; c++) {
      let sum = load<f32>(s + (<usize>(c * M) << 2));
      for (let m = 1; m < M; m++) sum += load<f32>(s + (<usize>(c * M + m) << 2));
      store<f32>(d + (<usize>c << 2), sum);
    }
  }
}
