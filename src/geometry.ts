/** `'valid'`: no padding; `'same'`: pad so that out = ceil(in / stride), extra pixel bottom/right. */
export type Padding = 'valid' | 'same';

/**
 * The one home of window geometry (convolution and pooling): output size and padding along
 * every spatial axis, plus the batch and channel counts. Layer shape inference, op validation,
 * CPU loop bounds and gpu.js constants all read it.
 */
export interface Conv2DInfo {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  /** Filters for a convolution; equals inChannels for pooling. */
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** Output length and padding of one spatial axis, following TensorFlow's rule. */
export function axisGeometry(
  inSize: number,
  kernel: number,
  stride: number,
  padding: Padding,
  dilation = 1,
): { out: number; padBefore: number; padAfter: number } {
  const span = dilation * (kernel - 1) + 1;
  if (padding === 'valid') {
    const out = Math.floor((inSize - span) / stride) + 1;
    return { out: Math.max(out, 0), padBefore: 0, padAfter: 0 };
  }
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + span - inSize, 0);
  const padBefore = Math.floor(total / 2);
  return { out, padBefore, padAfter: total - padBefore };
}

/** A positive integer or a pair of them, as Keras accepts for kernel sizes and strides. */
export type IntPair = number | [number, number];

/** Normalizes `3` to `[3, 3]`, validating that both are positive integers. */
export function pair(value: IntPair, what: string, owner: string): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!Array.isArray(value) && typeof value !== 'number') throw new Error(`${owner}: ${what} must be a number or [h, w], got ${JSON.stringify(value)}`);
  for (const v of p) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${owner}: ${what} must be positive integers, got ${JSON.stringify(value)}`);
  }
  return p;
}

/**
 * Geometry of a 2-D window op over an NHWC input.
 *
 * @param inShape `[batch, height, width, channels]`
 * @param filter `[filterHeight, filterWidth]`
 * @param outChannels filters of a convolution (pass inShape[3] for pooling)
 */
export function conv2dInfo(
  inShape: readonly [number, number, number, number],
  filter: [number, number],
  outChannels: number,
  strides: [number, number],
  padding: Padding,
  dilations: [number, number] = [1, 1],
): Conv2DInfo {
  const [batch, inHeight, inWidth, inChannels] = inShape;
  const h = axisGeometry(inHeight, filter[0], strides[0], padding, dilations[0]);
  const w = axisGeometry(inWidth, filter[1], strides[1], padding, dilations[1]);
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight: h.out,
    outWidth: w.out,
    outChannels,
    filterHeight: filter[0],
    filterWidth: filter[1],
    strideHeight: strides[0],
    strideWidth: strides[1],
    dilationHeight: dilations[0],
    dilationWidth: dilations[1],
    padTop: h.padBefore,
    padBottom: h.padAfter,
    padLeft: w.padBefore,
    padRight: w.padAfter,
  };
}

/** Whether a convolution is a 1×1 stride-1 unpadded one: its im2col columns are its input rows. */
export function isPointwise(info: Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.padTop === 0 && info.padLeft === 0;
}

/**
 * Geometry of a 2-D zero padding over an NHWC input: `top`/`bottom` rows and `left`/`right`
 * columns of zeros around each image. Layer shape inference, the ops and the gpu.js constants read it.
 */
export interface Pad2DInfo {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
  /** inHeight + top + bottom. */
  outHeight: number;
  /** inWidth + left + right. */
  outWidth: number;
}

/** The padding geometry for `inShape` [batch, height, width, channels] and `[[top, bottom], [left, right]]`. */
export function pad2dInfo(inShape: readonly [number, number, number, number], pads: readonly [readonly [number, number], readonly [number, number]]): Pad2DInfo {
  const [batch, inHeight, inWidth, channels] = inShape;
  const [[top, bottom], [left, right]] = pads;
  return { batch, inHeight, inWidth, channels, top, bottom, left, right, outHeight: inHeight + top + bottom, outWidth: inWidth + left + right };
}

/**
 * Geometry of a depthwise convolution: `multiplier` filters per input channel, output channel
 * c·multiplier + m (TensorFlow's order). `outChannels` is inChannels·multiplier.
 */
export function depthwiseConv2dInfo(
  inShape: readonly [number, number, number, number],
  filter: [number, number],
  multiplier: number,
  ...window: WindowArgs
): Conv2DInfo {
  return conv2dInfo(inShape, filter, inShape[3] * multiplier, ...window);
}

/** What conv2dInfo takes after the channel count, so that its wrappers pass it on unchanged. */
type WindowArgs = [strides: [number, number], padding: Padding, dilations?: [number, number]];
