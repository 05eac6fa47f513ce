// C[m×n] (+)= op(A)[m×k] · op(B)[k×n], f32, WebAssembly SIMD (f32x4).
//
// GotoBLAS loop nest: B is packed in KC×NC panels of NR-wide column slivers, A in MC×KC blocks of
// MR-tall row slivers, and a 4×8 register tile (8 f32x4 accumulators) walks the packed panels.
// 4×8 measured fastest under V8 on x64 (16 xmm registers; 6×8 and 8×8 spill, 4×12 pads n=16/32/64).
// All pointers are byte offsets into the (imported, shared) linear memory; the JS side lays out
// the operands and one packing workspace per thread. No allocation, no globals: every thread runs
// its own instance over the same memory. The 4×8 micro-kernel is tile4x8 (asm/microkernel.ts).

import { tile4x8, tile4x8Rows } from './microkernel';

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 512;

/** Bytes of packing workspace one thread needs: packed A block, packed B panel, one edge tile. */
export function workspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** First byte the JS side may use. */
export function heapBase(): i32 {
  return <i32>((__heap_base + 63) & ~63);
}

/**
 * C[i, j] (+)= Σ_p op(A)[i, p] · op(B)[p, j] for i < m, j < n, p < k.
 * op(A)[i, p] is at a + 4·(i·lda + p), or a + 4·(p·lda + i) when transA; likewise op(B)[p, j]
 * is at b + 4·(p·ldb + j), or b + 4·(j·ldb + p) when transB. C[i, j] is at c + 4·(i·ldc + j).
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32, accumulate: bool,
  work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (let i = 0; i < m; i++) memory.fill(c + <usize>(i * ldc) * 4, 0, <usize>n * 4);
    }
    return;
  }
  const ap = work;
  const bp = ap + <usize>(MC * KC) * 4;
  const tmp = bp + <usize>(KC * NC) * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const overwrite = pc == 0 && !accumulate;
      if (transB) packBT(b + <usize>(jc * ldb + pc) * 4, ldb, kc, nc, bp);
      else packBN(b + <usize>(pc * ldb + jc) * 4, ldb, kc, nc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        if (transA) packAT(a + <usize>(pc * lda + ic) * 4, lda, mc, kc, ap);
        else packAN(a + <usize>(ic * lda + pc) * 4, lda, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bs = bp + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const as = ap + <usize>(ir * kc) * 4;
            const ct = c + <usize>((ic + ir) * ldc + jc + jr) * 4;
            if (mr == MR && nr == NR) {
              tile4x8(kc, as, bs, ct, ldc, !overwrite);
            } else {
              tile4x8(kc, as, bs, tmp, NR, false);
              edge(tmp, ct, ldc, mr, nr, overwrite);
            }
          }
        }
      }
    }
  }
}

/**
 * C[m×n] = A[m×k] · B with B already packed as gemm packs it (slivers of NR = 8 columns, each
 * k × 8 floats, p-major, the last zero-padded): for a B used by many products (a Winograd
 * filter). k ≤ 256 and n ≤ 512 (one panel); A row i at a + 4·i·lda; C overwritten.
 */
export function gemmPackedB(m: i32, n: i32, k: i32, a: usize, lda: i32, bp: usize, c: usize, ldc: i32, work: usize): void {
  if (m <= 0 || n <= 0) return;
  const ap = work;
  const tmp = ap + <usize>(MC * KC) * 4 + <usize>(KC * NC) * 4;
  for (let ic = 0; ic < m; ic += MC) {
    const mc = min(MC, m - ic);
    packAN(a + <usize>(ic * lda) * 4, lda, mc, k, ap);
    for (let jr = 0; jr < n; jr += NR) {
      const nr = min(NR, n - jr);
      const bs = bp + <usize>(jr * k) * 4;
      for (let ir = 0; ir < mc; ir += MR) {
        const mr = min(MR, mc - ir);
        const as = ap + <usize>(ir * k) * 4;
        const ct = c + <usize>((ic + ir) * ldc + jr) * 4;
        if (mr == MR && nr == NR) {
          tile4x8(k, as, bs, ct, ldc, false);
        } else {
          tile4x8(k, as, bs, tmp, NR, false);
          edge(tmp, ct, ldc, mr, nr, true);
        }
      }
    }
  }
}

/**
 * C[m×n] = A₀·B₀ + A₁·B₁, the two products summed apart and then added (Winograd F(4×4)'s split
 * channel sums, asm/winograd4.ts): A in rows (row i's k0 + k1 values at a + 4·i·(k0 + k1), A₀ its
 * first k0 columns; m a multiple of MR), B₀ and B₁ packed as gemm packs B (at bp0, bp1).
 */
export function gemmRowsSplit(m: i32, n: i32, k0: i32, k1: i32, a: usize, bp0: usize, bp1: usize, c: usize, ldc: i32, tmp: usize): void {
  const ts = <usize>(k0 + k1) << 2;
  const a1 = <usize>k0 << 2;
  for (let jr = 0; jr < n; jr += NR) {
    const nr = min(NR, n - jr);
    const b0 = bp0 + (<usize>(jr * k0) << 2), b1 = bp1 + (<usize>(jr * k1) << 2);
    let as = a;
    for (let i = 0; i < m; i += MR) {
      const ct = c + (<usize>(i * ldc + jr) << 2);
      if (nr == NR) {
        tile4x8Rows(k0, as, ts, b0, ct, ldc, false);
        tile4x8Rows(k1, as + a1, ts, b1, ct, ldc, true);
      } else {
        tile4x8Rows(k0, as, ts, b0, tmp, NR, false);
        tile4x8Rows(k1, as + a1, ts, b1, tmp, NR, true);
        edge(tmp, ct, ldc, MR, nr, true);
      }
      as += ts * MR;
    }
  }
}

/** Floats packB writes for B [k×n]: k rows of n rounded up to a whole sliver of NR columns. */
export function packedBFloats(k: i32, n: i32): i32 {
  return k * ((n + NR - 1) / NR) * NR;
}

/**
 * Packs all of B [k×n] (row p at b + 4·p·ldb) once, for gemmPrepacked: KC-row blocks, block
 * pc at bp + 4·pc·nPad (nPad = n rounded up to NR), each laid out as gemm packs a panel
 * (slivers of NR columns, kc × NR floats each, the last zero-padded). For a B that many
 * products share unchanged (a Dense kernel at inference).
 */
export function packB(b: usize, ldb: i32, k: i32, n: i32, bp: usize): void {
  const nPad = ((n + NR - 1) / NR) * NR;
  for (let pc = 0; pc < k; pc += KC) {
    packBN(b + <usize>(pc * ldb) * 4, ldb, min(KC, k - pc), n, bp + <usize>(pc * nPad) * 4);
  }
}

/**
 * C[m×n] (+)= A[m×k] · B[:, j0 .. j0+n) with all of B packed by packB (nPad its padded width;
 * j0 a multiple of NR): the gemm loop nest without packing B. A row i at a + 4·i·lda; C[i, j]
 * (j counted from j0) at c + 4·(i·ldc + j).
 */
export function gemmPrepacked(m: i32, n: i32, k: i32, a: usize, lda: i32, bp: usize, nPad: i32, j0: i32, c: usize, ldc: i32, accumulate: bool, work: usize): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const ap = work;
  const tmp = ap + <usize>(MC * KC) * 4 + <usize>(KC * NC) * 4;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const overwrite = pc == 0 && !accumulate;
    const block = bp + <usize>(pc * nPad + j0 * kc) * 4;
    for (let ic = 0; ic < m; ic += MC) {
      const mc = min(MC, m - ic);
      packAN(a + <usize>(ic * lda + pc) * 4, lda, mc, kc, ap);
      for (let jr = 0; jr < n; jr += NR) {
        const nr = min(NR, n - jr);
        const bs = block + <usize>(jr * kc) * 4;
        for (let ir = 0; ir < mc; ir += MR) {
          const mr = min(MR, mc - ir);
          const as = ap + <usize>(ir * kc) * 4;
          const ct = c + <usize>((ic + ir) * ldc + jr) * 4;
          if (mr == MR && nr == NR) {
            tile4x8(kc, as, bs, ct, ldc, !overwrite);
          } else {
            tile4x8(kc, as, bs, tmp, NR, false);
            edge(tmp, ct, ldc, mr, nr, overwrite);
          }
        }
      }
    }
  }
}

/**
 * gemmPrepacked (overwriting C, j0 0) for every thread of one product, with A read in rows where it
 * is (row i at a + 4·i·lda; m a multiple of MR): each thread gets the same arguments and takes the
 * next sliver of NR columns from the i32 counter at `next` (0 before the job) until none is left,
 * and runs all of k for it, KC rows of B at a time in order. A thread that comes late leaves its
 * share to the others; C's values are gemmPrepacked's, bit for bit, whichever thread computes a
 * sliver. `tmp`: room for one 4×8 tile, per thread.
 */
export function gemmPrepackedSlivers(m: i32, n: i32, k: i32, a: usize, lda: i32, bp: usize, nPad: i32, c: usize, ldc: i32, next: usize, tmp: usize): void {
  const ts = <usize>lda << 2;
  const slivers = (n + NR - 1) / NR;
  for (let s = atomic.add<i32>(next, 1); s < slivers; s = atomic.add<i32>(next, 1)) {
    const jr = s * NR;
    const nr = min(NR, n - jr);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const bs = bp + <usize>(pc * nPad + jr * kc) * 4;
      for (let i = 0; i < m; i += MR) {
        const as = a + <usize>(i * lda + pc) * 4;
        const ct = c + <usize>(i * ldc + jr) * 4;
        if (nr == NR) {
          tile4x8Rows(kc, as, ts, bs, ct, ldc, pc > 0);
        } else {
          tile4x8Rows(kc, as, ts, bs, tmp, NR, false);
          edge(tmp, ct, ldc, MR, nr, pc == 0);
        }
      }
    }
  }
}

/** dst[i] += src[i] for i < count (reduction of per-thread partial sums). */
export function addInto(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i * 4;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < count; i++) {
    const o = <usize>i * 4;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

// Writes the valid mr×nr corner of a full 4×8 tile computed into tmp.
function edge(tmp: usize, c: usize, ldc: i32, mr: i32, nr: i32, overwrite: bool): void {
  for (let i = 0; i < mr; i++) {
    const src = tmp + <usize>(i * NR) * 4;
    const dst = c + <usize>(i * ldc) * 4;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j * 4;
      const v = load<f32>(src + o);
      store<f32>(dst + o, overwrite ? v : load<f32>(dst + o) + v);
    }
  }
}

// 4×4 transpose: rows r0..r3 of 4 floats become columns, stored at dst, dst+s, dst+2s, dst+3s.
// @ts-ignore: decorator
@inline
export function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, s: usize): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i64>(t0, t1, 0, 2));
  v128.store(dst + s, v128.shuffle<i64>(t0, t1, 1, 3));
  v128.store(dst + 2 * s, v128.shuffle<i64>(t2, t3, 0, 2));
  v128.store(dst + 3 * s, v128.shuffle<i64>(t2, t3, 1, 3));
}

// A [mc×kc] at a (row i at a + 4·i·lda) → slivers of MR rows: dst[s][p][r] = A[s·MR + r, p].
function packAN(a: usize, lda: i32, mc: i32, kc: i32, dst: usize): void {
  const rs = <usize>lda * 4;
  for (let i = 0; i < mc; i += MR) {
    const mr = min(MR, mc - i);
    const row = a + <usize>i * rs;
    let p = 0;
    if (mr == MR) {
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p * 4;
        transpose4(
          v128.load(row + o), v128.load(row + rs + o), v128.load(row + 2 * rs + o), v128.load(row + 3 * rs + o),
          dst + <usize>p * 16, 16,
        );
      }
    }
    for (; p < kc; p++) {
      const d = dst + <usize>p * 16;
      for (let r = 0; r < MR; r++) {
        store<f32>(d + <usize>r * 4, r < mr ? load<f32>(row + <usize>r * rs + <usize>p * 4) : 0);
      }
    }
    dst += <usize>(kc * MR) * 4;
  }
}

// op(A) = Aᵀ: element (i, p) at a + 4·(p·lda + i), so MR consecutive i are contiguous.
function packAT(a: usize, lda: i32, mc: i32, kc: i32, dst: usize): void {
  const rs = <usize>lda * 4;
  for (let i = 0; i < mc; i += MR) {
    const mr = min(MR, mc - i);
    const col = a + <usize>i * 4;
    if (mr == MR) {
      for (let p = 0; p < kc; p++) v128.store(dst + <usize>p * 16, v128.load(col + <usize>p * rs));
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + <usize>p * 16;
        const s = col + <usize>p * rs;
        for (let r = 0; r < MR; r++) store<f32>(d + <usize>r * 4, r < mr ? load<f32>(s + <usize>r * 4) : 0);
      }
    }
    dst += <usize>(kc * MR) * 4;
  }
}

// B [kc×nc] at b (row p at b + 4·p·ldb) → slivers of NR columns: dst[s][p][j] = B[p, s·NR + j].
function packBN(b: usize, ldb: i32, kc: i32, nc: i32, dst: usize): void {
  const rs = <usize>ldb * 4;
  for (let j = 0; j < nc; j += NR) {
    const nr = min(NR, nc - j);
    const col = b + <usize>j * 4;
    if (nr == NR) {
      for (let p = 0; p < kc; p++) {
        const s = col + <usize>p * rs;
        const d = dst + <usize>p * 32;
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = col + <usize>p * rs;
        const d = dst + <usize>p * 32;
        for (let q = 0; q < NR; q++) store<f32>(d + <usize>q * 4, q < nr ? load<f32>(s + <usize>q * 4) : 0);
      }
    }
    dst += <usize>(kc * NR) * 4;
  }
}

// op(B) = Bᵀ: element (p, j) at b + 4·(j·ldb + p), so each output column j is a contiguous row.
function packBT(b: usize, ldb: i32, kc: i32, nc: i32, dst: usize): void {
  const rs = <usize>ldb * 4;
  for (let j = 0; j < nc; j += NR) {
    const nr = min(NR, nc - j);
    const row = b + <usize>j * rs;
    let p = 0;
    if (nr == NR) {
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p * 4;
        const d = dst + <usize>p * 32;
        transpose4(
          v128.load(row + o), v128.load(row + rs + o), v128.load(row + 2 * rs + o), v128.load(row + 3 * rs + o),
          d, 32,
        );
        const h = row + 4 * rs;
        transpose4(
          v128.load(h + o), v128.load(h + rs + o), v128.load(h + 2 * rs + o), v128.load(h + 3 * rs + o),
          d + 16, 32,
        );
      }
    }
    for (; p < kc; p++) {
      const d = dst + <usize>p * 32;
      for (let q = 0; q < NR; q++) {
        store<f32>(d + <usize>q * 4, q < nr ? load<f32>(row + <usize>q * rs + <usize>p * 4) : 0);
      }
    }
    dst += <usize>(kc * NR) * 4;
  }
}
