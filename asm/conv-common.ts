// Helpers shared by the convolution kernels (im2col, direct, Winograd).

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

