// The cpu backend's dropout: the reference's counter-based mask (src/backend/reference/dropout.ts, the
// specification) in 32-bit integer operations, checked bit for bit against it by test/ops/dropout.test.ts.
import { outputF32 } from '../arena.js';
import { dropoutParams } from '../reference/dropout.js';

/**
 * The cpu backend's dropout: the same bits as the reference's `referenceDropout` in 32-bit integer operations
 * (masks and shifts for the mods and power-of-two divisions, the round keys computed once per 2²⁴
 * block instead of per element).
 */
export function dropoutFast(x: Float32Array, rate: number, seed: number): Float32Array {
  const p = dropoutParams(rate, seed);
  const [, , , threshold, scale] = p;
  const y = outputF32(x.length);
  const keys = new Int32Array(8);
  for (let start = 0; start < x.length; start += 16777216) {
    const block = start / 16777216;
    for (let r = 0; r < 8; r++) keys[r] = (p[0] * (2 * r + 1) + p[1] * (2 * r + 7) + (p[2] + block) * (r + 11) + r * 2731) % 4096;
    const [k0, k1, k2, k3, k4, k5, k6, k7] = keys;
    const end = Math.min(x.length, start + 16777216);
    for (let i = start; i < end; i++) {
      const c = i - start;
      let L = c >>> 12;
      let R = c & 0xfff;
      let s: number;
      let t: number;
      s = (R + k0) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k1) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k2) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k3) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k4) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k5) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k6) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k7) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      y[i] = ((L << 12) | R) >= threshold ? x[i] * scale : 0;
    }
  }
  return y;
}
