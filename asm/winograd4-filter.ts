// The F(4×4, 3×3) filter transform in WebAssembly, for filters that change every call (training):
// the same values, bit for bit, as winograd4Filter in src/backend/wasm/conv-winograd.ts (same f64
// operations in the same order, one rounding to f32), written in its packed layout.

// G of F(4×4, 3×3) (points 0, 1, −1, ½, −2, ∞), as conv-winograd.ts's G4, entry by entry in f64.
// @ts-ignore: decorator
@inline
function g4(i: i32, j: i32): f64 {
  if (i == 0) return j == 0 ? 1.0 : 0.0;
  if (i == 1) return 1.0 / 3;
  if (i == 2) return j == 1 ? 1.0 / 3 : -1.0 / 3;
  if (i == 3) return j == 0 ? -16.0 / 15 : j == 1 ? -8.0 / 15 : -4.0 / 15;
  if (i == 4) return j == 0 ? 1.0 / 15 : j == 1 ? -2.0 / 15 : 4.0 / 15;
  return j == 2 ? 1.0 : 0.0;
}

// r[0]·a + r[1]·b + r[2]·d for the row r = G4[i], two slices at once.
// @ts-ignore: decorator
@inline
function row3(i: i32, a: v128, b: v128, d: v128): v128 {
  return f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(g4(i, 0)), a), f64x2.mul(f64x2.splat(g4(i, 1)), b)), f64x2.mul(f64x2.splat(g4(i, 2)), d));
}

// Row i of U = t Gᵀ, t's row i = (a, b, d) = G4[i] · the columns of g: six matrices from dst.
// @ts-ignore: decorator
@inline
function rowOut(i: i32, dst: usize, per: usize, g0: v128, g1: v128, g2: v128, g3: v128, g4v: v128, g5: v128, g6: v128, g7: v128, g8: v128): void {
  const a = row3(i, g0, g3, g6), b = row3(i, g1, g4v, g7), d = row3(i, g2, g5, g8);
  const o = dst + <usize>(6 * i) * per;
  v128.store64_lane(o, f32x4.demote_f64x2_zero(row3(0, a, b, d)), 0);
  v128.store64_lane(o + per, f32x4.demote_f64x2_zero(row3(1, a, b, d)), 0);
  v128.store64_lane(o + 2 * per, f32x4.demote_f64x2_zero(row3(2, a, b, d)), 0);
  v128.store64_lane(o + 3 * per, f32x4.demote_f64x2_zero(row3(3, a, b, d)), 0);
  v128.store64_lane(o + 4 * per, f32x4.demote_f64x2_zero(row3(4, a, b, d)), 0);
  v128.store64_lane(o + 5 * per, f32x4.demote_f64x2_zero(row3(5, a, b, d)), 0);
}

// The f32 at p and at p + lane as f64x2.
// @ts-ignore: decorator
@inline
function load2(p: usize, lane: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(<f64>load<f32>(p)), 1, <f64>load<f32>(p + lane));
}

/**
 * U = G g Gᵀ (6 × 6) of every 3×3 slice g of w [3, 3, C, F] (tap k of slice (c, f) at
 * w[(k·C + c)·F + f]; with `transpose`, the filter rotated by 180° and in and out swapped, for the
 * input gradient) into `u`: 36 matrices [cin × cout] (cin, cout = C, F, or F, C with `transpose`),
 * each cin·⌈cout/8⌉·8 floats, rows [0, ⌊cin/2⌋) and the rest packed apart for gemmPackedB
 * (slivers of 8 output channels, each rows × 8, zero-padded) — the layout of conv-winograd.ts's
 * winograd4Filter. C and F even (Winograd layers have channels in fours).
 */
export function winograd4FilterTransform(w: usize, C: i32, F: i32, transpose: bool, u: usize): void {
  const cin = transpose ? F : C;
  const cout = transpose ? C : F;
  const cout8 = (cout + 7) & ~7;
  const per = <usize>(cin * cout8) << 2;
  const half = cin >> 1;
  // Only the padding of a last sliver narrower than 8 is never written below.
  if (cout & 7) memory.fill(u, 0, 36 * per);
  const tap = <usize>(C * F) << 2;
  // The two lanes are slices whose results sit side by side (output channels p and p + 1 of the
  // same row q): with `transpose`, input channels c and c + 1 (F floats apart in w), else filters
  // f and f + 1. q runs outside, p inside, so that the stores fill each sliver row in turn.
  const lane = <usize>(transpose ? F : 1) << 2;
  for (let q = 0; q < cin; q++) {
    const low = q < half;
    const rows = low ? half : cin - half;
    const rowAt = (low ? 0 : half * cout8) + (low ? q : q - half) * 8;
    for (let pc = 0; pc < cout; pc += 2) {
      const c = transpose ? pc : q, f = transpose ? q : pc;
      const p = w + (<usize>(c * F + f) << 2);
      // Tap k (of the rotated filter with `transpose`: 8 − k) of both slices.
      const g0 = load2(p + <usize>(transpose ? 8 : 0) * tap, lane), g1 = load2(p + <usize>(transpose ? 7 : 1) * tap, lane);
      const g2 = load2(p + <usize>(transpose ? 6 : 2) * tap, lane), g3 = load2(p + <usize>(transpose ? 5 : 3) * tap, lane);
      const g4v = load2(p + 4 * tap, lane), g5 = load2(p + <usize>(transpose ? 3 : 5) * tap, lane);
      const g6 = load2(p + <usize>(transpose ? 2 : 6) * tap, lane), g7 = load2(p + <usize>(transpose ? 1 : 7) * tap, lane);
      const g8 = load2(p + <usize>(transpose ? 0 : 8) * tap, lane);
      const dst = u + (<usize>(rowAt + (pc >> 3) * rows * 8 + (pc & 7)) << 2);
      // Written out row by row so that every G4 entry is a constant (the loops kept g4's branches).
      rowOut(0, dst, per, g0, g1, g2, g3, g4v, g5, g6, g7, g8);
      rowOut(1, dst, per, g0, g1, g2, g3, g4v, g5, g6, g7, g8);
      rowOut(2, dst, per, g0, g1, g2, g3, g4v, g5, g6, g7, g8);
      rowOut(3, dst, per, g0, g1, g2, g3, g4v, g5, g6, g7, g8);
      rowOut(4, dst, per, g0, g1, g2, g3, g4v, g5, g6, g7, g8);
      rowOut(5, dst, per, g0, g1, g2, g3, g4v, g5, g6, g7, g8);
    }
  }
}
