// PNG in the browser bundle, in place of png-codec.ts (pngjs needs Node's zlib, stream and Buffer).
// Decoding is synchronous, as decodeImage is: fflate's inflate (pure JavaScript, bundled in) and the
// PNG format itself below, giving pngjs' exact RGBA bytes (its depth scaling and tRNS handling), so
// a PNG decodes to the same pixels in a page as in Node. Pages may still prefer the browser's own
// decoder (asynchronous: loadImage(blob) / fromPixels, from-pixels.ts).
import { unzlibSync } from 'fflate';
import type { DecodedPng } from './png-codec.js';

export type { DecodedPng } from './png-codec.js';

/** Channels per pixel by colour type: 0 gray, 2 RGB, 3 palette index, 4 gray + alpha, 6 RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

// Adam7 passes: first column and row, and steps.
const PASSES = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

let crcTable: Uint32Array | null = null;

function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
}

/** Undoes the scanline filters of one (sub-)image in place; returns the offset after it. */
function unfilter(data: Uint8Array, at: number, rowBytes: number, rows: number, bpp: number): number {
  let prev = -1;
  for (let y = 0; y < rows; y++) {
    if (at >= data.length) throw 'truncated PNG: the image data ends early';
    const filter = data[at];
    const row = at + 1;
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? data[row + i - bpp] : 0;
      const b = prev >= 0 ? data[prev + i] : 0;
      const c = i >= bpp && prev >= 0 ? data[prev + i - bpp] : 0;
      let add: number;
      if (filter === 0) add = 0;
      else if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else throw `invalid PNG: unrecognised filter type ${filter}`;
      data[row + i] = (data[row + i] + add) & 0xff;
    }
    prev = row;
    at = row + rowBytes;
  }
  return at;
}

/** Sample `s` of a row starting at `row`, at `depth` bits per sample. */
function sample(data: Uint8Array, row: number, s: number, depth: number): number {
  if (depth === 8) return data[row + s];
  if (depth === 16) return (data[row + 2 * s] << 8) | data[row + 2 * s + 1];
  const bit = s * depth;
  return (data[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

/**
 * Decodes PNG bytes (any bit depth, colour type and interlacing) to RGBA as pngjs' `PNG.sync.read` does:
 * samples scaled to 0–255 as floor(v·255/max + 0.5) (palettes not), pixels matching a tRNS colour all 0.
 * Throws a message for a bad file (decodeImage names the file).
 */
export function readPng(bytes: Uint8Array): DecodedPng {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let trans: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; !ended; ) {
    if (at + 12 > bytes.length) throw 'truncated PNG: no IEND chunk';
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const start = at + 8;
    const end = start + length;
    if (end + 4 > bytes.length) throw `truncated PNG: chunk ${type} of ${length} bytes runs past the end of the file`;
    if (crc32(bytes, at + 4, end) !== view.getUint32(end)) throw `invalid PNG: CRC error in chunk ${type}`;
    const body = bytes.subarray(start, end);
    if (type === 'IHDR') {
      if (length !== 13) throw `invalid PNG: IHDR of ${length} bytes`;
      header = { width: view.getUint32(start), height: view.getUint32(start + 4), depth: body[8], colorType: body[9], interlace: body[12] };
      if (!(header.colorType in CHANNELS)) throw `invalid PNG: unsupported colour type ${header.colorType}`;
      if (!DEPTHS[header.colorType].includes(header.depth)) throw `invalid PNG: bit depth ${header.depth} with colour type ${header.colorType}`;
      if (body[10] !== 0 || body[11] !== 0 || body[12] > 1) throw 'invalid PNG: unsupported compression, filter or interlace method';
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') trans = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    at = end + 4;
  }
  if (!header) throw 'invalid PNG: no IHDR chunk';
  const { width, height, depth, colorType } = header;
  if (colorType === 3 && !palette) throw 'invalid PNG: expected palette not found';
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  idat.reduce((off, c) => (joined.set(c, off), off + c.length), 0);
  let data: Uint8Array;
  try {
    data = unzlibSync(joined);
  } catch (e) {
    throw `invalid PNG: the image data does not inflate (${e instanceof Error ? e.message : String(e)})`;
  }

  const channels = CHANNELS[colorType];
  const bpp = Math.max(1, (channels * depth) >> 3);
  const max = (1 << depth) - 1;
  // tRNS of gray and RGB images: one 16-bit sample per channel (of any depth).
  const transColor = trans && (colorType === 0 || colorType === 2) ? Array.from({ length: trans.length >> 1 }, (_, i) => (trans[2 * i] << 8) | trans[2 * i + 1]) : null;
  const rgba = new Uint8Array(width * height * 4);
  const px = new Array<number>(4);
  const passes = header.interlace ? PASSES : ([[0, 0, 1, 1]] as const);
  let at = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const rowBytes = Math.ceil((w * channels * depth) / 8);
    const start = at;
    at = unfilter(data, at, rowBytes, h, bpp);
    for (let y = 0; y < h; y++) {
      const row = start + y * (rowBytes + 1) + 1;
      for (let x = 0; x < w; x++) {
        const o = 4 * ((y0 + y * dy) * width + x0 + x * dx);
        if (colorType === 3) {
          const index = sample(data, row, x, depth);
          if (3 * index + 2 >= palette!.length) throw `invalid PNG: index ${index} not in palette`;
          rgba.set(palette!.subarray(3 * index, 3 * index + 3), o);
          rgba[o + 3] = trans && index < trans.length ? trans[index] : 255;
          continue;
        }
        for (let s = 0; s < channels; s++) px[s] = sample(data, row, x * channels + s, depth);
        const transparent = transColor !== null && (channels < 3 ? transColor[0] === px[0] : transColor[0] === px[0] && transColor[1] === px[1] && transColor[2] === px[2]);
        if (transparent) continue;
        const color = channels >= 3;
        const r = px[0];
        const g = color ? px[1] : r;
        const b = color ? px[2] : r;
        const a = channels === 2 ? px[1] : channels === 4 ? px[3] : max;
        if (depth === 8) {
          rgba[o] = r;
          rgba[o + 1] = g;
          rgba[o + 2] = b;
          rgba[o + 3] = a;
        } else {
          rgba[o] = Math.floor((r * 255) / max + 0.5);
          rgba[o + 1] = Math.floor((g * 255) / max + 0.5);
          rgba[o + 2] = Math.floor((b * 255) / max + 0.5);
          rgba[o + 3] = Math.floor((a * 255) / max + 0.5);
        }
      }
    }
  }
  return { width, height, rgba, gray: colorType === 0 || colorType === 4 };
}

/**
 * Inflates a PNG's joined IDAT data (zlib) to at most `limit` bytes: null when it holds more (fflate
 * writes into a buffer of `limit + 1` bytes and stops when it is full). Throws for data that is not zlib.
 */
export function inflateImageData(data: Uint8Array, limit: number): Uint8Array | null {
  const out = unzlibSync(data, { out: new Uint8Array(limit + 1) });
  return out.length > limit ? null : out;
}

/** Refuses: PNG encoding is not in the browser build. */
export function writePng(_width: number, _height: number, _rgba: Uint8Array, user: string): Uint8Array {
  throw new Error(`${user}: PNG encoding needs pngjs, which the browser build leaves out; use format 'jpeg' (jpeg-js runs anywhere)`);
}
