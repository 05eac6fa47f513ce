// PNG through pngjs (pure JavaScript over Node's zlib and stream). The browser bundle takes
// png-codec.browser.ts in its place (tsup.config.ts): pages decode PNGs with their own decoder
// (createImageBitmap, from-pixels.ts), which is asynchronous.
import { PNG } from 'pngjs';
import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { inflateSync } = lazyFunctions('node:zlib', ['inflateSync'], 'decodeImage');

/** A decoded PNG: RGBA bytes, and whether the file had no colour (gray or gray + alpha). */
export interface DecodedPng {
  width: number;
  height: number;
  rgba: Uint8Array;
  gray: boolean;
}

/** Decodes PNG bytes (any bit depth and colour type) to RGBA. Throws pngjs' error for a bad file. */
export function readPng(bytes: Uint8Array): DecodedPng {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  // colorType 0 (gray) and 4 (gray + alpha) have no colour; palette images (3) are colour.
  return { width: png.width, height: png.height, rgba: png.data, gray: png.colorType === 0 || png.colorType === 4 };
}

/**
 * Inflates a PNG's joined IDAT data (zlib) to at most `limit` bytes: null when it holds more (the
 * inflation stops there). Throws the inflater's error for data that is not zlib.
 */
export function inflateImageData(data: Uint8Array, limit: number): Uint8Array | null {
  try {
    return inflateSync(data, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
    throw e;
  }
}

/** Encodes RGBA bytes as an 8-bit RGB PNG (alpha dropped). `user` is the public function, for errors elsewhere. */
export function writePng(width: number, height: number, rgba: Uint8Array, _user: string): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}
