// Zero padding and Keras' relu with options, as the specification's plain loops. The cpu backend
// runs these too: both are one pass of copies or compares per element, memory-bound.
import type { Pad2DInfo } from '../../geometry.js';
import type { ReluOptions } from '../types.js';

/** y[n, ih+top, iw+left, c] = x[n, ih, iw, c]; every other cell of y is 0. */
export function zeroPad2d(x: Float32Array, info: Pad2DInfo): Float32Array {
  const y = new Float32Array(info.batch * info.outHeight * info.outWidth * info.channels);
  forEachRow(info, (inner, padded, row) => y.set(x.subarray(inner, inner + row), padded));
  return y;
}

/** dx[n, ih, iw, c] = dy[n, ih+top, iw+left, c]: the padding's gradient is dropped. */
export function zeroPad2dBackprop(dy: Float32Array, info: Pad2DInfo): Float32Array {
  const dx = new Float32Array(info.batch * info.inHeight * info.inWidth * info.channels);
  forEachRow(info, (inner, padded, row) => dx.set(dy.subarray(padded, padded + row), inner));
  return dx;
}

/** Calls `copy` once per image row with its offset in the unpadded and in the padded tensor and its length. */
function forEachRow(info: Pad2DInfo, copy: (inner: number, padded: number, row: number) => void): void {
  const { batch, inHeight: H, inWidth: W, channels: C, top, left, outHeight: OH, outWidth: OW } = info;
  const row = W * C;
  for (let n = 0; n < batch; n++) {
    for (let h = 0; h < H; h++) copy((n * H + h) * row, ((n * OH + h + top) * OW + left) * C, row);
  }
}

/** y = x > threshold ? min(x, maxValue) : negativeSlope·(x − threshold), as Keras' relu(x, negative_slope, max_value, threshold). */
export function reluWithOptions(x: Float32Array, options: ReluOptions): Float32Array {
  const { maxValue, negativeSlope, threshold } = options;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v > threshold ? Math.min(v, maxValue) : negativeSlope * (v - threshold);
  }
  return y;
}

/** dx = dy where threshold < x < maxValue, negativeSlope·dy where x < threshold, else 0. */
export function reluWithOptionsBackward(dy: Float32Array, x: Float32Array, options: ReluOptions): Float32Array {
  const { maxValue, negativeSlope, threshold } = options;
  const dx = new Float32Array(dy.length);
  for (let i = 0; i < dy.length; i++) {
    const v = x[i];
    dx[i] = v > threshold ? (v < maxValue ? dy[i] : 0) : v < threshold ? negativeSlope * dy[i] : 0;
  }
  return dx;
}
