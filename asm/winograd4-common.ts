// Winograd F(4×4, 3×3)'s parts shared by the forward (asm/winograd4.ts) and the training forward
// with its pool's argmax (asm/winograd4-train.ts): the input transform of a block of tiles, written
// in rows the GEMMs read as they are, the 36 GEMMs with the packed transformed filter, and the
// output transform's first pass. Not an entry file: its exports are inlined into the kernels, not
// wasm exports.

import { gemmRowsSplit } from './gemm';
import { patch } from './conv-common';
import { madd } from './microkernel';

// o = Bᵀ·d for one column (or row) of six vectors, stored at p, p + s, …, p + 5s. Each product by
// an entry of Bᵀ goes into its sum as one madd (a fused multiply-add in the relaxed-SIMD build): 16
// operations instead of 30, and one rounding less per product.
// @ts-ignore: decorator
@inline
export function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, p: usize, s: usize): void {
  const half = f32x4.splat(0.5), two = f32x4.splat(2), h3 = f32x4.splat(1.5), h5 = f32x4.splat(2.5);
  const mhalf = f32x4.splat(-0.5), mtwo = f32x4.splat(-2), mh5 = f32x4.splat(-2.5);
  const s31 = f32x4.sub(d3, d1), s42 = f32x4.sub(d4, d2);
  v128.store(p, madd(h3, s31, madd(mtwo, d2, f32x4.add(d0, d4))));
  v128.store(p + s, madd(h5, d3, madd(half, d2, f32x4.sub(d4, d1))));
  v128.store(p + 2 * s, madd(mh5, d2, madd(half, d3, f32x4.add(d4, d1))));
  v128.store(p + 3 * s, madd(two, s31, s42));
  v128.store(p + 4 * s, madd(mhalf, s31, s42));
  v128.store(p + 5 * s, madd(mtwo, d3, madd(h3, s42, f32x4.add(d1, d5))));
}

// The 36 vectors Bᵀ d B of one tile's 6×6 patch (channels [c, c+4) of image xn from (iy0, ix0)):
// the first pass (Bᵀ d) into the 36 vectors at q (96 bytes a row), the second ((Bᵀ d) B) to ξ =
// 6i + j at dst + i·rowStep + j·step (in place at q: q, 96, 16).
// @ts-ignore: decorator
@inline
export function inputTile(xn: usize, H: i32, W: i32, C: i32, iy0: i32, ix0: i32, c: i32, q: usize, dst: usize, rowStep: usize, step: usize): void {
  const interior = iy0 >= 0 && iy0 + 6 <= H && ix0 >= 0 && ix0 + 6 <= W;
  const row = <usize>(W * C) << 2;
  // Columns: Bᵀ d[:, j] into ξ = 6i + j.
  for (let j = 0; j < 6; j++) {
    let d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128;
    if (interior) {
      const p = xn + (<usize>((iy0 * W + ix0 + j) * C + c) << 2);
      d0 = v128.load(p);
      d1 = v128.load(p + row);
      d2 = v128.load(p + 2 * row);
      d3 = v128.load(p + 3 * row);
      d4 = v128.load(p + 4 * row);
      d5 = v128.load(p + 5 * row);
    } else {
      d0 = patch(xn, H, W, C, iy0, ix0, c, 0, j);
      d1 = patch(xn, H, W, C, iy0, ix0, c, 1, j);
      d2 = patch(xn, H, W, C, iy0, ix0, c, 2, j);
      d3 = patch(xn, H, W, C, iy0, ix0, c, 3, j);
      d4 = patch(xn, H, W, C, iy0, ix0, c, 4, j);
      d5 = patch(xn, H, W, C, iy0, ix0, c, 5, j);
    }
    bt6(d0, d1, d2, d3, d4, d5, q + (<usize>j << 4), 96);
  }
  // Rows: (Bᵀ d) B for each row i.
  for (let i = 0; i < 6; i++) {
    const r = q + <usize>(96 * i);
    bt6(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64), v128.load(r, 80), dst + <usize>i * rowStep, step);
  }
}

// One block of nt ≤ tb tiles from tile b0 (tile = (n, ty, tx), TX tiles a row, perImage an image):
// the input transform writes V straight in the layout the GEMM reads (per ξ at vBase + ξ·vStride,
// tile t's C channels at 4·t·C, the tiles of the last group of 4 past nt zero), then one GEMM per ξ
// sums the two halves of the channels apart into M (F columns a tile, at mBase + ξ·mStride) with
// the filter packed at u (F padded to 8).
// @ts-ignore: decorator
@inline
export function blockProducts(
  x: usize, H: i32, W: i32, C: i32, F: i32, pt: i32, pl: i32, TX: i32, perImage: i32, b0: i32, nt: i32,
  u: usize, vBase: usize, vStride: usize, mBase: usize, mStride: usize, tmp: usize, quad: usize,
): void {
  const fPad = ((F + 7) >> 3) << 3;
  const uStride = <usize>(C * fPad) << 2;
  const c0 = C >> 1, c1 = C - c0;
  const u1 = <usize>(c0 * fPad) << 2;
  const rowBytes = <usize>C << 2;
  const mt4 = (nt + 3) & ~3;
  for (let t = 0; t < nt; t++) {
    const tile = b0 + t;
    const n = tile / perImage;
    const rem = tile - n * perImage;
    const ty = rem / TX;
    const xn = x + (<usize>(n * H * W * C) << 2);
    const iy0 = 4 * ty - pt, ix0 = 4 * (rem - ty * TX) - pl;
    const vt = vBase + <usize>t * rowBytes;
    for (let c = 0; c < C; c += 4) inputTile(xn, H, W, C, iy0, ix0, c, quad, vt + (<usize>c << 2), 6 * vStride, vStride);
  }
  for (let t = nt; t < mt4; t++) {
    for (let xi = 0; xi < 36; xi++) memory.fill(vBase + <usize>xi * vStride + <usize>t * rowBytes, 0, rowBytes);
  }
  for (let xi = 0; xi < 36; xi++) {
    const uw = u + <usize>xi * uStride;
    gemmRowsSplit(mt4, F, c0, c1, vBase + <usize>xi * vStride, uw, uw + u1, mBase + <usize>xi * mStride, F, tmp);
  }
}

// Rows 1–3 of Aᵀ·m for one column (or row) m₀…m₅ of M, from a12 = m₁ + m₂ and s12 = m₁ − m₂ (row 0
// is m₀ + a12 + m₃ + m₄): each product by an entry of Aᵀ one madd. The forward, its pooled form and
// the training forward all use these, so their outputs agree bit for bit.
// @ts-ignore: decorator
@inline
export function at1(s12: v128, m3: v128, m4: v128): v128 {
  return madd(f32x4.splat(-2), m4, madd(f32x4.splat(0.5), m3, s12));
}

// @ts-ignore: decorator
@inline
export function at2(a12: v128, m3: v128, m4: v128): v128 {
  return madd(f32x4.splat(4), m4, madd(f32x4.splat(0.25), m3, a12));
}

// @ts-ignore: decorator
@inline
export function at3(s12: v128, m3: v128, m4: v128, m5: v128): v128 {
  return madd(f32x4.splat(-8), m4, madd(f32x4.splat(0.125), m3, f32x4.add(s12, m5)));
}

// The output transform's first pass for 4 channels of one tile: s_r[j] = (Aᵀ M)[r, j] (r < 4, j < 6)
// into tmp + 96r + 16j, from M's 36 vectors at o + ξ·mStride (ξ = 6i + j).
// @ts-ignore: decorator
@inline
export function outputColumns(o: usize, mStride: usize, tmp: usize): void {
  for (let j = 0; j < 6; j++) {
    const m0 = v128.load(o + <usize>j * mStride);
    const m1 = v128.load(o + <usize>(6 + j) * mStride);
    const m2 = v128.load(o + <usize>(12 + j) * mStride);
    const m3 = v128.load(o + <usize>(18 + j) * mStride);
    const m4 = v128.load(o + <usize>(24 + j) * mStride);
    const m5 = v128.load(o + <usize>(30 + j) * mStride);
    const a12 = f32x4.add(m1, m2), s12 = f32x4.sub(m1, m2);
    const q = tmp + (<usize>j << 4);
    v128.store(q, f32x4.add(f32x4.add(m0, a12), f32x4.add(m3, m4)));
    v128.store(q + 96, at1(s12, m3, m4));
    v128.store(q + 192, at2(a12, m3, m4));
    v128.store(q + 288, at3(s12, m3, m4, m5));
  }
}
