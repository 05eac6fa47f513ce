// Direct input gradient for layers with few input channels (asm/direct.ts has their forward and
// filter gradient): every dx row written whole, no col2im scatter. Geometry and pointers in the block at g (asm/geometry.ts).

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_KH, G_KW, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_WT, G_OUT, G_DY } from './geometry';
import { madd } from './microkernel';

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
