// Depthwise convolution of the specification: each input channel c convolved with its own M
// filters, output channel c·M + m (TensorFlow's order). The weight of tap (i, j) for that output
// channel sits at w[i, j, c, m] = w[(i·KW + j)·C·M + c·M + m]; forEachTap's weight offset is for a
// [KH, KW, C, F] kernel, (i·KW + j)·C·F with F = C·M, so the depthwise one is that ÷ C. Sums in float64.
import type { Conv2DInfo } from '../../geometry.js';
import { forEachTap } from './dense.js';

/** y[n,oh,ow,c·M+m] = Σ_{i,j} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · w[i,j,c,m]. */
export function depthwiseConv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const y = new Float64Array(info.batch * info.outHeight * info.outWidth * info.outChannels);
  forEachChannelTap(info, (xc, yc, wc, M) => {
    const xv = x[xc];
    for (let m = 0; m < M; m++) y[yc + m] += xv * w[wc + m];
  });
  return Float32Array.from(y);
}

/** dx[n,ih,iw,c] = Σ over the (oh, ow, i, j) that read x[n,ih,iw,c] of Σ_m dy[n,oh,ow,c·M+m] · w[i,j,c,m]. */
export function depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const dx = new Float64Array(info.batch * info.inHeight * info.inWidth * info.inChannels);
  forEachChannelTap(info, (xc, yc, wc, M) => {
    let sum = 0;
    for (let m = 0; m < M; m++) sum += dy[yc + m] * w[wc + m];
    dx[xc] += sum;
  });
  return Float32Array.from(dx);
}

/** dw[i,j,c,m] = Σ_{n,oh,ow} x[n, oh·sh − padTop + i·dh, ow·sw − padLeft + j·dw, c] · dy[n,oh,ow,c·M+m]. */
export function depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const dw = new Float64Array(info.filterHeight * info.filterWidth * info.outChannels);
  forEachChannelTap(info, (xc, yc, wc, M) => {
    const xv = x[xc];
    for (let m = 0; m < M; m++) dw[wc + m] += xv * dy[yc + m];
  });
  return Float32Array.from(dw);
}

/**
 * Calls `visit` for every tap and input channel c, in forEachTap's order then c ascending, with the
 * offsets of x[…, c], of y[…, c·M] and of w[i, j, c, 0]: the M outputs of channel c follow each.
 */
function forEachChannelTap(info: Conv2DInfo, visit: (xc: number, yc: number, wc: number, M: number) => void): void {
  const { inChannels: C, outChannels: F } = info;
  const M = F / C;
  forEachTap(info, (xo, yo, wTap) => {
    const wo = wTap / C;
    for (let c = 0; c < C; c++) visit(xo + c, yo + c * M, wo + c * M, M);
  });
}
