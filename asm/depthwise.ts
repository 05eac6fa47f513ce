// Depthwise convolution with one filter per channel (depth multiplier 1), NHWC f32, channels a
// multiple of 4, sixteen channels (four vectors) at a time:
//   forward         y[p, c]       = Σ_{i,j} x[n, oh·sh−pt+i·dh, ow·sw−pl+j·dw, c] · w[i, j, c]
//   input gradient  dx[q, c]      = Σ_{i,j} dy[n, oh, ow, c] · w[i, j, c]   over oh·sh = ih+pt−i·dh, ow·sw = iw+pl−j·dw
//   filter gradient part[i, j, c] = Σ_{p in range} x[n, ih, iw, c] · dy[p, c]
// Geometry and pointers in the block at g (G_* of asm/geometry.ts): x at G_X, w at G_WT, the
// output at G_OUT, dy at G_DY. Taps outside the image contribute nothing.

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_X, G_WT, G_OUT, G_DY } from './geometry';
import { madd } from './gemm';

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
    const o = yp + (<usize>c0 << 2);
    v128.store(o, a0);
    v128.store(o, b0, 16);
    v128.store(o + rowC, a1);
    v128.store(o + rowC, b1, 16);
    v128.store(o + 2 * rowC, a2);
    v128.store(o + 2 * rowC, b2, 16);
    v128.store(o + 3 * rowC, a3);
    v128.store(o + 3 * rowC, b3, 16);
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

/**
 * Forward of output pixels [start, end) (flat n·OH·OW + oh·OW + ow): four adjacent pixels at a
 * time where their horizontal taps stay inside the image, else one pixel with every tap checked.
 */
export function depthwiseForward(g: usize, start: i32, end: i32): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), w = <usize>gi(g, G_WT), y = <usize>gi(g, G_OUT);
  const pix = OH * OW;
  const rowC = <usize>C << 2;
  const zero = f32x4.splat(0);
  let r = start;
  while (r < end) {
    const n = r / pix;
    const rem = r - n * pix;
    const oh = rem / OW;
    const ow = rem - oh * OW;
    const ih0 = oh * sh - pt;
    const iw0 = ow * sw - pl;
    const yp = y + <usize>r * rowC;
    if (ow + 4 <= OW && r + 4 <= end && iw0 >= 0 && iw0 + 3 * sw + (KW - 1) * dw < W) {
      forwardFour(g, n, oh, iw0, yp);
      r += 4;
      continue;
    }
    r++;
    let c0 = 0;
    for (; c0 + 16 <= C; c0 += 16) {
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      for (let i = 0; i < KH; i++) {
        const ih = ih0 + i * dh;
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < KW; j++) {
          const iw = iw0 + j * dw;
          if (iw < 0 || iw >= W) continue;
          const xp = x + <usize>((n * H + ih) * W + iw) * rowC + (<usize>c0 << 2);
          const wp = w + <usize>(i * KW + j) * rowC + (<usize>c0 << 2);
          a0 = madd(v128.load(xp), v128.load(wp), a0);
          a1 = madd(v128.load(xp, 16), v128.load(wp, 16), a1);
          a2 = madd(v128.load(xp, 32), v128.load(wp, 32), a2);
          a3 = madd(v128.load(xp, 48), v128.load(wp, 48), a3);
        }
      }
      const o = yp + (<usize>c0 << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
    }
    for (; c0 < C; c0 += 4) {
      let a = zero;
      for (let i = 0; i < KH; i++) {
        const ih = ih0 + i * dh;
        if (ih < 0 || ih >= H) continue;
        for (let j = 0; j < KW; j++) {
          const iw = iw0 + j * dw;
          if (iw < 0 || iw >= W) continue;
          a = madd(v128.load(x + <usize>((n * H + ih) * W + iw) * rowC + (<usize>c0 << 2)), v128.load(w + <usize>(i * KW + j) * rowC + (<usize>c0 << 2)), a);
        }
      }
      v128.store(yp + (<usize>c0 << 2), a);
    }
  }
}

/** Input gradient of input pixels [start, end) (flat n·H·W + ih·W + iw). */
export function depthwiseBackpropInput(g: usize, start: i32, end: i32): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const w = <usize>gi(g, G_WT), dx = <usize>gi(g, G_OUT), dy = <usize>gi(g, G_DY);
  const pix = H * W;
  const rowC = <usize>C << 2;
  const zero = f32x4.splat(0);
  for (let q = start; q < end; q++) {
    const n = q / pix;
    const rem = q - n * pix;
    const ih = rem / W;
    const iw = rem - ih * W;
    const xp = dx + <usize>q * rowC;
    let c0 = 0;
    for (; c0 + 16 <= C; c0 += 16) {
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      for (let i = 0; i < KH; i++) {
        const rh = ih + pt - i * dh;
        const oh = rh / sh;
        if (rh < 0 || oh * sh != rh || oh >= OH) continue;
        for (let j = 0; j < KW; j++) {
          const rw = iw + pl - j * dw;
          const ow = rw / sw;
          if (rw < 0 || ow * sw != rw || ow >= OW) continue;
          const yp = dy + <usize>((n * OH + oh) * OW + ow) * rowC + (<usize>c0 << 2);
          const wp = w + <usize>(i * KW + j) * rowC + (<usize>c0 << 2);
          a0 = madd(v128.load(yp), v128.load(wp), a0);
          a1 = madd(v128.load(yp, 16), v128.load(wp, 16), a1);
          a2 = madd(v128.load(yp, 32), v128.load(wp, 32), a2);
          a3 = madd(v128.load(yp, 48), v128.load(wp, 48), a3);
        }
      }
      const o = xp + (<usize>c0 << 2);
      v128.store(o, a0);
      v128.store(o, a1, 16);
      v128.store(o, a2, 32);
      v128.store(o, a3, 48);
    }
    for (; c0 < C; c0 += 4) {
      let a = zero;
      for (let i = 0; i < KH; i++) {
        const rh = ih + pt - i * dh;
        const oh = rh / sh;
        if (rh < 0 || oh * sh != rh || oh >= OH) continue;
        for (let j = 0; j < KW; j++) {
          const rw = iw + pl - j * dw;
          const ow = rw / sw;
          if (rw < 0 || ow * sw != rw || ow >= OW) continue;
          a = madd(v128.load(dy + <usize>((n * OH + oh) * OW + ow) * rowC + (<usize>c0 << 2)), v128.load(w + <usize>(i * KW + j) * rowC + (<usize>c0 << 2)), a);
        }
      }
      v128.store(xp + (<usize>c0 << 2), a);
    }
  }
}

/** Filter gradient of output pixels [start, end) into `part` (KH·KW·C floats, zeroed here first). */
export function depthwiseBackpropFilter(g: usize, start: i32, end: i32, part: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), sw = gi(g, G_SW);
  const dh = gi(g, G_DH), dw = gi(g, G_DW), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY);
  const pix = OH * OW;
  const rowC = <usize>C << 2;
  memory.fill(part, 0, <usize>(KH * KW) * rowC);
  for (let r = start; r < end; r++) {
    const n = r / pix;
    const rem = r - n * pix;
    const oh = rem / OW;
    const ow = rem - oh * OW;
    const ih0 = oh * sh - pt;
    const iw0 = ow * sw - pl;
    const yp = dy + <usize>r * rowC;
    for (let i = 0; i < KH; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < KW; j++) {
        const iw = iw0 + j * dw;
        if (iw < 0 || iw >= W) continue;
        const xp = x + <usize>((n * H + ih) * W + iw) * rowC;
        const pp = part + <usize>(i * KW + j) * rowC;
        for (let c = 0; c < C; c += 4) {
          const o = <usize>c << 2;
          v128.store(pp + o, madd(v128.load(xp + o), v128.load(yp + o), v128.load(pp + o)));
        }
      }
    }
  }
}
