// Helpers shared by the convolution kernels (im2col, direct, Winograd, depthwise).

import { workspaceBytes } from './gemm';


/** Bytes of the gemm packing workspace at the start of a thread's work area. */
// @ts-ignore: decorator
@inline
export function gemmWork(): usize {
  return <usize>(workspaceBytes() + 63) & ~63;
}

// dst[i] = src[i] for i < count floats (short runs are common: C = 3 in a first layer).
// @ts-ignore: decorator
@inline
export function copy(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, v128.load(src + o));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o));
  }
}


// The 16 vectors of the 4×4 patch at (iy0, ix0) for channels [c, c+4) of image xn; 0 outside.
// @ts-ignore: decorator
@inline
export function patch(xn: usize, H: i32, W: i32, C: i32, iy0: i32, ix0: i32, c: i32, i: i32, j: i32): v128 {
  const iy = iy0 + i, ix = ix0 + j;
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return f32x4.splat(0);
  return v128.load(xn + (<usize>((iy * W + ix) * C + c) << 2));
}


// Eight floats of each of four pixels `stride` bytes apart from o: pixel k gets (pk0, pk1).
// @ts-ignore: decorator
@inline
export function storeFour(o: usize, stride: usize, p00: v128, p01: v128, p10: v128, p11: v128, p20: v128, p21: v128, p30: v128, p31: v128): void {
  v128.store(o, p00);
  v128.store(o, p01, 16);
  v128.store(o + stride, p10);
  v128.store(o + stride, p11, 16);
  v128.store(o + 2 * stride, p20);
  v128.store(o + 2 * stride, p21, 16);
  v128.store(o + 3 * stride, p30);
  v128.store(o + 3 * stride, p31, 16);
}

// Lanes where the next value v replaces the window maximum so far, `best` (asm maxPool's rule).
// @ts-ignore: decorator
@inline
export function poolTakes(best: v128, v: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.andnot(f32x4.eq(best, best), f32x4.eq(v, v)));
}

// The window maximum so far against the next value v.
// @ts-ignore: decorator
@inline
export function poolMax(best: v128, v: v128): v128 {
  return v128.bitselect(v, best, poolTakes(best, v));
}

// One pool window a, b (top row), c, d (bottom row), in maxPool's order (row-major; a greater
// value, or a NaN over a number, replaces the maximum so far): its maximum at p, the winner's flat
// index in the convolution output (a's is i0) at ap.
// @ts-ignore: decorator
@inline
export function poolWindow(p: usize, ap: usize, a: v128, b: v128, c: v128, d: v128, i0: v128, right: v128, down: v128): void {
  let best = a, arg = i0;
  let take = poolTakes(best, b);
  best = v128.bitselect(b, best, take);
  arg = v128.bitselect(i32x4.add(i0, right), arg, take);
  take = poolTakes(best, c);
  best = v128.bitselect(c, best, take);
  arg = v128.bitselect(i32x4.add(i0, down), arg, take);
  take = poolTakes(best, d);
  best = v128.bitselect(d, best, take);
  arg = v128.bitselect(i32x4.add(i32x4.add(i0, down), right), arg, take);
  v128.store(p, best);
  v128.store(ap, arg);
}
