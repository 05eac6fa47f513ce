// Depthwise convolution of the specification: each input channel c convolved with its own M
// filters, output channel c·M + m (TensorFlow's order). The weight of tap (i, j) for that output
// channel sits at w[i, j, c, m] = w[(i·KW + j)·C·M + c·M + m]; forEachTap's weight offset is for a
// [KH, KW, C, F] kernel, (i·KW + j)·C·F with F = C·M, so the depthwise one is that ÷ C. Sums in float64.
import type { Conv2DInfo } from '../../geometry.js';
import { forEachTap } from './dense.js';

/** y[n,oh,ow,c·M+m] = Σ_{i,j} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · w[i,j,c,m]. */
export function depthwiseConv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { inChannels: C, outChannels: F } = info;
  const M = F / C;
  const y = new Float64Array(info.batch * info.outHeight * info.outWidth * F);
  forEachTap(info, (xo, yo, wTap) => {
    const wo = wTap / C;
    for (let c = 0; c < C; c++) {
      const xv = x[xo + c];
      for (let m = 0; m < M; m++) y[yo + c * M + m] += xv * w[wo + c * M + m];
    }
  });
  return Float32Array.from(y);
}

/** dx[n,ih,iw,c] = Σ over the (oh, ow, i, j) that read x[n,ih,iw,c] of Σ_m dy[n,oh,ow,c·M+m] · w[i,j,c,m]. */
export function depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { inChannels: C, outChannels: F } = info;
  const M = F / C;
  const dx = new Float64Array(info.batch * info.inHeight * info.inWidth * C);
  forEachTap(info, (xo, yo, wTap) => {
    const wo = wTap / C;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let m = 0; m < M; m++) sum += dy[yo + c * M + m] * w[wo + c * M + m];
      dx[xo + c] += sum;
    }
  });
  return Float32Array.from(dx);
}

/** dw[i,j,c,m] = Σ_{n,oh,ow} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · dy[n,oh,ow,c·M+m]. */
export function depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { inChannels: C, outChannels: F } = info;
  const M = F / C;
  const dw = new Float64Array(info.filterHeight * info.filterWidth * F);
  forEachTap(info, (xo, yo, wTap) => {
    const wo = wTap / C;
    for (let c = 0; c < C; c++) {
      const xv = x[xo + c];
      for (let m = 0; m < M; m++) dw[wo + c * M + m] += xv * dy[yo + c * M + m];
    }
  });
  return Float32Array.from(dw);
}
