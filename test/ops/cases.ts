// Shapes the op tests share: small enough for the reference and every gpu.js mode, odd enough to
// catch index mistakes (padding on one side only, strides, dilation, 1×1, a large batch).
import { conv2dInfo, depthwiseConv2dInfo, type Conv2DInfo, type Padding } from '../../src/geometry.js';

/** A convolution case: input [batch, h, w, c], f filters of k, strides s, dilation d. */
export interface ConvCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  f: number;
  k: [number, number];
  s: [number, number];
  d?: [number, number];
  padding: Padding;
}

export const convCases: ConvCase[] = [
  { batch: 1, h: 5, w: 5, c: 3, f: 4, k: [3, 3], s: [1, 1], padding: 'same' },
  { batch: 3, h: 7, w: 6, c: 2, f: 3, k: [3, 2], s: [2, 2], padding: 'valid' },
  { batch: 2, h: 6, w: 7, c: 3, f: 5, k: [3, 3], s: [2, 2], padding: 'same' },
  { batch: 32, h: 5, w: 4, c: 2, f: 3, k: [2, 2], s: [2, 1], padding: 'same' },
  { batch: 2, h: 3, w: 5, c: 4, f: 2, k: [1, 1], s: [1, 1], padding: 'valid' },
  { batch: 2, h: 9, w: 8, c: 16, f: 8, k: [3, 3], s: [1, 1], padding: 'same' },
  { batch: 1, h: 8, w: 9, c: 2, f: 3, k: [3, 3], s: [1, 1], d: [2, 2], padding: 'same' },
];

/** The geometry of a case. */
export const infoOf = (t: ConvCase): Conv2DInfo => conv2dInfo([t.batch, t.h, t.w, t.c], t.k, t.f, t.s, t.padding, t.d ?? [1, 1]);

/** A case's name for messages. */
export const caseName = (t: ConvCase): string =>
  `${t.batch}x${t.h}x${t.w}x${t.c} k${t.k.join('x')} s${t.s.join('x')}${t.d ? ` d${t.d.join('x')}` : ''} ${t.padding} f${t.f}`;

/** Convolution cases followed by a max pool of `pool` windows that tile the output (strides = pool, 'valid'). */
export const poolCases: (ConvCase & { pool: [number, number] })[] = [
  { batch: 1, h: 7, w: 7, c: 3, f: 4, k: [3, 3], s: [1, 1], padding: 'same', pool: [2, 2] },
  { batch: 3, h: 9, w: 8, c: 2, f: 3, k: [3, 2], s: [2, 2], padding: 'valid', pool: [2, 2] },
  { batch: 2, h: 11, w: 9, c: 3, f: 5, k: [3, 3], s: [2, 2], padding: 'same', pool: [3, 2] },
  { batch: 8, h: 6, w: 7, c: 2, f: 3, k: [2, 2], s: [1, 1], padding: 'same', pool: [2, 3] },
  { batch: 2, h: 10, w: 10, c: 16, f: 16, k: [3, 3], s: [1, 1], padding: 'same', pool: [2, 2] },
];

/** The tiling pool over a case's convolution output. */
export const poolOf = (t: ConvCase & { pool: [number, number] }): Conv2DInfo => {
  const info = infoOf(t);
  return conv2dInfo([t.batch, info.outHeight, info.outWidth, t.f], t.pool, t.f, t.pool, 'valid');
};

/** A depthwise case: input shape [batch, h, w, c], kernel k, depth multiplier m, strides s, dilation d. */
export interface DepthwiseCase {
  shape: [number, number, number, number];
  k: [number, number];
  m: number;
  s: [number, number];
  padding: Padding;
  d?: [number, number];
}

/** A depthwise case's name for messages, e.g. `2x7x7x3 k3x3 m1 s1x1 same`. */
export const depthwiseName = (t: DepthwiseCase): string =>
  `${t.shape.join('x')} k${t.k.join('x')} m${t.m} s${t.s.join('x')} ${t.padding}${t.d ? ` d${t.d.join('x')}` : ''}`;

/** The geometry of a depthwise case. */
export const depthwiseInfoOf = (t: DepthwiseCase): Conv2DInfo => depthwiseConv2dInfo(t.shape, t.k, t.m, t.s, t.padding, t.d ?? [1, 1]);
