// y[t] = x[t]·h[4] where bits(t) ≥ h[3], else 0: inverted dropout with a counter-based mask, h =
// [k0, k1, k2, threshold, scale] (src/backend/reference/dropout.ts, the specification, makes them).
// bits(t): a keyed Feistel permutation of t mod 2²⁴ over two 12-bit halves (L, R), 8 rounds of
// k = (k0·(2r+1) + k1·(2r+7) + (k2 + ⌊t/2²⁴⌋)·(r+11) + 2731·r) mod 2¹²,  x = (R + k) mod 2¹²,
// (L, R) ← (R, (L + ⌊x²/64⌋ + x) mod 2¹²);  bits = L·2¹² + R.
// Every intermediate is an integer below 2²⁴ and every division is by a power of two, so float32
// draws the same bits as the reference's loop.

/** No geometry: the output size is the array's length. */
export interface DropoutConstants {
  n: number;
}

export function dropout(this: GpuKernelThis<DropoutConstants>, x: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  const block = Math.floor(t / 16777216);
  const c = t - block * 16777216;
  let L = Math.floor(c / 4096);
  let R = c - L * 4096;
  for (let r = 0; r < 8; r++) {
    let k = h[0] * (2 * r + 1) + h[1] * (2 * r + 7) + (h[2] + block) * (r + 11) + 2731 * r;
    k = k - Math.floor(k / 4096) * 4096;
    let s = R + k;
    s = s - Math.floor(s / 4096) * 4096;
    let f = Math.floor((s * s) / 64) + s + L;
    f = f - Math.floor(f / 4096) * 4096;
    L = R;
    R = f;
  }
  if (L * 4096 + R >= h[3]) return x[t] * h[4];
  return 0;
}
