import type { RawImage } from './decode.js';

/** Resampling filters of {@link resizeImage}, named as in Keras. */
export type Interpolation = 'bilinear' | 'nearest' | 'area';

/** Colour modes of {@link loadImage}, as in Keras `load_img`. */
export type ColorMode = 'rgb' | 'grayscale';

const INTERPOLATIONS: readonly Interpolation[] = ['bilinear', 'nearest', 'area'];

/** Source taps of one output index along one axis: `index[k]` weighted by `weight[k]`. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * Weights along one axis, with pixel centres at `i + 0.5` (half-pixel convention of PIL,
 * OpenCV and `tf.image.resize`). `scale = inSize / outSize`.
 * - nearest: the source pixel containing the output centre, `floor((o + 0.5)·scale)`.
 * - bilinear: PIL's triangle filter. Its support is widened to `scale` when shrinking, so
 *   a shrink by any factor averages every source pixel under the output pixel with tent
 *   weights (an anti-aliasing prefilter built into the interpolation); when enlarging it is
 *   plain bilinear interpolation, edges clamped.
 * - area: exact box average: each source pixel weighted by how much of it the output
 *   pixel's footprint `[o·scale, (o+1)·scale)` covers (OpenCV `INTER_AREA`, tf 'area').
 */
function axisTaps(inSize: number, outSize: number, interpolation: Interpolation): Taps {
  const scale = inSize / outSize;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const index: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < outSize; o++) {
    start[o] = index.length;
    if (interpolation === 'nearest') {
      index.push(Math.min(inSize - 1, Math.floor((o + 0.5) * scale)));
      weight.push(1);
    } else if (interpolation === 'area') {
      const lo = o * scale;
      const hi = (o + 1) * scale;
      for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
        const w = Math.min(hi, i + 1) - Math.max(lo, i);
        if (w > 1e-12) {
          index.push(i);
          weight.push(w / scale);
        }
      }
    } else {
      const support = Math.max(scale, 1);
      const center = (o + 0.5) * scale;
      const first = Math.max(0, Math.floor(center - support));
      const last = Math.min(inSize - 1, Math.ceil(center + support));
      let total = 0;
      const from = index.length;
      for (let i = first; i <= last; i++) {
        const w = 1 - Math.abs((i + 0.5 - center) / support);
        if (w > 0) {
          index.push(i);
          weight.push(w);
          total += w;
        }
      }
      for (let k = from; k < weight.length; k++) weight[k] /= total;
    }
    count[o] = index.length - start[o];
  }
  return { start, count, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/**
 * Resizes interleaved pixels to `[height, width]` with a separable filter (rows first, then
 * columns). Values are not rounded, so the result of 8-bit input is 0–255 floats.
 *
 * - `'nearest'`: nearest source pixel, no filtering (it aliases when shrinking, as in Keras).
 * - `'bilinear'` (default): PIL's `Image.resize(size, BILINEAR)`, i.e. a triangle filter
 *   whose width grows with the shrink factor, so shrinking by 2×, 10× or 100× averages the
 *   covered pixels instead of sampling them; enlarging is ordinary bilinear interpolation.
 * - `'area'`: exact area averaging (fractional pixel coverage), the mean of each block for
 *   integer factors.
 *
 * @param image source pixels `[height, width, channels]`
 * @param size target `[height, width]`
 * @example
 * const small = resizeImage(decodeImage(bytes, 'x.png'), [64, 64], 'area'); // RawImage<Float32Array>
 */
export function resizeImage(image: RawImage<Uint8Array | Float32Array>, size: readonly [number, number], interpolation: Interpolation = 'bilinear'): RawImage<Float32Array> {
  const [outH, outW] = size;
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new Error(`resizeImage: unknown interpolation '${String(interpolation)}'; expected one of ${INTERPOLATIONS.join(', ')}`);
  }
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new Error(`resizeImage: size must be two positive integers [height, width], got [${size.join(', ')}]`);
  }
  const { width: inW, height: inH, channels: c, data } = image;
  if (data.length !== inW * inH * c) {
    throw new Error(`resizeImage: ${data.length} values do not fill [${inH}, ${inW}, ${c}]`);
  }
  if (inW === outW && inH === outH) {
    return { width: outW, height: outH, channels: c, data: Float32Array.from(data) };
  }
  const tx = axisTaps(inW, outW, interpolation);
  const ty = axisTaps(inH, outH, interpolation);
  // Horizontal pass: [inH, outW, c] in float64 to keep sums exact-ish before the final float32.
  const mid = new Float64Array(inH * outW * c);
  for (let y = 0; y < inH; y++) {
    const row = y * inW * c;
    for (let ox = 0; ox < outW; ox++) {
      const s = tx.start[ox];
      const n = tx.count[ox];
      const dst = (y * outW + ox) * c;
      for (let k = s; k < s + n; k++) {
        const src = row + tx.index[k] * c;
        const w = tx.weight[k];
        for (let ch = 0; ch < c; ch++) mid[dst + ch] += w * data[src + ch];
      }
    }
  }
  const out = new Float32Array(outH * outW * c);
  const rowLen = outW * c;
  for (let oy = 0; oy < outH; oy++) {
    const s = ty.start[oy];
    const n = ty.count[oy];
    const dst = oy * rowLen;
    const acc = new Float64Array(rowLen);
    for (let k = s; k < s + n; k++) {
      const src = ty.index[k] * rowLen;
      const w = ty.weight[k];
      for (let i = 0; i < rowLen; i++) acc[i] += w * mid[src + i];
    }
    out.set(acc, dst);
  }
  return { width: outW, height: outH, channels: c, data: out };
}

/**
 * Converts pixels to the wanted colour mode: grayscale to RGB repeats the channel; RGB to
 * grayscale uses ITU-R 601-2 luma `0.299·R + 0.587·G + 0.114·B` (PIL's `convert('L')`,
 * not rounded).
 *
 * @example
 * const gray = convertColorMode(decodeImage(bytes, 'a.jpg'), 'grayscale'); // channels 1
 */
export function convertColorMode<T extends Uint8Array | Float32Array>(image: RawImage<T>, mode: ColorMode): RawImage<T | Float32Array> {
  const want = mode === 'rgb' ? 3 : mode === 'grayscale' ? 1 : undefined;
  if (want === undefined) throw new Error(`convertColorMode: unknown colorMode '${String(mode)}'; expected 'rgb' or 'grayscale'`);
  if (image.channels === want) return image;
  const n = image.width * image.height;
  const src = image.data;
  if (want === 3) {
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = src[i];
    return { width: image.width, height: image.height, channels: 3, data };
  }
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = 0.299 * src[3 * i] + 0.587 * src[3 * i + 1] + 0.114 * src[3 * i + 2];
  return { width: image.width, height: image.height, channels: 1, data };
}
