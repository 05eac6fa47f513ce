// Average pooling of the specification. As TensorFlow's (and so Keras'), a window's mean is over
// the cells inside the image only: 'same' padding is not counted in the divisor.
import type { Conv2DInfo } from '../../geometry.js';

/** Cells of the window at output (oh, ow) that lie inside the image. */
function windowCount(info: Conv2DInfo, oh: number, ow: number): number {
  const h0 = oh * info.strideHeight - info.padTop;
  const w0 = ow * info.strideWidth - info.padLeft;
  const rows = Math.min(h0 + info.filterHeight, info.inHeight) - Math.max(h0, 0);
  const cols = Math.min(w0 + info.filterWidth, info.inWidth) - Math.max(w0, 0);
  return Math.max(rows, 0) * Math.max(cols, 0);
}

/** y[n,oh,ow,c] = mean of x[n, oh·sh−pt+i, ow·sw−pl+j, c] over the window's cells inside the image. */
export function avgPool(x: Float32Array, info: Conv2DInfo): Float32Array {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop, padLeft } = info;
  const y = new Float32Array(batch * OH * OW * C);
  const acc = new Float64Array(C);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        acc.fill(0);
        for (let i = 0; i < KH; i++) {
          const ih = oh * sh - padTop + i;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < KW; j++) {
            const iw = ow * sw - padLeft + j;
            if (iw < 0 || iw >= W) continue;
            const src = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) acc[c] += x[src + c];
          }
        }
        const count = windowCount(info, oh, ow);
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) y[o + c] = acc[c] / count;
      }
    }
  }
  return y;
}

/** dx[n,ih,iw,c] = Σ over the windows holding (ih, iw) of dy[n,oh,ow,c] / (that window's cell count). */
export function avgPoolBackprop(dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop, padLeft } = info;
  const dx = new Float32Array(batch * H * W * C);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const count = windowCount(info, oh, ow);
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let i = 0; i < KH; i++) {
          const ih = oh * sh - padTop + i;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < KW; j++) {
            const iw = ow * sw - padLeft + j;
            if (iw < 0 || iw >= W) continue;
            const dst = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) dx[dst + c] += dy[o + c] / count;
          }
        }
      }
    }
  }
  return dx;
}
