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
 * The cells output pixel (i, j) reads through transform t: up to 4 (bilinear) or 1 (nearest) taps,
 * each a pixel index into the image (row·W + column, or −1 outside it: the fill value) in `cell`
 * and its weight in `weight`. Returns the tap count.
 */
function taps(t: Float32Array, n: number, i: number, j: number, info: ImageTransformInfo, cell: Int32Array, weight: Float64Array): number {
  const H = info.height;
  const W = info.width;
  const o = n * 6;
  const x = mapCoordinate(t[o] * j + t[o + 1] * i + t[o + 2], W, info.fillMode);
  const y = mapCoordinate(t[o + 3] * j + t[o + 4] * i + t[o + 5], H, info.fillMode);
  if (info.interpolation === 'nearest') {
    cell[0] = pixelAt(roundHalfAway(y), roundHalfAway(x), H, W);
    weight[0] = 1;
    return 1;
  }
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  cell[0] = pixelAt(y0, x0, H, W);
  weight[0] = (y0 + 1 - y) * (x0 + 1 - x);
  cell[1] = pixelAt(y0, x0 + 1, H, W);
  weight[1] = (y0 + 1 - y) * (x - x0);
  cell[2] = pixelAt(y0 + 1, x0, H, W);
  weight[2] = (y - y0) * (x0 + 1 - x);
  cell[3] = pixelAt(y0 + 1, x0 + 1, H, W);
  weight[3] = (y - y0) * (x - x0);
  return 4;
}

/** Pixel (r, c) of an H × W image as r·W + c, or −1 outside it. */
function pixelAt(r: number, c: number, H: number, W: number): number {
  return r >= 0 && r < H && c >= 0 && c < W ? r * W + c : -1;
}

/**
 * Calls `visit(out, src, weight)` for every tap of every output pixel, in pixel order: `out` and
 * `src` are the NHWC offsets of channel 0 of the output pixel and of the cell read (−1: outside
 * the image).
 */
function forEachTap(transforms: Float32Array, info: ImageTransformInfo, visit: (out: number, src: number, weight: number) => void): void {
  const { batch, height: H, width: W, channels: C } = info;
  const cell = new Int32Array(4);
  const weight = new Float64Array(4);
  for (let n = 0; n < batch; n++) {
    const image = n * H * W;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const out = (image + i * W + j) * C;
        const count = taps(transforms, n, i, j, info, cell, weight);
        for (let k = 0; k < count; k++) visit(out, cell[k] < 0 ? -1 : (image + cell[k]) * C, weight[k]);
      }
    }
  }
}

/** y[n,i,j,c] = Σ over the taps of (i, j): weight · (x[n, cell, c], or fillValue outside the image). */
export function imageTransform(x: Float32Array, transforms: Float32Array, info: ImageTransformInfo): Float32Array {
  const { channels: C, fillValue } = info;
  const y = outputF32(x.length, true);
  forEachTap(transforms, info, (out, src, w) => {
    if (src < 0) for (let c = 0; c < C; c++) y[out + c] += w * fillValue;
    else for (let c = 0; c < C; c++) y[out + c] += w * x[src + c];
  });
  return y;
}

/** dx[n, cell, c] = Σ over the taps that read the cell: weight · dy[n, i, j, c] (the transpose of {@link imageTransform}). */
export function imageTransformBackward(dy: Float32Array, transforms: Float32Array, info: ImageTransformInfo): Float32Array {
  const C = info.channels;
  const dx = outputF32(dy.length, true);
  forEachTap(transforms, info, (out, src, w) => {
    if (src >= 0) for (let c = 0; c < C; c++) dx[src + c] += w * dy[out + c];
  });
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
