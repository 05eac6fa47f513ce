// Images a page holds, as tensors (TF.js' tf.browser.fromPixels): ImageData, Blob and File
// (JPEG through jpeg-js as in Node; other formats through the browser's own decoder,
// createImageBitmap), ImageBitmap, HTMLImageElement and canvases (drawn on an OffscreenCanvas).
// The browser decodes PNG here rather than a bundled pure-JS decoder: it is native, handles every
// PNG variant, and keeps inflate code out of the bundle; 8-bit PNGs without colour chunks decode
// to the same bytes as pngjs (test/browser.test.ts checks).
import { tensor, type Tensor3D } from '../tensor.js';
import { decodeImage, detectImageFormat, type RawImage } from './decode.js';
import { convertColorMode, resizeImage, type ColorMode, type Interpolation } from './resize.js';
import { checkPixelBudget } from './pixel-budget.js';

/** Pixels as in ImageData: RGBA bytes, row-major. */
export interface ImageDataLike {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}
/** A Blob or File (only what is read here). */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** Something a 2D canvas can draw: ImageBitmap, HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, VideoFrame. */
export interface DrawableImage {
  readonly width: number;
  readonly height: number;
}
/** What {@link fromPixels} takes. */
export type PixelSource = ImageDataLike | BlobLike | DrawableImage;

/** Options of {@link fromPixels}: as loadImage's. */
export interface FromPixelsOptions {
  targetSize?: readonly [number, number];
  colorMode?: ColorMode;
  interpolation?: Interpolation;
}

interface Canvas2D {
  drawImage(image: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): ImageDataLike;
}
interface PageGlobals {
  OffscreenCanvas?: new (w: number, h: number) => { getContext(kind: '2d', o?: object): Canvas2D | null };
  createImageBitmap?: (source: unknown, options?: object) => Promise<DrawableImage & { close(): void }>;
}
const page = globalThis as unknown as PageGlobals;

const isImageData = (s: object): s is ImageDataLike => 'data' in s && (s.data instanceof Uint8ClampedArray || s.data instanceof Uint8Array);
const isBlob = (s: object): s is BlobLike => typeof (s as BlobLike).arrayBuffer === 'function' && typeof (s as BlobLike).type === 'string';

function rgbaToRgb({ width, height, data }: ImageDataLike, what: string): RawImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || data.length !== width * height * 4) {
    throw new Error(`fromPixels: ${what} of ${width}×${height} must hold ${width * height * 4} RGBA bytes, got ${data.length}`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, n = width * height; i < n; i++) {
    out[3 * i] = data[4 * i];
    out[3 * i + 1] = data[4 * i + 1];
    out[3 * i + 2] = data[4 * i + 2];
  }
  return { width, height, channels: 3, data: out };
}

function draw(image: DrawableImage, what: string): RawImage {
  const { width, height } = image;
  if (!(width > 0 && height > 0)) throw new Error(`fromPixels: ${what} has no pixels (${width}×${height}; an <img> must have loaded)`);
  try {
    checkPixelBudget(width, height, what, `${what} is`);
  } catch (reason) {
    throw new Error(`fromPixels: ${String(reason)}`);
  }
  if (!page.OffscreenCanvas) throw new Error(`fromPixels: ${what} needs a browser (OffscreenCanvas) to read its pixels`);
  const ctx = new page.OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('fromPixels: this browser gives no 2D context on an OffscreenCanvas');
  ctx.drawImage(image, 0, 0);
  return rgbaToRgb(ctx.getImageData(0, 0, width, height), what);
}

/**
 * Pixels from a page's image as a `[height, width, channels]` tensor of 0–255 values (alpha
 * dropped), resized and converted like {@link loadImage}. Under Node a Blob of PNG or JPEG bytes
 * works too (pngjs, jpeg-js).
 * @example
 * const x = await fromPixels(fileInput.files[0], { targetSize: [64, 64] }); // Tensor3D [64, 64, 3]
 */
export async function fromPixels(source: PixelSource, options: FromPixelsOptions = {}): Promise<Tensor3D> {
  const raw = await rawPixels(source);
  const { targetSize, colorMode = 'rgb', interpolation = 'bilinear' } = options;
  const converted = convertColorMode(raw, colorMode);
  const img = targetSize ? resizeImage(converted, targetSize, interpolation) : converted;
  return tensor(img.data, [img.height, img.width, img.channels]);
}

async function rawPixels(source: PixelSource): Promise<RawImage> {
  if (typeof source !== 'object' || source === null) throw new Error(`fromPixels: expected ImageData, a Blob or File, an ImageBitmap or an <img>, got ${String(source)}`);
  if (isImageData(source)) return rgbaToRgb(source, 'ImageData');
  if (isBlob(source)) {
    const name = (source as { name?: string }).name ?? 'Blob';
    const bytes = new Uint8Array(await source.arrayBuffer());
    const format = detectImageFormat(bytes);
    if (format === 'jpeg' || !page.createImageBitmap) return decodeImage(bytes, name) as RawImage;
    let bitmap: DrawableImage & { close(): void };
    try {
      bitmap = await page.createImageBitmap(source, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch (e) {
      throw new Error(`fromPixels: cannot decode ${name} (${source.type || 'no type'}, ${bytes.length} bytes): ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      return draw(bitmap, name);
    } finally {
      bitmap.close();
    }
  }
  const natural = source as { naturalWidth?: number; naturalHeight?: number; complete?: boolean };
  if (natural.naturalWidth !== undefined && (natural.complete === false || natural.naturalWidth === 0)) {
    throw new Error('fromPixels: the <img> has not loaded yet (await img.decode() first)');
  }
  return draw(source, (source as object).constructor?.name ?? 'image');
}
