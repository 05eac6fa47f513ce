import { decodeImage, detectImageFormat, ImageDecodeError, type RawImage } from './decode.js';
import { prepareImage, type LoadImageOptions } from './load.js';
import { convertColorMode, resizeImage } from './resize.js';

/**
 * Which decoder reads the files: `'sharp'` (libvips and mozjpeg, native; an optional
 * dependency), `'js'` (jpeg-js and pngjs, pure JavaScript), or `'auto'` (sharp when it loads,
 * otherwise js).
 */
export type ImageDecoder = 'auto' | 'sharp' | 'js';

/** The part of sharp's API used here; sharp is never imported for its types, so tscnn builds without it. */
interface SharpInstance {
  resize(width: number, height: number, options: { fit: 'fill'; kernel: 'linear' | 'nearest'; fastShrinkOnLoad: boolean }): SharpInstance;
  removeAlpha(): SharpInstance;
  toColourspace(space: 'srgb'): SharpInstance;
  raw(options: { depth: 'uchar' }): SharpInstance;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
}
/** sharp's default export. */
export interface SharpModule {
  (input: Uint8Array, options?: { failOn?: 'none' | 'truncated' | 'error' | 'warning' }): SharpInstance;
  concurrency(threads?: number): number;
  cache(options: boolean): unknown;
  versions: { vips: string; sharp?: string };
}

const SHARP_SPECIFIER = 'sharp';

/**
 * How sharp is imported. Tests replace `load` to simulate a machine where sharp is not
 * installed; not part of the public API.
 */
export const sharpImport = {
  load: async (): Promise<SharpModule> => {
    // A variable specifier keeps bundlers and the type checker from resolving the optional package.
    const mod = (await import(SHARP_SPECIFIER)) as { default: SharpModule };
    return mod.default;
  },
};

let loaded: Promise<SharpModule | Error> | undefined;

/** sharp, or the error that kept it from loading; imported once, on first use. */
export function loadSharp(): Promise<SharpModule | Error> {
  loaded ??= sharpImport.load().then(
    (m) => m,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  return loaded;
}

/** Forgets the result of {@link loadSharp}, so that the next call imports again (tests). */
export function resetSharp(): void {
  loaded = undefined;
}

/** Throws naming `fn` unless `decoder` is one of 'auto', 'sharp', 'js'. */
export function checkDecoder(fn: string, decoder: unknown): asserts decoder is ImageDecoder {
  if (decoder !== 'auto' && decoder !== 'sharp' && decoder !== 'js') {
    throw new Error(`${fn}: unknown decoder '${String(decoder)}'; expected 'auto', 'sharp' or 'js'`);
  }
}

/**
 * The decoder that `decoder` means on this machine: 'auto' is 'sharp' when sharp loads and
 * 'js' otherwise; 'sharp' throws (naming `fn`, the install command and the load error) when
 * sharp cannot be loaded.
 *
 * @example
 * await resolveDecoder('loadImage', 'auto'); // 'sharp' where `npm install sharp` worked
 */
export async function resolveDecoder(fn: string, decoder: ImageDecoder = 'auto'): Promise<'sharp' | 'js'> {
  checkDecoder(fn, decoder);
  if (decoder === 'js') return 'js';
  const sharp = await loadSharp();
  if (!(sharp instanceof Error)) return 'sharp';
  if (decoder === 'auto') return 'js';
  throw new Error(`${fn}: decoder 'sharp' needs the optional package sharp, which did not load (${sharp.message.split('\n')[0]}); install it with \`npm install sharp\`, or pass decoder: 'js' or 'auto'`);
}

/**
 * Decodes and resizes with sharp. Bilinear and nearest resizing run inside libvips (kernels
 * 'linear' and 'nearest', stretched to the target as Keras does, no crop), and when the
 * target is at most half the source on both axes, JPEG decoding itself runs at 1/2, 1/4 or
 * 1/8 scale (DCT scaling, "shrink-on-load"), so that most pixels are never decoded at full
 * size. 'area' and colour conversion to grayscale run in JavaScript on sharp's pixels, as on
 * jpeg-js's. Only PNG and JPEG are accepted, as by the js decoder.
 */
async function decodeWithSharp(sharp: SharpModule, bytes: Uint8Array, path: string, options: LoadImageOptions): Promise<RawImage<Uint8Array | Float32Array>> {
  const { targetSize, colorMode = 'rgb', interpolation = 'bilinear' } = options;
  if (!detectImageFormat(bytes)) decodeImage(bytes, path); // throws the js decoder's reason for a non-image
  let pipeline = sharp(bytes, { failOn: 'warning' }).removeAlpha().toColourspace('srgb');
  const inLibvips = targetSize !== undefined && interpolation !== 'area';
  if (inLibvips) {
    pipeline = pipeline.resize(targetSize[1], targetSize[0], { fit: 'fill', kernel: interpolation === 'nearest' ? 'nearest' : 'linear', fastShrinkOnLoad: true });
  }
  let out;
  try {
    out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    // A bad file gets the same reason from both decoders: the js decoder names it when it
    // fails too; sharp's own message is kept for what only sharp rejects.
    decodeImage(bytes, path);
    throw new ImageDecodeError(path, `invalid image (sharp): ${e instanceof Error ? e.message : String(e)}`);
  }
  const { width, height, channels } = out.info;
  if (channels !== 3) throw new ImageDecodeError(path, `sharp returned ${channels} channels, expected 3`);
  const rgb: RawImage = { width, height, channels: 3, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength) };
  const converted = convertColorMode(rgb, colorMode);
  return targetSize && !inLibvips ? resizeImage(converted, targetSize, interpolation) : converted;
}

/**
 * {@link prepareImage} with a choice of decoder: the encoded bytes of a PNG or JPEG file,
 * converted to `colorMode` and resized to `targetSize`. `decoder` must already be resolved
 * (see {@link resolveDecoder}). sharp's pixels are whole numbers (uint8); the js decoder's
 * resized pixels are floats.
 *
 * @example
 * const img = await prepareImageWith('sharp', bytes, 'cat.1.jpg', { targetSize: [100, 100] });
 */
export async function prepareImageWith(decoder: 'sharp' | 'js', bytes: Uint8Array, path: string, options: LoadImageOptions = {}): Promise<RawImage<Uint8Array | Float32Array>> {
  if (decoder === 'js') return prepareImage(bytes, path, options);
  const sharp = await loadSharp();
  if (sharp instanceof Error) throw new Error(`prepareImageWith: sharp did not load (${sharp.message.split('\n')[0]})`);
  return decodeWithSharp(sharp, bytes, path, options);
}
