// Dropout's mask, drawn from a counter-based generator: keep[i] depends only on (seed, i), so every
// backend computes the same mask, a device computes it where it applies it (it never crosses to the
// host), and backward recomputes it instead of saving it. The generator is a keyed Feistel
// permutation of the 24-bit counter i mod 2²⁴: two 12-bit halves, 8 rounds, round function the middle
// bits of a square. Every value it computes is an integer below 2²⁴, exact in float32, so gpu.js
// kernels (kernels/dropout.ts, whatever their float precision tricks) draw the same bits as this loop.
import { outputF32 } from '../arena.js';

/** The kernel's per-call parameters [k0, k1, k2, threshold, scale], all exact in float32. */
export type DropoutParams = [number, number, number, number, number];

/**
 * dropout's parameters for `rate` and a uint32 `seed`: the seed split into keys of 12, 12 and 8 bits,
 * the 24-bit threshold ⌈rate·2²⁴⌉ below which a value is dropped, and the kept values' scale
 * fround(1/(1 − rate)). Throws naming the op for a rate outside [0, 1) or a seed that is not a uint32.
 */
export function dropoutParams(rate: number, seed: number): DropoutParams {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`dropout: seed must be an integer in [0, 2³²), got ${seed}`);
  const k0 = seed % 4096;
  const k1 = Math.floor(seed / 4096) % 4096;
  const k2 = Math.floor(seed / 16777216);
  return [k0, k1, k2, Math.ceil(rate * 16777216), Math.fround(1 / (1 - rate))];
}

/** The generator's 24-bit output for counter i (kept where it is ≥ the threshold). */
export function dropoutBits(p: DropoutParams, i: number): number {
  const block = Math.floor(i / 16777216);
  const c = i - block * 16777216;
  let L = Math.floor(c / 4096);
  let R = c - L * 4096;
  for (let r = 0; r < 8; r++) {
    const k = (p[0] * (2 * r + 1) + p[1] * (2 * r + 7) + (p[2] + block) * (r + 11) + r * 2731) % 4096;
    const x = (R + k) % 4096;
    const f = (Math.floor((x * x) / 64) + x) % 4096;
    const next = (L + f) % 4096;
    L = R;
    R = next;
  }
  return L * 4096 + R;
}

/**
 * The op `dropout` (named apart from the kernel of the same name in the bundle, whose source text
 * gpu.js compiles): inverted dropout with the counter-based mask: y[i] = x[i]·scale where dropoutBits(seed, i) ≥
 * ⌈rate·2²⁴⌉, else 0. The same call on dy is its backward.
 */
export function referenceDropout(x: Float32Array, rate: number, seed: number): Float32Array {
  const p = dropoutParams(rate, seed);
  const y = outputF32(x.length);
  for (let i = 0; i < x.length; i++) y[i] = dropoutBits(p, i) >= p[3] ? x[i] * p[4] : 0;
  return y;
}
