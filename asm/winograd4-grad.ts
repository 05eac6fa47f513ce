// Filter gradient of a 3×3 stride-1 convolution by Winograd F(3×3, 4×4): each 4×4 tile of dy and
// the 6×6 input patch under it give the tile's contribution to dw in 36 products per channel pair
// instead of 64 (four F(3×3, 2×2) tiles). Geometry and pointers in the block at g (asm/geometry.ts).
//
// F(3, 4) is F(4, 3) with the roles of its matrices exchanged (Lavin & Gray, 2015): with Bᵀ, G, Aᵀ
// of F(4×4, 3×3) at the points 0, 1, −1, ½, −2, ∞ (those of asm/winograd4.ts),
//   dw = Gᵀ [ Σ_tiles (A g Aᵀ) ⊙ (Bᵀ d B) ] G
// for g a 4×4 tile of dy and d its 6×6 input patch, where
//   Bᵀ = [1 −3/2 −2 3/2 1 0; 0 −1 ½ 5/2 1 0; 0 1 −5/2 ½ 1 0; 0 −2 −1 2 1 0; 0 ½ −1 −½ 1 0; 0 1 −3/2 −2 3/2 1]
//   A  = [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 ½ ¼ ⅛; 1 −2 4 −8; 0 0 0 1]
//   Gᵀ = [1 ⅓ −⅓ −16/15 1/15 0; 0 ⅓ ⅓ −8/15 −2/15 0; 0 ⅓ −⅓ −4/15 4/15 1].
// The sums over tiles run as 36 GEMMs V_ξᵀ · D_ξ on the layouts the transforms write (as
// asm/winograd2-grad.ts), and Gᵀ · G back to dw in f64 once the threads' sums are added.

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_PT, G_PL, G_X, G_DY } from './geometry';
import { inputTile } from './winograd4-common';
import { tile4x4 } from './winograd2-common';
import { tile4x8 } from './microkernel';

/** Bytes of this thread's work area convBackpropFilterWinograd4 needs for blocks of `tb` tiles. */
export function winograd4GradWorkBytes(tb: i32, C: i32, F: i32): i32 {
  return 36 * (tb * (C + F) * 4 + 128) + 1024;
}

/** Bytes between the 36 matrices C × F of a thread's part (one cache line more than a matrix). */
export function winograd4GradPartStride(C: i32, F: i32): i32 {
  return C * F * 4 + 64;
}

// o = A·g for one column (or row) of four vectors, stored at p, p + s, …, p + 5s.
// @ts-ignore: decorator
@inline
function a6(g0: v128, g1: v128, g2: v128, g3: v128, p: usize, s: usize): void {
  const a02 = f32x4.add(g0, g2), a13 = f32x4.add(g1, g3);
  v128.store(p, g0);
  v128.store(p + s, f32x4.add(a02, a13));
  v128.store(p + 2 * s, f32x4.sub(a02, a13));
  v128.store(p + 3 * s, f32x4.add(f32x4.add(g0, f32x4.mul(f32x4.splat(0.5), g1)), f32x4.add(f32x4.mul(f32x4.splat(0.25), g2), f32x4.mul(f32x4.splat(0.125), g3))));
  v128.store(p + 4 * s, f32x4.add(f32x4.sub(g0, f32x4.mul(f32x4.splat(2), g1)), f32x4.sub(f32x4.mul(f32x4.splat(4), g2), f32x4.mul(f32x4.splat(8), g3))));
  v128.store(p + 5 * s, g3);
}

/**
 * Filter gradient by Winograd F(3×3, 4×4) over the 4×4 output tiles [t0, t1) (tile = (n, ty, tx),
 * ty < ⌈OH/4⌉, tx < ⌈OW/4⌉): part_ξ[c, f] = Σ_t V_ξ[t, c]·D_ξ[t, f], V_ξ = (Bᵀ d B)[ξ] of the
 * tile's input patch (zeros outside the image), D_ξ = (A g Aᵀ)[ξ] of its tile of dy (zeros past
 * the output): 36 matrices C × F at `part`, winograd4GradPartStride bytes apart, overwritten
 * (zero for an empty range), in blocks of `tb` tiles. The caller adds the threads' parts and maps
 * them to dw with winograd4FilterGradTransform.
 */
export function convBackpropFilterWinograd4(g: usize, t0: i32, t1: i32, work: usize, tb: i32, part: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY);
  const TY = (OH + 3) >> 2, TX = (OW + 3) >> 2, perImage = TY * TX;
  const vBase = work;
  const vStride = (<usize>(tb * C) << 2) + 64;
  const dBase = vBase + 36 * vStride;
  const dStride = (<usize>(tb * F) << 2) + 64;
  const partStride = <usize>winograd4GradPartStride(C, F);
  if (t1 <= t0) {
    memory.fill(part, 0, 36 * partStride);
    return;
  }
  const cStep = <usize>tb << 4;
  const sliver = <usize>tb << 5;
  const F8 = F & ~7;
  const zero = f32x4.splat(0);
  const dyRow = <usize>(OW * F) << 2;
  // The first pass of each transform goes to 36 vectors side by side here (L1), not to the 36
  // matrices a page or more apart, which the second pass then writes once.
  const tmp = dBase + 36 * dStride;
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const nt = min(tb, t1 - b0);
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      // V: channels [c, c + 4) of tile t at 16·((c/4)·tb + t) in each V_ξ.
      const iy0 = 4 * ty - pt, ix0 = 4 * tx - pl;
      const xn = x + (<usize>(n * H * W * C) << 2);
      for (let c = 0; c < C; c += 4) {
        inputTile(xn, H, W, C, iy0, ix0, c, tmp, vBase + <usize>(c >> 2) * cStep + (<usize>t << 4), 6 * vStride, vStride);
      }
      // D: filters [8s, 8s + 8) of tile t at 32·(s·tb + t) in each D_ξ (a last sliver of four:
      // 16 bytes a tile).
      const oy = 4 * ty, ox = 4 * tx;
      const rows = min(4, OH - oy), cols = min(4, OW - ox);
      const gt = dy + (<usize>(((n * OH + oy) * OW + ox) * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const o = dBase + <usize>(f >> 3) * sliver + (f < F8 ? (<usize>t << 5) + (<usize>(f & 4) << 2) : <usize>t << 4);
        for (let j = 0; j < 4; j++) {
          const p = gt + (<usize>(j * F + f) << 2);
          const inCol = j < cols;
          const g0 = inCol ? v128.load(p) : zero;
          const g1 = inCol && rows > 1 ? v128.load(p + dyRow) : zero;
          const g2 = inCol && rows > 2 ? v128.load(p + 2 * dyRow) : zero;
          const g3 = inCol && rows > 3 ? v128.load(p + 3 * dyRow) : zero;
          a6(g0, g1, g2, g3, tmp + (<usize>j << 4), 96);
        }
        for (let i = 0; i < 6; i++) {
          const q = tmp + <usize>(96 * i);
          a6(v128.load(q), v128.load(q, 16), v128.load(q, 32), v128.load(q, 48), o + <usize>(6 * i) * dStride, dStride);
        }
      }
    }
    const accumulate = b0 > t0;
    for (let xi = 0; xi < 36; xi++) {
      const v = vBase + <usize>xi * vStride, d = dBase + <usize>xi * dStride, m = part + <usize>xi * partStride;
      for (let c = 0; c < C; c += 4) {
        const a = v + <usize>(c >> 2) * cStep;
        const out = m + (<usize>(c * F) << 2);
        for (let f = 0; f < F8; f += 8) tile4x8(nt, a, d + <usize>(f >> 3) * sliver, out + (<usize>f << 2), F, accumulate);
        if (F8 < F) tile4x4(nt, a, d + <usize>(F8 >> 3) * sliver, out + (<usize>F8 << 2), F, accumulate);
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

// Σ_k Gᵀ[i, k]·v_k for the row i of Gᵀ, in f64x2.
// @ts-ignore: decorator
@inline
function gt0(v0: v128, v1: v128, v2: v128, v3: v128, v4: v128): v128 {
  const third = f64x2.splat(1.0 / 3), fifteenth = f64x2.splat(1.0 / 15);
  return f64x2.add(f64x2.add(v0, f64x2.mul(third, f64x2.sub(v1, v2))), f64x2.mul(fifteenth, f64x2.sub(v4, f64x2.mul(f64x2.splat(16), v3))));
}
// @ts-ignore: decorator
@inline
function gt1(v1: v128, v2: v128, v3: v128, v4: v128): v128 {
  const third = f64x2.splat(1.0 / 3), fifteenth = f64x2.splat(1.0 / 15);
  return f64x2.sub(f64x2.mul(third, f64x2.add(v1, v2)), f64x2.mul(fifteenth, f64x2.add(f64x2.mul(f64x2.splat(8), v3), f64x2.mul(f64x2.splat(2), v4))));
}
// @ts-ignore: decorator
@inline
function gt2(v1: v128, v2: v128, v3: v128, v4: v128, v5: v128): v128 {
  const third = f64x2.splat(1.0 / 3), fifteenth = f64x2.splat(1.0 / 15);
  return f64x2.add(f64x2.add(f64x2.mul(third, f64x2.sub(v1, v2)), f64x2.mul(fifteenth, f64x2.sub(f64x2.mul(f64x2.splat(4), v4), f64x2.mul(f64x2.splat(4), v3)))), v5);
}

/**
 * dw [3, 3, C, F] at `dw` = Gᵀ M G of each slice (c, f) of the 36 summed matrices M at `m`
 * (convBackpropFilterWinograd4's part layout), in f64 before rounding, two slices per step.
 */
export function winograd4FilterGradTransform(m: usize, C: i32, F: i32, dw: usize): void {
  const CF = C * F;
  const ms = <usize>winograd4GradPartStride(C, F);
  const row = <usize>CF << 2;
  // t = Gᵀ M (3 × 6) one column η at a time, then dw row i = t[i] · G.
  for (let s = 0; s < CF; s += 2) {
    const p = m + (<usize>s << 2);
    const q = dw + (<usize>s << 2);
    let t00 = f64x2.splat(0), t01 = t00, t02 = t00, t03 = t00, t04 = t00, t05 = t00;
    let t10 = t00, t11 = t00, t12 = t00, t13 = t00, t14 = t00, t15 = t00;
    let t20 = t00, t21 = t00, t22 = t00, t23 = t00, t24 = t00, t25 = t00;
    for (let e = 0; e < 6; e++) {
      const c = p + <usize>e * ms;
      const v0 = load2(c), v1 = load2(c + 6 * ms), v2 = load2(c + 12 * ms), v3 = load2(c + 18 * ms), v4 = load2(c + 24 * ms), v5 = load2(c + 30 * ms);
      const a = gt0(v0, v1, v2, v3, v4), b = gt1(v1, v2, v3, v4), d = gt2(v1, v2, v3, v4, v5);
      if (e == 0) { t00 = a; t10 = b; t20 = d; }
      else if (e == 1) { t01 = a; t11 = b; t21 = d; }
      else if (e == 2) { t02 = a; t12 = b; t22 = d; }
      else if (e == 3) { t03 = a; t13 = b; t23 = d; }
      else if (e == 4) { t04 = a; t14 = b; t24 = d; }
      else { t05 = a; t15 = b; t25 = d; }
    }
    store2(q, gt0(t00, t01, t02, t03, t04));
    store2(q + row, gt1(t01, t02, t03, t04));
    store2(q + 2 * row, gt2(t01, t02, t03, t04, t05));
    store2(q + 3 * row, gt0(t10, t11, t12, t13, t14));
    store2(q + 4 * row, gt1(t11, t12, t13, t14));
    store2(q + 5 * row, gt2(t11, t12, t13, t14, t15));
    store2(q + 6 * row, gt0(t20, t21, t22, t23, t24));
    store2(q + 7 * row, gt1(t21, t22, t23, t24));
    store2(q + 8 * row, gt2(t21, t22, t23, t24, t25));
  }
}
