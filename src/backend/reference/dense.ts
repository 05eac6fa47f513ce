// The dense ops of the specification as direct loops over the formulas: no GEMM, no im2col. Sums
// run in float64 and round once, so each result is the float32 nearest the exact sum as closely as
// one rounding allows; the fast paths are held to it with tolerances.
import type { Conv2DInfo } from '../../geometry.js';

/** C [m×n] = op(A)·op(B): C[i,j] = Σ_p op(A)[i,p]·op(B)[p,j]; A is [m×k] ([k×m] if transA), B is [k×n] ([n×k] if transB). */
export function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
      c[i * n + j] = sum;
    }
  }
  return c;
}

/**
 * Visits every (output pixel, filter tap) pair of a convolution that reads a cell inside the
 * input: `visit(xOffset, yOffset, wOffset)` with the offsets of x[n, ih, iw, 0], y[n, oh, ow, 0]
 * and w[i, j, 0, 0]. The three convolution ops are this one loop nest with different bodies.
 */
export function forEachTap(info: Conv2DInfo, visit: (xo: number, yo: number, wo: number) => void): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = info;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((n * OH + oh) * OW + ow) * F;
        for (let i = 0; i < KH; i++) {
          const ih = oh * sh - padTop + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < KW; j++) {
            const iw = ow * sw - padLeft + j * dw;
            if (iw < 0 || iw >= W) continue;
            visit(((n * H + ih) * W + iw) * C, yo, (i * KW + j) * C * F);
          }
        }
      }
    }
  }
}

/** y[n,oh,ow,f] = Σ_{i,j,c} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · w[i,j,c,f] (cross-correlation, zero padding). */
export function conv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { inChannels: C, outChannels: F } = info;
  const y = new Float64Array(info.batch * info.outHeight * info.outWidth * F);
  forEachTap(info, (xo, yo, wo) => {
    for (let c = 0; c < C; c++) {
      const xv = x[xo + c];
      for (let f = 0; f < F; f++) y[yo + f] += xv * w[wo + c * F + f];
    }
  });
  return Float32Array.from(y);
}

/** dx[n,ih,iw,c] = Σ over the (oh, ow, i, j) that read x[n,ih,iw,c] of dy[n,oh,ow,f] · w[i,j,c,f]: the adjoint of conv2d in x. */
export function conv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { inChannels: C, outChannels: F } = info;
  const dx = new Float64Array(info.batch * info.inHeight * info.inWidth * C);
  forEachTap(info, (xo, yo, wo) => {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let f = 0; f < F; f++) sum += dy[yo + f] * w[wo + c * F + f];
      dx[xo + c] += sum;
    }
  });
  return Float32Array.from(dx);
}

/** dw[i,j,c,f] = Σ_{n,oh,ow} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · dy[n,oh,ow,f]: the adjoint of conv2d in w. */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { inChannels: C, outChannels: F } = info;
  const dw = new Float64Array(info.filterHeight * info.filterWidth * C * F);
  forEachTap(info, (xo, yo, wo) => {
    for (let c = 0; c < C; c++) {
      const xv = x[xo + c];
      for (let f = 0; f < F; f++) dw[wo + c * F + f] += xv * dy[yo + f];
    }
  });
  return Float32Array.from(dw);
}
