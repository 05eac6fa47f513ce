/**
 * General matrix multiply, the one place all dense arithmetic of the CPU backends goes through
 * (Dense, and Conv2D with its two gradients after im2col lowering).
 *
 * C[m×n] = op(A) · op(B)          (accumulate false)
 * C[m×n] += op(A) · op(B)         (accumulate true)
 *
 * All matrices are contiguous row-major. op(A) is A [m×k], or Aᵀ when transA (A stored [k×m]);
 * op(B) is B [k×n], or Bᵀ when transB (B stored [n×k]).
 */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  accumulate: boolean,
) => void;

const BLOCK_K = 256;
const BLOCK_N = 512;

/**
 * Plain TypeScript cache-blocked GEMM: the reference the fast paths are tested against.
 * The inner loop runs over contiguous rows of B and C (i-k-j order), blocked in k and n so
 * that a panel of B stays in cache; transposed operands are first copied to their plain form.
 */
export const gemmReference: Gemm = (transA, transB, m, n, k, a, b, c, accumulate) => {
  if (!accumulate) c.fill(0, 0, m * n);
  if (m === 0 || n === 0 || k === 0) return;
  const A = transA ? transpose(a, k, m) : a;
  const B = transB ? transpose(b, n, k) : b;
  for (let k0 = 0; k0 < k; k0 += BLOCK_K) {
    const k1 = Math.min(k, k0 + BLOCK_K);
    for (let j0 = 0; j0 < n; j0 += BLOCK_N) {
      const j1 = Math.min(n, j0 + BLOCK_N);
      for (let i = 0; i < m; i++) {
        const cRow = i * n;
        const aRow = i * k;
        let p = k0;
        // Four rows of B per pass: a quarter of the loads and stores of C.
        for (; p + 3 < k1; p += 4) {
          const a0 = A[aRow + p], a1 = A[aRow + p + 1], a2 = A[aRow + p + 2], a3 = A[aRow + p + 3];
          const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
          for (let j = j0; j < j1; j++) {
            c[cRow + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
          }
        }
        for (; p < k1; p++) {
          const av = A[aRow + p];
          if (av === 0) continue;
          const bRow = p * n;
          for (let j = j0; j < j1; j++) c[cRow + j] += av * B[bRow + j];
        }
      }
    }
  }
};

/** Transposes a rows×cols row-major matrix into a new cols×rows one. */
export function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        for (let cc = c0; cc < c1; cc++) out[cc * rows + r] = x[r * cols + cc];
      }
    }
  }
  return out;
}
