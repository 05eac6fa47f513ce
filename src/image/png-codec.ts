// PNG through pngjs (pure JavaScript over Node's zlib and stream). The browser bundle takes
// png-codec.browser.ts in its place (tsup.config.ts): pages decode PNGs with their own decoder
// (createImageBitmap, from-pixels.ts), which is asynchronous.
import { PNG } from 'pngjs';

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

/** Encodes RGBA bytes as an 8-bit RGB PNG (alpha dropped). `user` is the public function, for errors elsewhere. */
export function writePng(width: number, height: number, rgba: Uint8Array, _user: string): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}
