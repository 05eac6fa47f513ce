// Dropout's counter-based mask (src/backend/reference/dropout.ts is the specification) in i32x4
// lanes: the keyed Feistel permutation of the 24-bit counter, 8 rounds on two 12-bit halves, four
// counters at a time. Every intermediate is an integer below 2²⁴, so the lanes draw exactly the
// reference's bits.

// @ts-ignore: decorator
@inline
function round(l: v128, r: v128, k: v128, m: v128): v128 {
  const s = v128.and(i32x4.add(r, k), m);
  return v128.and(i32x4.add(i32x4.add(l, i32x4.shr_u(i32x4.mul(s, s), 6)), s), m);
}

// One counter's bits, for the tail.
// @ts-ignore: decorator
@inline
function bits(c: i32, keys: usize): i32 {
  let l = c >>> 12, r = c & 0xfff;
  for (let i = 0; i < 8; i++) {
    const s = (r + load<i32>(keys + (<usize>i << 2))) & 0xfff;
    const t = (l + ((s * s) >>> 6) + s) & 0xfff;
    l = r;
    r = t;
  }
  return (l << 12) | r;
}

/**
 * y[i] = x[i]·scale where the mask's bits for counter i − base are ≥ threshold, else 0, for i in
 * [i0, i1) (all within one block of 2²⁴ counters starting at base). At `params`: the block's 8
 * round keys (i32), then threshold (i32) and scale (f32).
 */
export function dropoutApply(x: usize, y: usize, i0: i32, i1: i32, base: i32, params: usize): void {
  const m = i32x4.splat(0xfff);
  const k0 = i32x4.splat(load<i32>(params)), k1 = i32x4.splat(load<i32>(params, 4));
  const k2 = i32x4.splat(load<i32>(params, 8)), k3 = i32x4.splat(load<i32>(params, 12));
  const k4 = i32x4.splat(load<i32>(params, 16)), k5 = i32x4.splat(load<i32>(params, 20));
  const k6 = i32x4.splat(load<i32>(params, 24)), k7 = i32x4.splat(load<i32>(params, 28));
  const threshold = load<i32>(params, 32);
  const scale = load<f32>(params, 36);
  const th = i32x4.splat(threshold), sc = f32x4.splat(scale);
  const lanes = i32x4(0, 1, 2, 3);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const c = i32x4.add(i32x4.splat(i - base), lanes);
    let l = i32x4.shr_u(c, 12), r = v128.and(c, m), t: v128;
    t = round(l, r, k0, m); l = r; r = t;
    t = round(l, r, k1, m); l = r; r = t;
    t = round(l, r, k2, m); l = r; r = t;
    t = round(l, r, k3, m); l = r; r = t;
    t = round(l, r, k4, m); l = r; r = t;
    t = round(l, r, k5, m); l = r; r = t;
    t = round(l, r, k6, m); l = r; r = t;
    t = round(l, r, k7, m); l = r; r = t;
    const keep = i32x4.ge_s(v128.or(i32x4.shl(l, 12), r), th);
    const o = <usize>i << 2;
    v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), sc), keep));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, bits(i - base, params) >= threshold ? load<f32>(x + o) * scale : 0);
  }
}
