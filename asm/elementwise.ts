// Element-wise and per-channel ops over NHWC f32 tensors, WebAssembly SIMD (f32x4):
//   batch norm   mean[c] = Σ_r x[r, c] / R, var[c] = Σ_r (x[r, c] − mean[c])² / R  (f64 sums; one pass
//                of shifted sums, or two passes where a channel's first value is not finite)
//                xHat = (x − mean)·invStd, y = γ·xHat + β;  inference y = x·scale + shift
//   backward     dx = k·(dy − Σdy/R − xHat·Σ(dy·xHat)/R), k = γ·invStd  (f64 sums)
//   relu         y = x > 0 ? x : 0;  dx = x > 0 ? dy : 0  (NaN → 0, as the reference)
//   relu options y = x > t ? min(x, maxValue) : slope·(x − t)  (NaN stays NaN, as the reference)
//   add          y = a + b
//   sigmoid/tanh y and dx from y, with a SIMD exp (at the end of this file)
// where r runs over every row (pixel) of C channels. Row-wise entry points take rows [r0, r1), so
// threads can split the work by calling them with disjoint ranges; sums go to a per-call f64 array.
// Max-pool backprop (a scatter into a fresh zeroed dx) is not here: the reference JS loop measured
// faster than copying dy and argmax in, zeroing dx in wasm and copying it out.
// Pointers are byte offsets into the shared memory laid out by src/backend/wasm/elementwise-fast.ts.

import { ACT_SIGMOID } from './geometry';
import { madd } from './microkernel';

/** acc[c] += Σ_r x[r, c] (f64), rows [r0, r1) of C channels. */
export function channelSum(x: usize, C: i32, r0: i32, r1: i32, acc: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  let p = x + <usize>r0 * rowBytes;
  for (let r = r0; r < r1; r++, p += rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const v = v128.load(p + (<usize>c << 2));
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
    }
    for (; c < C; c++) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(p + (<usize>c << 2)));
    }
  }
}

/** acc[c] += Σ_r (x[r, c] − mean[c])² (difference in f32, square and sum in f64). */
export function channelSquaredDeviation(x: usize, mean: usize, C: i32, r0: i32, r1: i32, acc: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  let p = x + <usize>r0 * rowBytes;
  for (let r = r0; r < r1; r++, p += rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const d = f32x4.sub(v128.load(p + (<usize>c << 2)), v128.load(mean + (<usize>c << 2)));
      const lo = f64x2.promote_low_f32x4(d);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1));
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(lo, lo)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.mul(hi, hi)), 16);
    }
    for (; c < C; c++) {
      const d = <f64>(load<f32>(p + (<usize>c << 2)) - load<f32>(mean + (<usize>c << 2)));
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + d * d);
    }
  }
}

/**
 * acc[c] += Σ_r (x[r, c] − shift[c]) and acc[C + c] += Σ_r (x[r, c] − shift[c])² (difference,
 * square and sums in f64), rows [r0, r1): the batch statistics in one pass. With the shift a value
 * of the channel, mean = shift + S1/R and variance = S2/R − (S1/R)² lose nothing to cancellation
 * that matters. Two rows per step, so that each accumulator's add chain is half as long.
 */
export function channelShiftedSums(x: usize, shift: usize, C: i32, r0: i32, r1: i32, acc: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  const accSq = acc + (<usize>C << 3);
  let r = r0;
  let p = x + <usize>r0 * rowBytes;
  for (; r + 2 <= r1; r += 2, p += 2 * rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const k = <usize>c << 2;
      const v = v128.load(p + k);
      const u = v128.load(p + rowBytes + k);
      const sv = v128.load(shift + k);
      const s0 = f64x2.promote_low_f32x4(sv);
      const s1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(sv, sv, 2, 3, 0, 1));
      const v0 = f64x2.sub(f64x2.promote_low_f32x4(v), s0);
      const v1 = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), s1);
      const u0 = f64x2.sub(f64x2.promote_low_f32x4(u), s0);
      const u1 = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(u, u, 2, 3, 0, 1)), s1);
      const a = acc + (<usize>c << 3);
      const b = accSq + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.add(v0, u0)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.add(v1, u1)), 16);
      v128.store(b, f64x2.add(v128.load(b), f64x2.add(f64x2.mul(v0, v0), f64x2.mul(u0, u0))));
      v128.store(b, f64x2.add(v128.load(b, 16), f64x2.add(f64x2.mul(v1, v1), f64x2.mul(u1, u1))), 16);
    }
    for (; c < C; c++) {
      const k = <usize>c << 2;
      const sc = <f64>load<f32>(shift + k);
      const d = <f64>load<f32>(p + k) - sc;
      const e = <f64>load<f32>(p + rowBytes + k) - sc;
      const a = acc + (<usize>c << 3);
      const b = accSq + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + (d + e));
      store<f64>(b, load<f64>(b) + (d * d + e * e));
    }
  }
  if (r < r1) {
    for (let c = 0; c < C; c++) {
      const k = <usize>c << 2;
      const d = <f64>load<f32>(p + k) - <f64>load<f32>(shift + k);
      const a = acc + (<usize>c << 3);
      const b = accSq + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + d);
      store<f64>(b, load<f64>(b) + d * d);
    }
  }
}

/** xHat = (x − mean)·invStd and y = γ·xHat + β, rows [r0, r1); xHat may be 0 (not written). */
export function batchNormApply(x: usize, mean: usize, invStd: usize, gamma: usize, beta: usize, C: i32, r0: i32, r1: i32, xHat: usize, y: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  const start = <usize>r0 * rowBytes;
  const end = <usize>r1 * rowBytes;
  for (let o = start; o < end; o += rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const k = <usize>c << 2;
      const h = f32x4.mul(f32x4.sub(v128.load(x + o + k), v128.load(mean + k)), v128.load(invStd + k));
      if (xHat != 0) v128.store(xHat + o + k, h);
      v128.store(y + o + k, f32x4.add(f32x4.mul(v128.load(gamma + k), h), v128.load(beta + k)));
    }
    for (; c < C; c++) {
      const k = <usize>c << 2;
      const h = (load<f32>(x + o + k) - load<f32>(mean + k)) * load<f32>(invStd + k);
      if (xHat != 0) store<f32>(xHat + o + k, h);
      store<f32>(y + o + k, load<f32>(gamma + k) * h + load<f32>(beta + k));
    }
  }
}

/** y = x·scale + shift per channel, rows [r0, r1) (y may equal x). */
export function scaleShift(x: usize, scale: usize, shift: usize, C: i32, r0: i32, r1: i32, y: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  const start = <usize>r0 * rowBytes;
  const end = <usize>r1 * rowBytes;
  for (let o = start; o < end; o += rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const k = <usize>c << 2;
      v128.store(y + o + k, f32x4.add(f32x4.mul(v128.load(x + o + k), v128.load(scale + k)), v128.load(shift + k)));
    }
    for (; c < C; c++) {
      const k = <usize>c << 2;
      store<f32>(y + o + k, load<f32>(x + o + k) * load<f32>(scale + k) + load<f32>(shift + k));
    }
  }
}

/** acc[c] += Σ_r dy[r, c] and acc[C + c] += Σ_r dy[r, c]·xHat[r, c] (f64), rows [r0, r1). */
export function batchNormBackwardSums(dy: usize, xHat: usize, C: i32, r0: i32, r1: i32, acc: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  const accDx = acc + (<usize>C << 3);
  const start = <usize>r0 * rowBytes;
  const end = <usize>r1 * rowBytes;
  for (let o = start; o < end; o += rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const k = <usize>c << 2;
      const g = v128.load(dy + o + k);
      const h = v128.load(xHat + o + k);
      const g0 = f64x2.promote_low_f32x4(g);
      const g1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1));
      const h0 = f64x2.promote_low_f32x4(h);
      const h1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(h, h, 2, 3, 0, 1));
      const a = acc + (<usize>c << 3);
      const b = accDx + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), g0));
      v128.store(a, f64x2.add(v128.load(a, 16), g1), 16);
      v128.store(b, f64x2.add(v128.load(b), f64x2.mul(g0, h0)));
      v128.store(b, f64x2.add(v128.load(b, 16), f64x2.mul(g1, h1)), 16);
    }
    for (; c < C; c++) {
      const k = <usize>c << 2;
      const g = <f64>load<f32>(dy + o + k);
      const a = acc + (<usize>c << 3);
      const b = accDx + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + g);
      store<f64>(b, load<f64>(b) + g * <f64>load<f32>(xHat + o + k));
    }
  }
}

/** dx = k·(dy − meanDy − xHat·meanDyX) per channel, rows [r0, r1) (dx may equal dy). */
export function batchNormBackwardApply(dy: usize, xHat: usize, k: usize, meanDy: usize, meanDyX: usize, C: i32, r0: i32, r1: i32, dx: usize): void {
  const C4 = C & ~3;
  const rowBytes = <usize>C << 2;
  const start = <usize>r0 * rowBytes;
  const end = <usize>r1 * rowBytes;
  for (let o = start; o < end; o += rowBytes) {
    let c = 0;
    for (; c < C4; c += 4) {
      const q = <usize>c << 2;
      const t = f32x4.sub(f32x4.sub(v128.load(dy + o + q), v128.load(meanDy + q)), f32x4.mul(v128.load(xHat + o + q), v128.load(meanDyX + q)));
      v128.store(dx + o + q, f32x4.mul(v128.load(k + q), t));
    }
    for (; c < C; c++) {
      const q = <usize>c << 2;
      const t = load<f32>(dy + o + q) - load<f32>(meanDy + q) - load<f32>(xHat + o + q) * load<f32>(meanDyX + q);
      store<f32>(dx + o + q, load<f32>(k + q) * t);
    }
  }
}

/** y[i] = x[i] > 0 ? x[i] : 0 for i in [i0, i1) (y may equal x). */
export function reluForward(x: usize, i0: i32, i1: i32, y: usize): void {
  const zero = f32x4.splat(0);
  let i = i0;
  for (; i < i1 && (i & 3) != 0; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > 0 ? v : 0);
  }
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, v128.and(v, f32x4.gt(v, zero)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > 0 ? v : 0);
  }
}

/**
 * y[i] = x[i] > threshold ? min(x[i], maxValue) : slope·(x[i] − threshold) for i in [i0, i1), Keras'
 * relu(x, negative_slope, max_value, threshold) (y may equal x; maxValue may be +∞). The three
 * values come as their f32 bit patterns: worker threads receive job arguments as i32 words.
 */
export function reluOptionsForward(x: usize, i0: i32, i1: i32, y: usize, maxBits: i32, slopeBits: i32, thresholdBits: i32): void {
  const maxValue = reinterpret<f32>(maxBits);
  const slope = reinterpret<f32>(slopeBits);
  const threshold = reinterpret<f32>(thresholdBits);
  const t4 = f32x4.splat(threshold);
  const m4 = f32x4.splat(maxValue);
  const s4 = f32x4.splat(slope);
  let i = i0;
  for (; i < i1 && (i & 3) != 0; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > threshold ? min(v, maxValue) : slope * (v - threshold));
  }
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, v128.bitselect(f32x4.min(v, m4), f32x4.mul(s4, f32x4.sub(v, t4)), f32x4.gt(v, t4)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > threshold ? min(v, maxValue) : slope * (v - threshold));
  }
}

/** y[i] = a[i] + b[i] for i in [i0, i1) (y may equal a or b): the f32 sum, as the reference's. */
export function addForward(a: usize, b: usize, i0: i32, i1: i32, y: usize): void {
  let i = i0;
  for (; i < i1 && (i & 3) != 0; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** dx[i] = x[i] > 0 ? dy[i] : 0 for i in [i0, i1) (dx may equal dy). */
export function reluBackward(dy: usize, x: usize, i0: i32, i1: i32, dx: usize): void {
  const zero = f32x4.splat(0);
  let i = i0;
  for (; i < i1 && (i & 3) != 0; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// Word offsets of the max-pool geometry block (src/backend/wasm/elementwise-fast.ts writes it).

// Sigmoid and tanh, f32x4. exp is Cephes' expf: x = n·ln2 + r (|r| ≤ ½ln2, ln2 in two parts),
// e^r by a degree-7 polynomial (fused multiply-adds in the relaxed build), 2^n built in the
// exponent bits; x clamped to [−87.3, 88.7] so 2^n stays normal. Max error ~2 ulp. The clamp uses
// pmin/pmax (one instruction each; they drop NaN), so callers put NaN back from x at the end.
//   sigmoid  y = 1 / (1 + e^−x);  dx = dy·y·(1 − y)
//   tanh     |x| < 0.625: x + x³·P(x²) (Cephes tanhf), else sign(x)·(1 − 2/(e^{2|x|} + 1));
//            dx = dy·(1 − y²)
// @ts-ignore: decorator
@inline
function expV(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const fx = f32x4.floor(madd(x, f32x4.splat(1.44269504088896341), f32x4.splat(0.5)));
  let r = madd(fx, f32x4.splat(-0.693359375), x);
  r = madd(fx, f32x4.splat(2.12194440e-4), r);
  const z = f32x4.mul(r, r);
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(p, z, r), f32x4.splat(1));
  // 2^fx for integral fx in [−126, 128]: fx + 1.5·2²³ holds fx in its low mantissa bits.
  const n = i32x4.sub(f32x4.add(fx, f32x4.splat(12582912.0)), i32x4.splat(0x4b400000 - 127));
  return f32x4.mul(p, i32x4.shl(n, 23));
}

// @ts-ignore: decorator
@inline
function sigmoidV(x: v128): v128 {
  const one = f32x4.splat(1);
  const y = f32x4.div(one, f32x4.add(one, expV(f32x4.neg(x))));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

// @ts-ignore: decorator
@inline
function tanhV(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = madd(f32x4.splat(-5.70498872745e-3), z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), ax, ax);
  const one = f32x4.splat(1);
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(expV(f32x4.add(ax, ax)), one)));
  // Both branches on |x|, then x's sign (tanh(−0) = −0); NaN put back from x.
  const mag = v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(0.625)));
  return v128.bitselect(x, v128.or(mag, v128.and(x, i32x4.splat(0x80000000))), f32x4.ne(x, x));
}

/** y[i] = sigmoid(x[i]) (ACT_SIGMOID) or tanh(x[i]) (ACT_TANH) for i in [i0, i1). */
export function activationForward(kind: i32, x: usize, i0: i32, i1: i32, y: usize): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, kind == ACT_SIGMOID ? sigmoidV(v) : tanhV(v));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + o));
    store<f32>(y + o, f32x4.extract_lane(kind == ACT_SIGMOID ? sigmoidV(v) : tanhV(v), 0));
  }
}

/** dx[i] = dy[i]·y[i]·(1 − y[i]) (ACT_SIGMOID) or dy[i]·(1 − y[i]²) (ACT_TANH), i in [i0, i1). */
export function activationBackward(kind: i32, dy: usize, y: usize, i0: i32, i1: i32, dx: usize): void {
  const one = f32x4.splat(1);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    const d = v128.load(dy + o);
    v128.store(dx + o, kind == ACT_SIGMOID ? f32x4.mul(f32x4.mul(d, v), f32x4.sub(one, v)) : f32x4.mul(d, f32x4.sub(one, f32x4.mul(v, v))));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    const d = load<f32>(dy + o);
    store<f32>(dx + o, kind == ACT_SIGMOID ? d * v * (1 - v) : d * (1 - v * v));
  }
}

/**
 * The index of the first value of x[i0, i1) that is NaN or ±Infinity (its eight exponent bits all
 * set) into the i32 at `out`, which holds i1 before the job and keeps it where there is none: a
 * model's input check, on the batch where the engine holds it. Every thread of one check gets the
 * same range and takes the next `chunk` values from the i32 counter at `next` (0 before the job)
 * until none is left, so a thread that comes late leaves its share to the others; `out` keeps the
 * smallest index any thread found (a compare-and-swap minimum), and a chunk past it is not read.
 * Blocks of 64 values are tested with one branch each; the block that holds one is scanned.
 */
export function findNonFinite(x: usize, i0: i32, i1: i32, chunk: i32, next: usize, out: usize): void {
  for (let b = i0 + atomic.add<i32>(next, chunk); b < i1; b = i0 + atomic.add<i32>(next, chunk)) {
    if (b >= atomic.load<i32>(out)) break;
    const at = firstNonFiniteIn(x, b, min(b + chunk, i1));
    if (at < 0) continue;
    let seen = atomic.load<i32>(out);
    while (at < seen) {
      const was = atomic.cmpxchg<i32>(out, seen, at);
      if (was == seen) break;
      seen = was;
    }
  }
}

// The index of the first non-finite value of x[i0, i1), or -1.
function firstNonFiniteIn(x: usize, i0: i32, i1: i32): i32 {
  const exponent = i32x4.splat(0x7f800000);
  let i = i0;
  for (; i + 64 <= i1; i += 64) {
    let hit = i32x4.splat(0);
    const p = x + (<usize>i << 2);
    for (let k: usize = 0; k < 256; k += 16) hit = v128.or(hit, i32x4.eq(v128.and(v128.load(p + k), exponent), exponent));
    if (v128.any_true(hit)) break;
  }
  for (; i < i1; i++) {
    if ((load<i32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
