// The GEMM micro-kernel and its multiply-add, shared by gemm (asm/gemm.ts) and the Winograd
// kernels that run their GEMMs on the transforms' own layouts (asm/winograd2-grad.ts,
// asm/winograd4-grad.ts), so that both compute the same products in the same order. Not an entry
// file: its functions are inlined where they are called, not wasm exports.

/**
 * a·b + c: one fused multiply-add (f32x4.relaxed_madd → vfmadd on x64 with FMA3) in the build
 * with relaxed SIMD enabled, else a multiply and an add. asm/build.mjs compiles both builds.
 */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * A 4×8 tile of C (row i at c + 4·i·ldc) (+)= Σ_{p<k} A[i, p]·B[p, j] with A in gemm's packed
 * layout (step p: the four rows' values at a + 16p) and B's eight columns at b + 32p; `accumulate`
 * adds the tile to C, else overwrites it. Kept un-unrolled: unrolling measured slower under V8
 * (register pressure).
 */
// @ts-ignore: decorator
@inline
export function tile4x8(k: i32, a: usize, b: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    a += 16;
    b += 32;
  }
  const r1 = c + (<usize>ldc << 2), r2 = r1 + (<usize>ldc << 2), r3 = r2 + (<usize>ldc << 2);
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(r1));
    c11 = f32x4.add(c11, v128.load(r1, 16));
    c20 = f32x4.add(c20, v128.load(r2));
    c21 = f32x4.add(c21, v128.load(r2, 16));
    c30 = f32x4.add(c30, v128.load(r3));
    c31 = f32x4.add(c31, v128.load(r3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

/**
 * tile4x8 with A in rows: row i's values at a + i·ts + 4p (the Winograd F(4×4) transforms write
 * each tile's channels contiguous, so the GEMM reads them without a packing or transposing pass).
 * The same products in the same order as tile4x8, so the same bits.
 */
// @ts-ignore: decorator
@inline
export function tile4x8Rows(k: i32, a: usize, ts: usize, b: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const t2 = ts + ts, t3 = t2 + ts;
  const end = a + (<usize>k << 2);
  for (; a < end; a += 4) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a + ts);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a + t2);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a + t3);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    b += 32;
  }
  const r1 = c + (<usize>ldc << 2), r2 = r1 + (<usize>ldc << 2), r3 = r2 + (<usize>ldc << 2);
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(r1));
    c11 = f32x4.add(c11, v128.load(r1, 16));
    c20 = f32x4.add(c20, v128.load(r2));
    c21 = f32x4.add(c21, v128.load(r2, 16));
    c30 = f32x4.add(c30, v128.load(r3));
    c31 = f32x4.add(c31, v128.load(r3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}
