// Filter gradient of a 3×3 stride-1 convolution by Winograd F(3×3, 2×2). Geometry and pointers in
// the block at g (asm/geometry.ts); the transforms of the result back to dw in asm/winograd2.ts
// (winogradFilterGradTransform).

import { gi, G_C, G_OH, G_OW, G_F, G_DY } from './geometry';
import { gemmWork } from './conv-common';
import { tile4x4, winogradInput } from './winograd2-common';
import { tile4x8 } from './microkernel';

/**
 * Filter gradient by Winograd F(3×3, 2×2) over output tiles [t0, t1): with V_ξ the transformed
 * input patches (as in the forward) and D_ξ = (A g Aᵀ)[ξ] the transformed 2×2 tiles g of dy
 * (A = [1 0; 1 1; 1 −1; 0 −1]), part_ξ[c, f] = Σ_t V_ξ[t, c]·D_ξ[t, f] (16 matrices C × F at
 * `part`, overwritten; zero for an empty range), in blocks of `tb` tiles. The caller adds the
 * threads' parts and maps them to dw = Gᵀ part G (Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]).
 * The transforms write V_ξ in groups of four channels and D_ξ in slivers of eight filters (the
 * layouts gemm would pack them into), and the products run on those directly: the same sums in
 * the same order as gemm(transA) over the block, without packing either.
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
  // D_ξ: filters [8s, 8s + 8) of tile t at 32·(s·tb + t) (a last sliver of four: 16 bytes a tile).
  const sliver = <usize>tb << 5;
  const zero = f32x4.splat(0);
  const F8 = F & ~7;
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const nt = min(tb, t1 - b0);
    winogradInput(g, b0, nt, vBase, vStride, 16, <usize>tb << 4);
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
      for (let f = 0; f < F; f += 4) {
        const p = gt + (<usize>f << 2);
        const g00 = v128.load(p);
        const g01 = twoCols ? v128.load(p + (<usize>F << 2)) : zero;
        const g10 = twoRows ? v128.load(p + rowBytes) : zero;
        const g11 = twoRows && twoCols ? v128.load(p + rowBytes + (<usize>F << 2)) : zero;
        // A g: rows [g0, g0 + g1, g0 − g1, −g1] of the two tile rows; then the same on columns.
        const o = dBase + <usize>(f >> 3) * sliver + (f < F8 ? (<usize>t << 5) + (<usize>(f & 4) << 2) : <usize>t << 4);
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
    const accumulate = b0 > t0;
    for (let xi = 0; xi < 16; xi++) {
      const v = vBase + <usize>xi * vStride, d = dBase + <usize>xi * dStride, m = part + <usize>xi * partStride;
      for (let c = 0; c < C; c += 4) {
        const a = v + (<usize>(c >> 2) * <usize>tb << 4);
        const row = m + (<usize>(c * F) << 2);
        for (let f = 0; f < F8; f += 8) tile4x8(nt, a, d + <usize>(f >> 3) * sliver, row + (<usize>f << 2), F, accumulate);
        if (F8 < F) tile4x4(nt, a, d + <usize>(F8 >> 3) * sliver, row + (<usize>F8 << 2), F, accumulate);
      }
    }
  }
}
