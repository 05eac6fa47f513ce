// Winograd F(4×4, 3×3) forward with the 2×2 max pool and its argmax taken in the output transform:
// the training forward of a convolution followed by a 2×2 pool (conv2dMaxPoolTrain). Geometry and
// pointers in the block at g (asm/geometry.ts); the input transform and the GEMMs are
// asm/winograd4-common.ts's, the output transform has asm/winograd4.ts's arithmetic, so the values
// before the pool are convForwardWinograd4's bit for bit and the pooled output and argmax are those
// of asm maxPool over its output.

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_PT, G_PL, G_X, G_WT, G_BIAS, G_RELU, G_NEXT } from './geometry';
import { at1, at2, at3, blockProducts, outputColumns } from './winograd4-common';
import { gemmWork, poolWindow } from './conv-common';

/**
 * The 2×2-pooled (stride 2, 'valid') output [batch, ⌊OH/2⌋, ⌊OW/2⌋, F] at `pooled` of the
 * convolution (+ bias, relu) whose geometry is at g, with the packed F(4×4) filter transform at
 * G_WT, and at `argmax` (i32, same layout) each window's winner as its flat index in the
 * convolution output [batch, OH, OW, F]; the convolution output is never written. Tiles [t0, t1)
 * (tile = (n, ty, tx), ty < ⌈2⌊OH/2⌋/4⌉, tx < ⌈2⌊OW/2⌋/4⌉: only tiles under the pooled output),
 * in blocks of `tb` tiles taken from the counter at G_NEXT (0 before the jobs start) by every
 * thread, as convForwardWinograd4: each window's result is the same whichever thread computes it.
 */
export function convForwardWinograd4PoolArgmax(g: usize, t0: i32, t1: i32, work: usize, tb: i32, pooled: usize, argmax: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), u = <usize>gi(g, G_WT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const POH = OH >> 1, POW = OW >> 1;
  const TX = (2 * POW + 3) >> 2, perImage = ((2 * POH + 3) >> 2) * TX;
  const vBase = work + gemmWork();
  const vStride = (<usize>(tb * C) << 2) + 64;
  const mBase = vBase + 36 * vStride;
  const mStride = (<usize>(tb * F) << 2) + 64;
  const tmp = mBase + 36 * mStride;
  const quad = tmp + 512;
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, 1, 2, 3);
  const right = i32x4.splat(F), down = i32x4.splat(OW * F), twoRight = i32x4.splat(2 * F);
  const fb = <usize>F << 2;
  const next = g + (<usize>G_NEXT << 2);
  for (let b0 = t0 + atomic.add<i32>(next, tb); b0 < t1; b0 = t0 + atomic.add<i32>(next, tb)) {
    const nt = min(tb, t1 - b0);
    blockProducts(x, H, W, C, F, pt, pl, TX, perImage, b0, nt, u, vBase, vStride, mBase, mStride, tmp, quad);
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      const oy = 4 * ty, px = 2 * tx;
      const mt = mBase + (<usize>(t * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const o = mt + (<usize>f << 2);
        outputColumns(o, mStride, tmp);
        const bv = bias != 0 ? v128.load(bias + (<usize>f << 2)) : zero;
        let e0 = zero, e1 = zero, e2 = zero, e3 = zero;
        for (let r = 0; r < 4; r++) {
          const q = tmp + <usize>(r * 96);
          const u0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32);
          const v3 = v128.load(q, 48), v4 = v128.load(q, 64), v5 = v128.load(q, 80);
          const a12 = f32x4.add(v1, v2), s12 = f32x4.sub(v1, v2);
          let y0 = f32x4.add(f32x4.add(f32x4.add(u0, a12), f32x4.add(v3, v4)), bv);
          let y1 = f32x4.add(at1(s12, v3, v4), bv);
          let y2 = f32x4.add(at2(a12, v3, v4), bv);
          let y3 = f32x4.add(at3(s12, v3, v4, v5), bv);
          if (relu) {
            y0 = v128.and(y0, f32x4.gt(y0, zero));
            y1 = v128.and(y1, f32x4.gt(y1, zero));
            y2 = v128.and(y2, f32x4.gt(y2, zero));
            y3 = v128.and(y3, f32x4.gt(y3, zero));
          }
          // Even rows wait for the odd row below them; a window past the pooled output (odd OH or
          // OW, or the tile's rows past it) is dropped.
          if ((r & 1) == 0) {
            e0 = y0;
            e1 = y1;
            e2 = y2;
            e3 = y3;
            continue;
          }
          const py = 2 * ty + (r >> 1);
          if (py >= POH) break;
          const at = <usize>(((n * POH + py) * POW + px) * F + f) << 2;
          const i0 = i32x4.add(i32x4.splat(((n * OH + oy + r - 1) * OW + 2 * px) * F + f), lanes);
          if (px < POW) poolWindow(pooled + at, argmax + at, e0, e1, y0, y1, i0, right, down);
          if (px + 1 < POW) poolWindow(pooled + at + fb, argmax + at + fb, e2, e3, y2, y3, i32x4.add(i0, twoRight), right, down);
        }
      }
    }
  }
}
