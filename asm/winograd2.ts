// Winograd F(2×2, 3×3): forward, input gradient (on the rotated filter) and the filter transforms
// (the filter gradient, F(3×3, 2×2), in asm/winograd2-grad.ts). Geometry and pointers in the
// block at g (asm/geometry.ts).

import { gi, G_C, G_OH, G_OW, G_F, G_WT, G_OUT, G_BIAS, G_RELU, G_NEXT } from './geometry';
import { gemm } from './gemm';
import { gemmWork, poolMax, poolWindow } from './conv-common';
import { rows4x4, rows4x8, winogradInput } from './winograd2-common';

// ---------------------------------------------------------------------------------------------
// Winograd F(2×2, 3×3) for 3×3 filters at stride 1 and dilation 1 (Lavin & Gray, 2015): each 2×2
// block of outputs ("tile") comes from a 4×4 input patch d as
//   y = Aᵀ [ Σ_c (Bᵀ d_c B) ⊙ U_c ] A,   U = G w G ᵀ (the filter, transformed once by the caller)
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]
// so the 9 multiply-adds per output and input channel become 4 (16 per tile), done as 16 GEMMs
// V_ξ[tiles × C] · U_ξ[C × F] over a block of tiles whose transforms stay in cache. Channels go
// four at a time through f32x4 (C and F multiples of 4). The input gradient of a stride-1 3×3
// convolution is the same computation on dy with the filter rotated and transposed (the caller
// transforms it so and writes the geometry of that convolution).

/** Bytes of this thread's work area convForwardWinograd needs for blocks of `tb` tiles. */
export function winogradWorkBytes(tb: i32, C: i32, F: i32): i32 {
  return <i32>gemmWork() + 16 * (tb * (C + F) * 4 + 128);
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

/**
 * U = G g Gᵀ (G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]) of every 3×3 filter slice g of w [9 × C·F] (tap k
 * of slice s = c·F + f at w[k·C·F + s]) into u [16 × C·F] (element ξ = 4i + j at u[ξ·C·F + s]),
 * in f64 before rounding, two slices per step (C·F is a multiple of 16 for Winograd layers). With
 * `rot`: g is the filter rotated by 180° (tap 8 − k) and u holds 16 matrices [F × C] (slice (c, f)
 * at f·C + c): the input gradient's filter, in and out swapped. The rows are C·F floats apart, a
 * multiple of 4 KiB for the seed model's layers, and each step touches all 25 of them: in place
 * they fell into the same L1 sets (0.23 ms for 64 × 128; 0.035 ms at an unaligned width), so the
 * work goes through copies a cache line further apart per row in `scratch` (25·(C·F + 16) floats).
 */
export function winogradFilterTransform(w: usize, C: i32, F: i32, rot: bool, u: usize, scratch: usize): void {
  const CF = C * F;
  const row = <usize>CF << 2;
  const prow = row + 64;
  const uOut = scratch + 9 * prow;
  for (let k = 0; k < 9; k++) memory.copy(scratch + <usize>k * prow, w + <usize>k * row, row);
  for (let s = 0; s < CF; s += 2) {
    const p = scratch + (<usize>s << 2);
    // The nine taps; t = G g (4 × 3) has the rows r0, (r0 + r1 + r2)/2, (r0 − r1 + r2)/2, r2 of
    // g's rows r0 = (g0, g1, g2), r1 = (g3, g4, g5), r2 = (g6, g7, g8).
    const g0 = load2(p + <usize>(rot ? 8 : 0) * prow), g1 = load2(p + <usize>(rot ? 7 : 1) * prow), g2 = load2(p + <usize>(rot ? 6 : 2) * prow);
    const g3 = load2(p + <usize>(rot ? 5 : 3) * prow), g4 = load2(p + 4 * prow), g5 = load2(p + <usize>(rot ? 3 : 5) * prow);
    const g6 = load2(p + <usize>(rot ? 2 : 6) * prow), g7 = load2(p + <usize>(rot ? 1 : 7) * prow), g8 = load2(p + <usize>(rot ? 0 : 8) * prow);
    // U = t Gᵀ: row i of U from row i of t, the same combination.
    const q = rot ? uOut + (<usize>((s % F) * C + s / F) << 2) : uOut + (<usize>s << 2);
    filterRow(q, prow, rot, C, g0, g1, g2);
    filterRow(q + 4 * prow, prow, rot, C, half3(g0, g3, g6), half3(g1, g4, g7), half3(g2, g5, g8));
    filterRow(q + 8 * prow, prow, rot, C, half3m(g0, g3, g6), half3m(g1, g4, g7), half3m(g2, g5, g8));
    filterRow(q + 12 * prow, prow, rot, C, g6, g7, g8);
  }
  for (let r = 0; r < 16; r++) memory.copy(u + <usize>r * row, uOut + <usize>r * prow, row);
}

// (a + b + d)/2 and (a − b + d)/2 in f64x2, in the order the reference rounds them.
// @ts-ignore: decorator
@inline
function half3(a: v128, b: v128, d: v128): v128 {
  return f64x2.mul(f64x2.add(f64x2.add(a, b), d), f64x2.splat(0.5));
}
// @ts-ignore: decorator
@inline
function half3m(a: v128, b: v128, d: v128): v128 {
  return f64x2.mul(f64x2.add(f64x2.sub(a, b), d), f64x2.splat(0.5));
}

// One row of U = (a, b, d) Gᵀ = a, (a + b + d)/2, (a − b + d)/2, d as four consecutive rows of u
// from q; with `rot`, the second slice of each pair goes C floats further (the [F × C] layout).
// @ts-ignore: decorator
@inline
function filterRow(q: usize, row: usize, rot: bool, C: i32, a: v128, b: v128, d: v128): void {
  put2(q, rot, C, a);
  put2(q + row, rot, C, half3(a, b, d));
  put2(q + 2 * row, rot, C, half3m(a, b, d));
  put2(q + 3 * row, rot, C, d);
}

// The two slices' values of v at q, or with `rot` at q and C floats further.
// @ts-ignore: decorator
@inline
function put2(q: usize, rot: bool, C: i32, v: v128): void {
  if (rot) {
    const h = f32x4.demote_f64x2_zero(v);
    v128.store32_lane(q, h, 0);
    v128.store32_lane(q + (<usize>C << 2), h, 1);
  } else {
    store2(q, v);
  }
}

/**
 * Over m [16 × C·F] (the summed matrices M_ξ of convBackpropFilterWinograd): its first 9 rows
 * become dw [3, 3, C, F] = Gᵀ M G (Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]) of each slice, in f64 before
 * rounding, two slices per step (all 16 values of a pair are read before any is written), through
 * copies of the rows a cache line further apart in `scratch` (16·(C·F + 16) floats; see
 * winogradFilterTransform).
 */
export function winogradFilterGradTransform(m: usize, C: i32, F: i32, scratch: usize): void {
  const CF = C * F;
  const row = <usize>CF << 2;
  const prow = row + 64;
  for (let r = 0; r < 16; r++) memory.copy(scratch + <usize>r * prow, m + <usize>r * row, row);
  for (let s = 0; s < CF; s += 2) {
    const p = scratch + (<usize>s << 2);
    const m0 = load2(p), m1 = load2(p + prow), m2 = load2(p + 2 * prow), m3 = load2(p + 3 * prow);
    const m4 = load2(p + 4 * prow), m5 = load2(p + 5 * prow), m6 = load2(p + 6 * prow), m7 = load2(p + 7 * prow);
    const m8 = load2(p + 8 * prow), m9 = load2(p + 9 * prow), m10 = load2(p + 10 * prow), m11 = load2(p + 11 * prow);
    const m12 = load2(p + 12 * prow), m13 = load2(p + 13 * prow), m14 = load2(p + 14 * prow), m15 = load2(p + 15 * prow);
    // t = Gᵀ M (3 × 4): rows r0 + (r1 + r2)/2, (r1 − r2)/2, (r1 + r2)/2 + r3 of M's rows r0..r3;
    // then dw = t G: the same combination of each t row's four entries.
    gradRow(p, prow, gradFirst(m0, m4, m8), gradFirst(m1, m5, m9), gradFirst(m2, m6, m10), gradFirst(m3, m7, m11));
    gradRow(p + 3 * prow, prow, gradMid(m4, m8), gradMid(m5, m9), gradMid(m6, m10), gradMid(m7, m11));
    gradRow(p + 6 * prow, prow, gradLast(m4, m8, m12), gradLast(m5, m9, m13), gradLast(m6, m10, m14), gradLast(m7, m11, m15));
  }
  for (let r = 0; r < 9; r++) memory.copy(m + <usize>r * row, scratch + <usize>r * prow, row);
}

// a + (b + c)/2, (b − c)/2 and (b + c)/2 + d in f64x2, in the order the reference rounds them.
// @ts-ignore: decorator
@inline
function gradFirst(a: v128, b: v128, c: v128): v128 {
  return f64x2.add(a, f64x2.mul(f64x2.add(b, c), f64x2.splat(0.5)));
}
// @ts-ignore: decorator
@inline
function gradMid(b: v128, c: v128): v128 {
  return f64x2.mul(f64x2.sub(b, c), f64x2.splat(0.5));
}
// @ts-ignore: decorator
@inline
function gradLast(b: v128, c: v128, d: v128): v128 {
  return f64x2.add(f64x2.mul(f64x2.add(b, c), f64x2.splat(0.5)), d);
}

// One row of dw = (p0, p1, p2, p3) G as three consecutive rows from q.
// @ts-ignore: decorator
@inline
function gradRow(q: usize, row: usize, p0: v128, p1: v128, p2: v128, p3: v128): void {
  store2(q, gradFirst(p0, p1, p2));
  store2(q + row, gradMid(p1, p2));
  store2(q + 2 * row, gradLast(p1, p2, p3));
}

// Whether the forward reads U already packed (winogradFilterPack) and skips gemm's packing of it
// per block of tiles: when U_ξ fits gemmPackedB's one panel (C ≤ 256, F ≤ 512). Same products,
// same order: the results do not change.
// @ts-ignore: decorator
@inline
function winogradPacked(C: i32, F: i32): bool {
  return C <= 256 && F <= 512;
}

/**
 * The 16 matrices U_ξ [cin × cout] at u (winogradFilterTransform's output) packed as gemmPackedB
 * reads them, at `packed` (16 · cin · ⌈cout/8⌉·8 floats): slivers of 8 columns, each cin × 8,
 * zero-padded. The caller packs where winogradPacked(cin, cout), and points G_WT there.
 */
export function winogradFilterPack(u: usize, cin: i32, cout: i32, packed: usize): void {
  const cout8 = (cout + 7) & ~7;
  const row = <usize>cout << 2;
  for (let xi = 0; xi < 16; xi++) {
    const src = u + <usize>(xi * cin * cout) * 4;
    let dst = packed + <usize>(xi * cin * cout8) * 4;
    for (let j = 0; j < cout; j += 8) {
      const full = j + 8 <= cout;
      for (let p = 0; p < cin; p++) {
        const s = src + <usize>p * row + (<usize>j << 2);
        const d = dst + (<usize>p << 5);
        v128.store(d, v128.load(s));
        v128.store(d, full ? v128.load(s, 16) : f32x4.splat(0), 16);
      }
      dst += <usize>(cin * 8) * 4;
    }
  }
}

/**
 * Output tiles [t0, t1) (tile = (n, ty, tx), ty < ⌈OH/2⌉, tx < ⌈OW/2⌉) of the convolution whose
 * geometry is at g, with the transformed filter U (16 × C × F) at G_WT, in blocks of `tb` tiles.
 * Every thread of one convolution gets the same range and takes the next block from the counter
 * at G_NEXT (set to 0 before the jobs start) until none is left, as convForwardWinograd4 does. Each
 * tile's result is the same whichever thread and block compute it.
 */
export function convForwardWinograd(g: usize, t0: i32, t1: i32, work: usize, tb: i32): void {
  forwardTiles(g, t0, t1, work, tb, 0, 0);
}

/**
 * convForwardWinograd followed by a 2×2 max pool at stride 2 ('valid'), whose windows are the
 * output tiles themselves: each tile inside the pooled output [batch, ⌊OH/2⌋, ⌊OW/2⌋, F] at
 * `pooled` gets its four outputs' maximum (the rule of asm maxPool: a greater value, or a NaN over
 * a number, wins, in the window's row-major order) and, when `argmax` is not 0, the winner's flat
 * index in the convolution output there (as maxPool's); the convolution output is never written.
 */
export function convForwardWinogradPool(g: usize, t0: i32, t1: i32, work: usize, tb: i32, pooled: usize, argmax: usize): void {
  forwardTiles(g, t0, t1, work, tb, pooled, argmax);
}

// convForwardWinograd (pooled 0) or convForwardWinogradPool.
function forwardTiles(g: usize, t0: i32, t1: i32, work: usize, tb: i32, pooled: usize, argmax: usize): void {
  const C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const u = <usize>gi(g, G_WT), y = <usize>gi(g, G_OUT);
  const bias = <usize>gi(g, G_BIAS);
  const relu = gi(g, G_RELU) != 0;
  const TY = (OH + 1) >> 1, TX = (OW + 1) >> 1, perImage = TY * TX;
  const POH = OH >> 1, POW = OW >> 1;
  const lanes = i32x4(0, 1, 2, 3);
  const vBase = work + gemmWork();
  // One cache line more than the matrix, so that the 16 matrices do not all fall into the same
  // L1 sets (strides of multiples of 4 KiB did: 1.5× slower).
  const vStride = (<usize>(tb * C) << 2) + 64;
  const mBase = vBase + 16 * vStride;
  const mStride = (<usize>(tb * F) << 2) + 64;
  const zero = f32x4.splat(0);
  const packed = winogradPacked(C, F);
  const uStride = <usize>(C * (packed ? (F + 7) & ~7 : F)) << 2;
  const next = g + (<usize>G_NEXT << 2);
  for (let b0 = t0 + atomic.add<i32>(next, tb); b0 < t1; b0 = t0 + atomic.add<i32>(next, tb)) {
    const nt = min(tb, t1 - b0);
    winogradInput(g, b0, nt, vBase, vStride, <usize>C << 2, 16);
    // M_ξ = V_ξ · U_ξ.
    for (let xi = 0; xi < 16; xi++) {
      const v = vBase + <usize>xi * vStride, m = mBase + <usize>xi * mStride;
      const uw = u + <usize>xi * uStride;
      if (!packed) {
        gemm(nt, F, C, v, C, false, uw, F, false, m, F, false, work);
        continue;
      }
      // Whole groups of four rows: rows past nt (within the block's tb) hold stale values, and
      // their products land in rows of M nobody reads.
      for (let j = 0; j < F; j += 8) {
        const bs = uw + <usize>(j * C) * 4;
        const full = j + 8 <= F;
        for (let t = 0; t < nt; t += 4) {
          const a = v + (<usize>(t * C) << 2), c = m + (<usize>(t * F + j) << 2);
          if (full) rows4x8(C, a, <usize>C << 2, bs, c, F);
          else rows4x4(C, a, <usize>C << 2, bs, c, F);
        }
      }
    }
    // y = Aᵀ M A (+ bias, relu) for the block's tiles, the parts inside the output.
    for (let t = 0; t < nt; t++) {
      const tile = b0 + t;
      const n = tile / perImage;
      const rem = tile - n * perImage;
      const ty = rem / TX;
      const tx = rem - ty * TX;
      // A tile past the pooled output's last row or column (odd OH or OW) is dropped.
      if (pooled != 0 && (ty >= POH || tx >= POW)) continue;
      const oy = 2 * ty, ox = 2 * tx;
      const twoRows = oy + 1 < OH, twoCols = ox + 1 < OW;
      const yt = y + (<usize>(((n * OH + oy) * OW + ox) * F) << 2);
      const pt4 = pooled + (<usize>(((n * POH + ty) * POW + tx) * F) << 2);
      const rowBytes = <usize>(OW * F) << 2;
      const mt = mBase + (<usize>(t * F) << 2);
      for (let f = 0; f < F; f += 4) {
        const o = mt + (<usize>f << 2);
        // s_j = column j of Aᵀ M: s0_j = m0j + m1j + m2j, s1_j = m1j − m2j − m3j.
        let a0 = zero, a1 = zero, b0v = zero, b1v = zero;
        for (let j = 0; j < 4; j++) {
          const m0 = v128.load(o + <usize>(0 * 4 + j) * mStride);
          const m1 = v128.load(o + <usize>(1 * 4 + j) * mStride);
          const m2 = v128.load(o + <usize>(2 * 4 + j) * mStride);
          const m3 = v128.load(o + <usize>(3 * 4 + j) * mStride);
          const s0 = f32x4.add(f32x4.add(m0, m1), m2);
          const s1 = f32x4.sub(f32x4.sub(m1, m2), m3);
          // (Aᵀ M) A: out[., 0] = s0 + s1 + s2 (columns 0..2), out[., 1] = s1 − s2 − s3.
          if (j == 0) {
            a0 = s0;
            b0v = s1;
          } else if (j == 1) {
            a1 = s0;
            b1v = s1;
            a0 = f32x4.add(a0, s0);
            b0v = f32x4.add(b0v, s1);
          } else if (j == 2) {
            a0 = f32x4.add(a0, s0);
            b0v = f32x4.add(b0v, s1);
            a1 = f32x4.sub(a1, s0);
            b1v = f32x4.sub(b1v, s1);
          } else {
            a1 = f32x4.sub(a1, s0);
            b1v = f32x4.sub(b1v, s1);
          }
        }
        // a0 = y(0,0), a1 = y(0,1), b0v = y(1,0), b1v = y(1,1).
        if (bias != 0) {
          const bv = v128.load(bias + (<usize>f << 2));
          a0 = f32x4.add(a0, bv);
          a1 = f32x4.add(a1, bv);
          b0v = f32x4.add(b0v, bv);
          b1v = f32x4.add(b1v, bv);
        }
        if (relu) {
          a0 = v128.and(a0, f32x4.gt(a0, zero));
          a1 = v128.and(a1, f32x4.gt(a1, zero));
          b0v = v128.and(b0v, f32x4.gt(b0v, zero));
          b1v = v128.and(b1v, f32x4.gt(b1v, zero));
        }
        if (pooled != 0 && argmax == 0) {
          v128.store(pt4 + (<usize>f << 2), poolMax(poolMax(poolMax(a0, a1), b0v), b1v));
          continue;
        }
        if (pooled != 0) {
          const i00 = i32x4.add(i32x4.splat(((n * OH + oy) * OW + ox) * F + f), lanes);
          const at = pt4 + (<usize>f << 2);
          poolWindow(at, argmax + (at - pooled), a0, a1, b0v, b1v, i00, i32x4.splat(F), i32x4.splat(OW * F));
          continue;
        }
        const p = yt + (<usize>f << 2);
        v128.store(p, a0);
        if (twoCols) v128.store(p + (<usize>F << 2), a1);
        if (twoRows) {
          v128.store(p + rowBytes, b0v);
          if (twoCols) v128.store(p + rowBytes + (<usize>F << 2), b1v);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
