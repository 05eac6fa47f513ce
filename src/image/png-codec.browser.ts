// PNG in the browser bundle, in place of png-codec.ts (pngjs needs Node's zlib and stream). A page
// decodes PNGs with the browser's own decoder, asynchronously: loadImage(blob) / fromPixels
// (from-pixels.ts), which hand JPEGs to jpeg-js and everything else to createImageBitmap.
import type { DecodedPng } from './png-codec.js';

export type { DecodedPng } from './png-codec.js';

/** Refuses: synchronous PNG decoding is not in the browser build. */
export function readPng(_bytes: Uint8Array): DecodedPng {
  throw 'PNG bytes are decoded in a browser by its own decoder: use `await loadImage(new Blob([bytes]))` or `await fromPixels(blob)`';
}

/** Refuses: PNG encoding is not in the browser build. */
export function writePng(_width: number, _height: number, _rgba: Uint8Array, user: string): Uint8Array {
  throw new Error(`${user}: PNG encoding needs pngjs, which the browser build leaves out; use format 'jpeg' (jpeg-js runs anywhere)`);
}
