import { checkOptionKeys } from '../util/options.js';
import { tensor, type Tensor3D } from '../tensor.js';
import { decodeImage, ImageDecodeError, type RawImage } from './decode.js';
import { convertColorMode, resizeImage, type ColorMode, type Interpolation } from './resize.js';
import { checkPixelBudget } from './pixel-budget.js';
import { fromPixels, type PixelSource } from './from-pixels.js';
import { prepareImageWith, resolveDecoder, type ImageDecoder } from './sharp-decoder.js';
import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { readFile } = lazyFunctions('node:fs/promises', ['readFile'], 'loadImage');

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** `[height, width]` to resize to; the original size when omitted. */
  targetSize?: readonly [number, number];
  /** Default `'rgb'` (3 channels); `'grayscale'` gives 1 channel. */
  colorMode?: ColorMode;
  /** Default `'bilinear'`; see {@link resizeImage}. */
  interpolation?: Interpolation;
  /** Default `'auto'`: sharp when it is installed, else jpeg-js/pngjs; see {@link ImageDecoder}. */
  decoder?: ImageDecoder;
}

const LOAD_KEYS = new Set(['targetSize', 'colorMode', 'interpolation', 'decoder']);

export { checkOptionKeys } from '../util/options.js';

/** A target size over the pixel budget is refused before any decoder allocates its output. */
function checkTargetBudget(targetSize: readonly [number, number] | undefined): void {
  // Sizes that are not positive integers are resizeImage's to report.
  if (!targetSize || !(targetSize[0] > 0 && targetSize[1] > 0)) return;
  try {
    checkPixelBudget(targetSize[1], targetSize[0], 'targetSize', 'targetSize asks for');
  } catch (reason) {
    throw new Error(`loadImage: ${String(reason)}`);
  }
}

/**
 * Decoded bytes → colour mode → resize, the pipeline shared by {@link loadImage} and the
 * directory datasets. Colour conversion comes first, as in Keras `load_img`.
 */
export function prepareImage(bytes: Uint8Array, path: string, options: LoadImageOptions = {}): RawImage<Uint8Array | Float32Array> {
  const { targetSize, colorMode = 'rgb', interpolation = 'bilinear' } = options;
  checkTargetBudget(targetSize);
  const converted = convertColorMode(decodeImage(bytes, path), colorMode);
  return targetSize ? resizeImage(converted, targetSize, interpolation) : converted;
}

/**
 * Reads a PNG or JPEG file into a `[height, width, channels]` tensor of 0–255 values, like
 * Keras `img_to_array(load_img(path, target_size, color_mode, interpolation))`. In a browser,
 * `path` may instead be a File, Blob, ImageBitmap, `<img>` or ImageData (see {@link fromPixels}).
 * The format comes from the file's magic bytes, not its extension. Grayscale and palette
 * images become RGB under `colorMode: 'rgb'`, alpha is dropped (not composited), 16-bit
 * PNGs are scaled to 0–255. With the js decoder resized values are not rounded to integers
 * (unlike PIL); sharp's are whole numbers. The two agree within a few levels (see README,
 * "Real photos").
 *
 * Throws {@link ImageDecodeError} (message names the path and the reason) for an
 * unreadable, truncated or non-image file.
 *
 * @example
 * const x = await loadImage('data/cats/cat.1.jpg', { targetSize: [64, 64] }); // Tensor3D [64, 64, 3]
 */
export async function loadImage(path: string | PixelSource, options: LoadImageOptions = {}): Promise<Tensor3D> {
  checkOptionKeys('loadImage', options, LOAD_KEYS);
  checkTargetBudget(options.targetSize);
  if (typeof path !== 'string') {
    const { decoder: _decoder, ...rest } = options;
    return fromPixels(path, rest);
  }
  const decoder = await resolveDecoder('loadImage', options.decoder);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ImageDecodeError(path, `unreadable: ${e instanceof Error ? e.message : String(e)}`);
  }
  const img = await prepareImageWith(decoder, bytes, path, options);
  return tensor(img.data, [img.height, img.width, img.channels]);
}
