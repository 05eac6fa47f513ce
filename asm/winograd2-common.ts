// Parts shared by the F(2×2, 3×3) forward (asm/winograd2.ts) and its filter gradient
// (asm/winograd2-grad.ts): the input transform, written in whichever layout the GEMM that reads it
// wants, and the GEMM micro-kernels over operands the transforms already laid out, so that no
// block of transformed tiles is packed a second time (gemm's packAN/packAT/packBN).

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_PT, G_PL, G_X } from './geometry';
import { madd } from './microkernel';
import { patch } from './conv-common';

/**
 * V_ξ[t, c] = (Bᵀ d B)[ξ] for tiles [b0, b0 + nt), d the 4×4 input patch of tile b0 + t (zeros
 * outside the image), into 16 matrices vStride bytes apart: channels [c, c + 4) of tile t at
 * vBase + t·tStep + (c/4)·cStep. Row-major V ([nt × C]): tStep = 4C, cStep = 16; in groups of four
 * channels ([C/4 × tb × 4], the layout gemm packs Vᵀ into): tStep = 16, cStep = 16·tb.
 */
export function winogradInput(g: usize, b0: i32, nt: i32, vBase: usize, vStride: usize, tStep: usize, cStep: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW);
  const pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X);
  const TX = (OW + 1) >> 1, perImage = ((OH + 1) >> 1) * TX;
  const row = <usize>(W * C) << 2;
  for (let t = 0; t < nt; t++) {
    const tile = b0 + t;
    const n = tile / perImage;
    const rem = tile - n * perImage;
    const ty = rem / TX;
    const tx = rem - ty * TX;
    const iy0 = 2 * ty - pt, ix0 = 2 * tx - pl;
    const xn = x + (<usize>(n * H * W * C) << 2);
    const interior = iy0 >= 0 && iy0 + 4 <= H && ix0 >= 0 && ix0 + 4 <= W;
    const vt = vBase + <usize>t * tStep;
    for (let c = 0; c < C; c += 4) {
      const o = vt + <usize>(c >> 2) * cStep;
      // Columns j of Bᵀ d (rows r0 = d0 − d2, r1 = d1 + d2, r2 = d2 − d1, r3 = d1 − d3), all in
      // registers, then (Bᵀ d) B on each row: [r0 − r2, r1 + r2, r2 − r1, r1 − r3] over its columns.
      let d0: v128, d1: v128, d2: v128, d3: v128;
      let p = xn + (<usize>((iy0 * W + ix0) * C + c) << 2);
      const pc = <usize>C << 2;
      if (interior) {
        d0 = v128.load(p); d1 = v128.load(p + row); d2 = v128.load(p + 2 * row); d3 = v128.load(p + 3 * row);
      } else {
        d0 = patch(xn, H, W, C, iy0, ix0, c, 0, 0); d1 = patch(xn, H, W, C, iy0, ix0, c, 1, 0);
        d2 = patch(xn, H, W, C, iy0, ix0, c, 2, 0); d3 = patch(xn, H, W, C, iy0, ix0, c, 3, 0);
      }
      const a0 = f32x4.sub(d0, d2), a1 = f32x4.add(d1, d2), a2 = f32x4.sub(d2, d1), a3 = f32x4.sub(d1, d3);
      if (interior) {
        p += pc;
        d0 = v128.load(p); d1 = v128.load(p + row); d2 = v128.load(p + 2 * row); d3 = v128.load(p + 3 * row);
      } else {
        d0 = patch(xn, H, W, C, iy0, ix0, c, 0, 1); d1 = patch(xn, H, W, C, iy0, ix0, c, 1, 1);
        d2 = patch(xn, H, W, C, iy0, ix0, c, 2, 1); d3 = patch(xn, H, W, C, iy0, ix0, c, 3, 1);
      }
      const b0v = f32x4.sub(d0, d2), b1 = f32x4.add(d1, d2), b2 = f32x4.sub(d2, d1), b3 = f32x4.sub(d1, d3);
      if (interior) {
        p += pc;
        d0 = v128.load(p); d1 = v128.load(p + row); d2 = v128.load(p + 2 * row); d3 = v128.load(p + 3 * row);
      } else {
        d0 = patch(xn, H, W, C, iy0, ix0, c, 0, 2); d1 = patch(xn, H, W, C, iy0, ix0, c, 1, 2);
        d2 = patch(xn, H, W, C, iy0, ix0, c, 2, 2); d3 = patch(xn, H, W, C, iy0, ix0, c, 3, 2);
      }
      const c0 = f32x4.sub(d0, d2), c1 = f32x4.add(d1, d2), c2 = f32x4.sub(d2, d1), c3 = f32x4.sub(d1, d3);
      // Column 0 and 2 are done with once column 2 is in: row i's outputs 0 and 2 need columns 0, 1, 2.
      v128.store(o, f32x4.sub(a0, c0));
      v128.store(o + 4 * vStride, f32x4.sub(a1, c1));
      v128.store(o + 8 * vStride, f32x4.sub(a2, c2));
      v128.store(o + 12 * vStride, f32x4.sub(a3, c3));
      v128.store(o + vStride, f32x4.add(b0v, c0));
      v128.store(o + 5 * vStride, f32x4.add(b1, c1));
      v128.store(o + 9 * vStride, f32x4.add(b2, c2));
      v128.store(o + 13 * vStride, f32x4.add(b3, c3));
      v128.store(o + 2 * vStride, f32x4.sub(c0, b0v));
      v128.store(o + 6 * vStride, f32x4.sub(c1, b1));
      v128.store(o + 10 * vStride, f32x4.sub(c2, b2));
      v128.store(o + 14 * vStride, f32x4.sub(c3, b3));
      if (interior) {
        p += pc;
        d0 = v128.load(p); d1 = v128.load(p + row); d2 = v128.load(p + 2 * row); d3 = v128.load(p + 3 * row);
      } else {
        d0 = patch(xn, H, W, C, iy0, ix0, c, 0, 3); d1 = patch(xn, H, W, C, iy0, ix0, c, 1, 3);
        d2 = patch(xn, H, W, C, iy0, ix0, c, 2, 3); d3 = patch(xn, H, W, C, iy0, ix0, c, 3, 3);
      }
      v128.store(o + 3 * vStride, f32x4.sub(b0v, f32x4.sub(d0, d2)));
      v128.store(o + 7 * vStride, f32x4.sub(b1, f32x4.add(d1, d2)));
      v128.store(o + 11 * vStride, f32x4.sub(b2, f32x4.sub(d2, d1)));
      v128.store(o + 15 * vStride, f32x4.sub(b3, f32x4.sub(d1, d3)));
    }
  }
}

/** tile4x8 for a last sliver of four columns: B's four at b + 16p. */
// @ts-ignore: decorator
@inline
export function tile4x4(k: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let p = 0; p < k; p++) {
    const bv = v128.load(b);
    c0 = madd(v128.load32_splat(a), bv, c0);
    c1 = madd(v128.load32_splat(a, 4), bv, c1);
    c2 = madd(v128.load32_splat(a, 8), bv, c2);
    c3 = madd(v128.load32_splat(a, 12), bv, c3);
    a += 16;
    b += 16;
  }
  const r1 = c + (<usize>ldc << 2), r2 = r1 + (<usize>ldc << 2), r3 = r2 + (<usize>ldc << 2);
  if (accumulate) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(r1));
    c2 = f32x4.add(c2, v128.load(r2));
    c3 = f32x4.add(c3, v128.load(r3));
  }
  v128.store(c, c0);
  v128.store(r1, c1);
  v128.store(r2, c2);
  v128.store(r3, c3);
}

/**
 * tile4x8 (overwriting C) with A's four rows read where they lie (row i at a + i·lda, step p at
 * +4p) and B in gemmPackedB's layout (eight columns at b + 32p): gemmPackedB's products and order
 * for one tile, without packing A.
 */
// @ts-ignore: decorator
@inline
export function rows4x8(k: i32, a: usize, lda: usize, b: usize, c: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = a + (<usize>k << 2);
  for (; a < end; a += 4) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a + lda);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a + 2 * lda);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a + 3 * lda);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    b += 32;
  }
  const r1 = c + (<usize>ldc << 2), r2 = r1 + (<usize>ldc << 2), r3 = r2 + (<usize>ldc << 2);
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

/** rows4x8 for a last sliver of four columns (the packed sliver's zero half is not read). */
// @ts-ignore: decorator
@inline
export function rows4x4(k: i32, a: usize, lda: usize, b: usize, c: usize, ldc: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const end = a + (<usize>k << 2);
  for (; a < end; a += 4) {
    const bv = v128.load(b);
    c0 = madd(v128.load32_splat(a), bv, c0);
    c1 = madd(v128.load32_splat(a + lda), bv, c1);
    c2 = madd(v128.load32_splat(a + 2 * lda), bv, c2);
    c3 = madd(v128.load32_splat(a + 3 * lda), bv, c3);
    b += 32;
  }
  const r1 = c + (<usize>ldc << 2), r2 = r1 + (<usize>ldc << 2), r3 = r2 + (<usize>ldc << 2);
  v128.store(c, c0);
  v128.store(r1, c1);
  v128.store(r2, c2);
  v128.store(r3, c3);
}
