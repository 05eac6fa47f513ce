// The augmentation ops as the specification's plain loops: the affine resampling of RandomRotation
// and RandomZoom (TensorFlow's ImageProjectiveTransformV3, which Keras' layers call, including its
// coordinate mapping per fill mode), its adjoint, and RandomContrast's per-image contrast. The cpu
// backend runs these loops too.
import { outputF32 } from '../arena.js';
import type { ContrastInfo, FillMode, ImageTransformInfo } from '../types.js';

/**
 * A source coordinate mapped into [0, len − 1] by the fill mode ('constant' leaves it: cells outside
 * read the fill value). TensorFlow's MapCoordinate, quirks included: 'wrap' divides by len − 1.
 */
export function mapCoordinate(c: number, len: number, mode: FillMode): number {
  if (mode === 'constant') return c;
  let v = c;
  if (mode === 'reflect') {
    if (v < 0) {
      if (len <= 1) v = 0;
      else {
        const sz2 = 2 * len;
        if (v < sz2) v = sz2 * Math.trunc(-v / sz2) + v;
        v = v < -len ? v + sz2 : -v - 1;
      }
    } else if (v > len - 1) {
      if (len <= 1) v = 0;
      else {
        const sz2 = 2 * len;
        v -= sz2 * Math.trunc(v / sz2);
        if (v >= len) v = sz2 - v - 1;
      }
    }
  } else if (mode === 'wrap') {
    if (v < 0) v = len <= 1 ? 0 : v + len * (Math.trunc(-v / (len - 1)) + 1);
    else if (v > len - 1) v = len <= 1 ? 0 : v - len * Math.trunc(v / (len - 1));
  }
  return Math.min(Math.max(v, 0), len - 1);
}

/** std::round: halves away from zero. */
const roundHalfAway = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

/**
 * Calls `visit(o, s, weight)` for every (output pixel o, source pixel s) pair the resampling reads,
 * o and s flat pixel indices over the batch; the weights of a pixel's reads outside the image
 * (constant mode) go to `outside(o, weight)`.
 */
function forEachRead(
  transforms: Float32Array, info: ImageTransformInfo, visit: (o: number, s: number, weight: number) => void, outside: (o: number, weight: number) => void,
): void {
  const { batch, height: H, width: W, fillMode, interpolation } = info;
  const read = (o: number, n: number, r: number, c: number, weight: number): void => {
    if (r >= 0 && r < H && c >= 0 && c < W) visit(o, (n * H + r) * W + c, weight);
    else outside(o, weight);
  };
  for (let n = 0; n < batch; n++) {
    const t = transforms.subarray(n * 6, n * 6 + 6);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const o = (n * H + i) * W + j;
        const x = mapCoordinate(t[0] * j + t[1] * i + t[2], W, fillMode);
        const y = mapCoordinate(t[3] * j + t[4] * i + t[5], H, fillMode);
        if (interpolation === 'nearest') {
          read(o, n, roundHalfAway(y), roundHalfAway(x), 1);
          continue;
        }
        const y0 = Math.floor(y);
        const x0 = Math.floor(x);
        read(o, n, y0, x0, (y0 + 1 - y) * (x0 + 1 - x));
        read(o, n, y0, x0 + 1, (y0 + 1 - y) * (x - x0));
        read(o, n, y0 + 1, x0, (y - y0) * (x0 + 1 - x));
        read(o, n, y0 + 1, x0 + 1, (y - y0) * (x - x0));
      }
    }
  }
}

/** y[n,i,j,c] = Σ weight · x[n, source cell, c] (+ weight · fillValue for cells outside), per {@link ImageTransformInfo}. */
export function imageTransform(x: Float32Array, transforms: Float32Array, info: ImageTransformInfo): Float32Array {
  const C = info.channels;
  const y = outputF32(x.length, true);
  forEachRead(transforms, info, (o, s, weight) => {
    for (let c = 0; c < C; c++) y[o * C + c] += weight * x[s * C + c];
  }, (o, weight) => {
    for (let c = 0; c < C; c++) y[o * C + c] += weight * info.fillValue;
  });
  return y;
}

/** dx[n, s, c] = Σ over the reads of source cell s: weight · dy[n, o, c] (the transpose of {@link imageTransform}). */
export function imageTransformBackward(dy: Float32Array, transforms: Float32Array, info: ImageTransformInfo): Float32Array {
  const C = info.channels;
  const dx = outputF32(dy.length, true);
  forEachRead(transforms, info, (o, s, weight) => {
    for (let c = 0; c < C; c++) dx[s * C + c] += weight * dy[o * C + c];
  }, () => {});
  return dx;
}

/** The mean over each image's pixels per channel: [batch, C]. */
function imageChannelMeans(x: Float32Array, info: ContrastInfo): Float64Array {
  const { batch, channels: C } = info;
  const pixels = info.height * info.width;
  const mean = new Float64Array(batch * C);
  for (let n = 0; n < batch; n++) {
    for (let p = 0; p < pixels; p++) for (let c = 0; c < C; c++) mean[n * C + c] += x[(n * pixels + p) * C + c];
  }
  for (let k = 0; k < mean.length; k++) mean[k] /= pixels;
  return mean;
}

/** y = clip((x − m)·f + m, lower, upper), m per image and channel, f = factors[n]. */
export function adjustContrast(x: Float32Array, factors: Float32Array, info: ContrastInfo): Float32Array {
  const { batch, channels: C, lower, upper } = info;
  const pixels = info.height * info.width;
  const mean = imageChannelMeans(x, info);
  const y = outputF32(x.length);
  for (let n = 0; n < batch; n++) {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < C; c++) {
        const k = (n * pixels + p) * C + c;
        const m = mean[n * C + c];
        y[k] = Math.min(Math.max((x[k] - m) * factors[n] + m, lower), upper);
      }
    }
  }
  return y;
}

/** dx = f·g + (1 − f)·mean(g), g = dy where the unclipped value lies in [lower, upper] (tf.clipByValue's gradient), else 0. */
export function adjustContrastBackward(dy: Float32Array, x: Float32Array, factors: Float32Array, info: ContrastInfo): Float32Array {
  const { batch, channels: C, lower, upper } = info;
  const pixels = info.height * info.width;
  const mean = imageChannelMeans(x, info);
  const g = new Float32Array(dy.length);
  const gMean = new Float64Array(batch * C);
  for (let n = 0; n < batch; n++) {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < C; c++) {
        const k = (n * pixels + p) * C + c;
        const m = mean[n * C + c];
        const z = (x[k] - m) * factors[n] + m;
        g[k] = z >= lower && z <= upper ? dy[k] : 0;
        gMean[n * C + c] += g[k];
      }
    }
  }
  const dx = outputF32(dy.length);
  for (let n = 0; n < batch; n++) {
    const f = factors[n];
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < C; c++) {
        const k = (n * pixels + p) * C + c;
        dx[k] = f * g[k] + ((1 - f) * gMean[n * C + c]) / pixels;
      }
    }
  }
  return dx;
}
