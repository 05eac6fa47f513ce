import jpeg from 'jpeg-js';
import { checkFileBudget, checkPixelBudget, checkPng, jpegFrameSize, MAX_IMAGE_PIXELS } from './pixel-budget.js';
import { lazyFunctions } from '../util/node-builtins.js';
import { readPng } from './png-codec.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { open } = lazyFunctions('node:fs/promises', ['open'], 'decodeImage');

/** Image formats tscnn decodes. */
export type ImageFormat = 'png' | 'jpeg';

/**
 * Decoded pixels, interleaved row-major `[height, width, channels]`.
 * `channels` is 1 for grayscale sources and 3 for colour ones; alpha is always dropped.
 */
export interface RawImage<T extends Uint8Array | Float32Array = Uint8Array> {
  width: number;
  height: number;
  channels: 1 | 3;
  data: T;
}

/**
 * Thrown for a file that cannot be read or decoded. `path` is the file, `reason` the cause;
 * the message contains both.
 */
export class ImageDecodeError extends Error {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`cannot decode image "${path}": ${reason}`);
    this.name = 'ImageDecodeError';
    this.path = path;
    this.reason = reason;
  }
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND = [0x49, 0x45, 0x4e, 0x44];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

function indexOfSeq(bytes: Uint8Array, seq: readonly number[], from = 0): number {
  outer: for (let i = Math.max(0, from); i <= bytes.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (bytes[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/** Names other common formats so that the error says what the file is. */
function describeUnknown(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'file is empty';
  const ascii = String.fromCharCode(...bytes.subarray(0, 12));
  if (ascii.startsWith('GIF8')) return 'GIF images are not supported (only PNG and JPEG)';
  if (ascii.startsWith('BM')) return 'BMP images are not supported (only PNG and JPEG)';
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'WebP images are not supported (only PNG and JPEG)';
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `not a PNG or JPEG file (starts with bytes ${hex})`;
}

/**
 * The format of an encoded image, from its magic bytes (never from the file name), or
 * `undefined` when it is neither PNG nor JPEG.
 *
 * @example
 * detectImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); // 'jpeg'
 */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Walks the JPEG segments up to the first scan. Returns the component count of the frame
 * header and where the entropy-coded data starts; throws a reason string on malformed data.
 */
function jpegLayout(bytes: Uint8Array): { components: number; scanStart: number } {
  let pos = 2;
  let components = 0;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw `corrupt JPEG: expected a marker at byte ${pos}`;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    if (length < 2) throw `corrupt JPEG: segment length ${length} at byte ${pos}`;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) {
        throw `unsupported JPEG coding (SOF${marker - 0xc0}); only baseline and progressive Huffman JPEGs are supported`;
      }
      if (pos + 9 >= bytes.length) break;
      components = bytes[pos + 9];
    }
    if (marker === 0xda) {
      if (components === 0) throw 'corrupt JPEG: scan before frame header';
      return { components, scanStart: pos + 2 + length };
    }
    pos += 2 + length;
  }
  throw 'truncated JPEG: the file ends before the image data';
}

function decodePng(bytes: Uint8Array): RawImage {
  checkPng(bytes);
  const { width, height, rgba, gray } = readPng(bytes);
  const channels = gray ? 1 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0, n = width * height; i < n; i++) {
    if (gray) data[i] = rgba[4 * i];
    else {
      data[3 * i] = rgba[4 * i];
      data[3 * i + 1] = rgba[4 * i + 1];
      data[3 * i + 2] = rgba[4 * i + 2];
    }
  }
  return { width, height, channels, data };
}

function decodeJpeg(bytes: Uint8Array): RawImage {
  const { components, scanStart } = jpegLayout(bytes);
  // Entropy-coded data escapes 0xFF as FF00, so FFD9 after the first scan can only be the
  // end-of-image marker; without it the file was cut short (libjpeg calls this "premature
  // end of JPEG file", and jpeg-js would silently return grey blocks).
  if (indexOfSeq(bytes, [0xff, 0xd9], scanStart) < 0) throw 'truncated JPEG: no end-of-image marker (FFD9) after the image data';
  const size = jpegFrameSize(bytes);
  if (size) checkPixelBudget(size.width, size.height, 'JPEG');
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
  const { width, height, data: rgba } = img;
  const channels = components === 1 ? 1 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0, n = width * height; i < n; i++) {
    if (channels === 1) data[i] = rgba[4 * i];
    else {
      data[3 * i] = rgba[4 * i];
      data[3 * i + 1] = rgba[4 * i + 1];
      data[3 * i + 2] = rgba[4 * i + 2];
    }
  }
  return { width, height, channels, data };
}

/**
 * Decodes PNG or JPEG bytes (format from magic bytes). PNG: grayscale, palette, RGB, any
 * bit depth (16-bit scaled to 0–255 as round(v·255/65535)), alpha dropped. JPEG: baseline
 * and progressive, grayscale or colour. Throws {@link ImageDecodeError} naming `name`.
 *
 * @param bytes the encoded file
 * @param name the file path or a label used in error messages
 * @returns interleaved 8-bit pixels `[height, width, channels]`, channels 1 or 3
 * @example
 * const img = decodeImage(readFileSync('cat.png'), 'cat.png'); // { width, height, channels: 3, data }
 */
export function decodeImage(bytes: Uint8Array, name: string): RawImage {
  const format = detectImageFormat(bytes);
  if (!format) throw new ImageDecodeError(name, describeUnknown(bytes));
  try {
    const img = format === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
    if (img.width <= 0 || img.height <= 0) throw `image has size ${img.width}×${img.height}`;
    return img;
  } catch (e) {
    const reason = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    const prefix = typeof e === 'string' ? '' : `invalid ${format === 'png' ? 'PNG' : 'JPEG'}: `;
    throw new ImageDecodeError(name, prefix + reason);
  }
}

/** Outcome of {@link checkImageFile}: `ok`, `bad` with a reason, or `unsure` (needs a full decode). */
export type ImageCheck = { status: 'ok'; format: ImageFormat } | { status: 'bad'; reason: string } | { status: 'unsure'; format: ImageFormat };

const CHECK_TAIL = 1024;

/**
 * A cheap validity check that reads only the first 64 and last 1024 bytes of a file: the
 * magic bytes must be PNG or JPEG, and the end-of-file marker (PNG `IEND`, JPEG `FFD9`)
 * must sit in the tail. A file failing the magic test is `bad`; a missing end marker gives
 * `unsure` (a truncated file, or one with a large trailer such as a motion photo), which
 * the caller confirms with a full {@link decodeImage}.
 *
 * @example
 * const check = await checkImageFile('data/cats/cat.1.jpg'); // { status: 'ok', format: 'jpeg' }
 */
export async function checkImageFile(path: string): Promise<ImageCheck> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(64, size));
    await handle.read(head, 0, head.length, 0);
    const format = detectImageFormat(head);
    if (!format) return { status: 'bad', reason: describeUnknown(head) };
    try {
      await checkFileBudget(handle, format, head, size);
    } catch (reason) {
      if (typeof reason !== 'string') throw reason;
      return { status: 'bad', reason };
    }
    const tailLength = Math.min(CHECK_TAIL, size);
    const tail = new Uint8Array(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    const end = format === 'png' ? IEND : [0xff, 0xd9];
    return indexOfSeq(tail, end) >= 0 ? { status: 'ok', format } : { status: 'unsure', format };
  } catch (e) {
    return { status: 'bad', reason: `unreadable: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    await handle?.close();
  }
}
