// Winograd F(4×4, 3×3), opt-in: forward and input gradient. Geometry and pointers in the block
// at g (asm/geometry.ts).

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_PT, G_PL, G_X, G_WT, G_OUT, G_BIAS, G_RELU, G_NEXT } from './geometry';
import { at1, at2, at3, blockProducts, outputColumns } from './winograd4-common';
import { gemmWork, poolMax } from './conv-common';

// Winograd F(4×4, 3×3): each 4×4 block of outputs from a 6×6 input patch, 36 products per tile and
// channel pair instead of 144 (2.25 multiply-adds per output instead of 4 for F(2×2, 3×3) and 9
// directly). Interpolation points 0, 1, −1, ½, −2, ∞ rather than Lavin & Gray's 0, ±1, ±2, ∞ or the
// symmetric 0, ±1, ±½, ∞: mixing a point with its reciprocal keeps the Vandermonde matrices better
// conditioned (Barabasz et al., "Error analysis and improving the accuracy of Winograd
// convolution", 2020), and the float32 rounding of the transforms is about 3.5× smaller.
//   Bᵀ = [1 −3/2 −2 3/2 1 0; 0 −1 ½ 5/2 1 0; 0 1 −5/2 ½ 1 0; 0 −2 −1 2 1 0; 0 ½ −1 −½ 1 0; 0 1 −3/2 −2 3/2 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 ½ −2 0; 0 1 1 ¼ 4 0; 0 1 −1 ⅛ −8 1]
// The filter (U = G w Gᵀ, G in src/backend/wasm/conv-winograd.ts) comes already packed for the
// GEMM, 36 matrices of C × F, and the input transform writes V as the GEMMs read it (each tile's
// channels in a row, gemmRowsSplit), so they pack nothing.
// Each matrix of U is packed as two halves of its C rows, and the GEMMs sum the two halves of the
// channels apart (M = M₀ + M₁, gemmRowsSplit): float32 rounding of a sum grows with its length, the output
// transform multiplies M by up to 64, and two shorter sums keep the error within the op tests'
// tolerance, which one sum over all C channels does not.

/** Bytes of this thread's work area convForwardWinograd4 needs for blocks of `tb` tiles. */
export function winograd4WorkBytes(tb: i32, C: i32, F: i32): i32 {
  return <i32>gemmWork() + 36 * (tb * (C + F) * 4 + 128) + 512 + 576 + 64;
}

/**
 * Output tiles [t0, t1) (tile = (n, ty, tx), ty < ⌈OH/4⌉, tx < ⌈OW/4⌉) of the convolution whose
 * geometry is at g, with the packed transformed filter at G_WT, in blocks of `tb` tiles. Every
 * thread of one convolution gets the same range and takes the next block from the counter at
 * G_NEXT (set to 0 before the jobs start) until none is left: a thread that runs slow (another
 * process on its core) leaves its share to the others. Each tile's result is the same whichever
 * thread and block compute it.
 */
export function convForwardWinograd4(g: usize, t0: i32, t1: i32, work: usize, tb: i32): void {
  forwardTiles4(g, t0, t1, work, tb, 0);
}

/**
 * convForwardWinograd4 followed by a 2×2 max pool at stride 2 ('valid'): each 4×4 tile holds four
 * whole pool windows, whose maxima (asm maxPool's rule, as convForwardWinogradPool) go to the
 * pooled output [batch, ⌊OH/2⌋, ⌊OW/2⌋, F] at `pooled`; the convolution output is never written.
 * Inference only (no argmax). With relu, each window's maximum is taken before the bias and the
 * relu (pooledRelu), with the same bits as pooling the relu'd outputs.
 */
export function convForwardWinograd4Pool(g: usize, t0: i32, t1: i32, work: usize, tb: i32, pooled: usize): void {
  forwardTiles4(g, t0, t1, work, tb, pooled);
}

// The pooled, relu'd outputs of one tile and 4 channels from the column pass (Aᵀ M) at tmp (rows
// r at tmp + 96r): the 2×2 windows of its 4×4 outputs to p (window (a, b) at p + a·rowBytes + b·fb),
// rows[cols] past prows[pcols] dropped. The maximum is taken before the bias and the relu:
// x ↦ x + b and x ↦ max(x, 0) are monotonic in float32 arithmetic, so max(relu(xᵢ + b)) =
// relu(max(xᵢ) + b) bit for bit; pmax drops a NaN as the relu's mask zeroes it, and relu(NaN + b)
// is +0 where every value of a window (or the bias) is NaN, as before.
// @ts-ignore: decorator
@inline
function pooledRelu(tmp: usize, p: usize, prows: i32, pcols: i32, rowBytes: usize, fb: usize, bv: v128): void {
  const zero = f32x4.splat(0);
  for (let a = 0; a < min(2, prows); a++) {
    let w0 = f32x4.splat(-Infinity), w1 = w0;
    for (let r = 2 * a; r < 2 * a + 2; r++) {
      const q = tmp + <usize>(r * 96);
      const u0 = v128.load(q), u1 = v128.load(q, 16), u2 = v128.load(q, 32);
      const u3 = v128.load(q, 48), u4 = v128.load(q, 64), u5 = v128.load(q, 80);
      const a12 = f32x4.add(u1, u2), s12 = f32x4.sub(u1, u2);
      const y0 = f32x4.add(f32x4.add(u0, a12), f32x4.add(u3, u4));
      const y1 = at1(s12, u3, u4), y2 = at2(a12, u3, u4), y3 = at3(s12, u3, u4, u5);
      w0 = f32x4.pmax(f32x4.pmax(w0, y0), y1);
      w1 = f32x4.pmax(f32x4.pmax(w1, y2), y3);
    }
    const o = p + <usize>a * rowBytes;
    if (pcols > 0) v128.store(o, f32x4.pmax(zero, f32x4.add(w0, bv)));
    if (pcols > 1) v128.store(o + fb, f32x4.pmax(zero, f32x4.add(w1, bv)));
  }
}

// convForwardWinograd4 (pooled 0) or convForwardWinograd4Pool. Each block of tb tiles (tb a
// multiple of 4): the input transform and the GEMMs into M (blockProducts, asm/winograd4-common.ts),
// then the output transform reads M.
function forwardTiles4(g: usize, t0: i32, t1: i32, work: usize, tb: i32, pooled: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), u = <usize>gi(g, G_WT), y = <usize>gi(g, G_OUT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const POH = OH >> 1, POW = OW >> 1;
  // Pooled, the tiles whose outputs all fall past the pooled windows (odd OH or OW) are skipped.
  const TY = ((pooled != 0 ? 2 * POH : OH) + 3) >> 2, TX = ((pooled != 0 ? 2 * POW : OW) + 3) >> 2, perImage = TY * TX;
  const vBase = work + gemmWork();
  const vStride = (<usize>(tb * C) << 2) + 64;
  const mBase = vBase + 36 * vStride;
  const mStride = (<usize>(tb * F) << 2) + 64;
  const tmp = mBase + 36 * mStride;
  const quad = tmp + 512;
  const zero = f32x4.splat(0);
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
      const oy = 4 * ty, ox = 4 * tx;
      const rows = min(4, OH - oy), cols = min(4, OW - ox);
      const yt = y + (<usize>(((n * OH + oy) * OW + ox) * F) << 2);
      const rowBytes = <usize>(OW * F) << 2;
      const mt = mBase + (<usize>(t * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const o = mt + (<usize>f << 2);
        outputColumns(o, mStride, tmp);
        const bv = bias != 0 ? v128.load(bias + (<usize>f << 2)) : zero;
        if (pooled != 0 && relu) {
          pooledRelu(tmp, pooled + (<usize>(((n * POH + 2 * ty) * POW + 2 * tx) * F + f) << 2), POH - 2 * ty, POW - 2 * tx, <usize>(POW * F) << 2, <usize>F << 2, bv);
          continue;
        }
        let e0 = zero, e1 = zero, e2 = zero, e3 = zero;
        for (let r = 0; r < (pooled != 0 ? 4 : rows); r++) {
          const q = tmp + <usize>(r * 96);
          const u0 = v128.load(q), u1 = v128.load(q, 16), u2 = v128.load(q, 32);
          const u3 = v128.load(q, 48), u4 = v128.load(q, 64), u5 = v128.load(q, 80);
          const a12 = f32x4.add(u1, u2), s12 = f32x4.sub(u1, u2);
          let y0 = f32x4.add(f32x4.add(f32x4.add(u0, a12), f32x4.add(u3, u4)), bv);
          let y1 = f32x4.add(at1(s12, u3, u4), bv);
          let y2 = f32x4.add(at2(a12, u3, u4), bv);
          let y3 = f32x4.add(at3(s12, u3, u4, u5), bv);
          if (relu) {
            y0 = v128.and(y0, f32x4.gt(y0, zero));
            y1 = v128.and(y1, f32x4.gt(y1, zero));
            y2 = v128.and(y2, f32x4.gt(y2, zero));
            y3 = v128.and(y3, f32x4.gt(y3, zero));
          }
          const fb = <usize>F << 2;
          if (pooled != 0) {
            // Even rows wait for the odd row below them; a window past the pooled output (odd
            // OH or OW, or the tile's rows past OH) is dropped.
            if ((r & 1) == 0) {
              e0 = y0;
              e1 = y1;
              e2 = y2;
              e3 = y3;
              continue;
            }
            const py = 2 * ty + (r >> 1), px = 2 * tx;
            if (py >= POH) break;
            const pp = pooled + (<usize>(((n * POH + py) * POW + px) * F + f) << 2);
            if (px < POW) v128.store(pp, poolMax(poolMax(poolMax(e0, e1), y0), y1));
            if (px + 1 < POW) v128.store(pp + fb, poolMax(poolMax(poolMax(e2, e3), y2), y3));
            continue;
          }
          const p = yt + <usize>r * rowBytes + (<usize>f << 2);
          v128.store(p, y0);
          if (cols > 1) v128.store(p + fb, y1);
          if (cols > 2) v128.store(p + 2 * fb, y2);
          if (cols > 3) v128.store(p + 3 * fb, y3);
        }
      }
    }
  }
}
