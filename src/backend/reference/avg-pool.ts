// Average pooling of the specification. As TensorFlow's (and so Keras'), a window's mean is over
// the cells inside the image only: 'same' padding is not counted in the divisor.
import type { Conv2DInfo } from '../../geometry.js';
import { windowBuffer, windowCells } from './pool-window.js';

/** y[n,oh,ow,c] = mean of x[n, oh·sh−pt+i, ow·sw−pl+j, c] over the window's cells inside the image. */
export function avgPool(x: Float32Array, info: Conv2DInfo): Float32Array {
  const { batch, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const y = new Float32Array(batch * OH * OW * C);
  const acc = new Float64Array(C);
  const cells = windowBuffer(info);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        acc.fill(0);
        const count = windowCells(info, n, oh, ow, cells);
        for (let k = 0; k < count; k++) {
          const src = cells[k];
          for (let c = 0; c < C; c++) acc[c] += x[src + c];
        }
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
  const dx = new Float32Array(batch * H * W * C);
  const cells = windowBuffer(info);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const count = windowCells(info, n, oh, ow, cells);
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let k = 0; k < count; k++) {
          const dst = cells[k];
          for (let c = 0; c < C; c++) dx[dst + c] += dy[o + c] / count;
        }
      }
    }
  }
  return dx;
}
