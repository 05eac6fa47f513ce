// One pixel budget for every decoder, checked from the file's header before any pixel memory
// is allocated: a 179-byte PNG can claim 31,000 × 31,000 pixels (12 GB of RGBA), and pngjs
// and jpeg-js allocate what the header says before they find out that the data is missing.
import type { FileHandle } from 'node:fs/promises';
import { inflateImageData } from './png-codec.js';

/**
 * Most pixels (width × height) an image may have: PIL's `MAX_IMAGE_PIXELS`
 * (89,478,485, about 9,459 × 9,459, from 1024 · 1024 · 1024 / 4 / 3). Larger images are refused
 * from their header, before decoding.
 */
export const MAX_IMAGE_PIXELS = 89_478_485;

/** Image size read from a header. */
export interface HeaderSize {
  width: number;
  height: number;
}

/**
 * Throws a reason string when `width × height` is empty or over {@link MAX_IMAGE_PIXELS}.
 * `format` names the source (`'PNG'`, `'JPEG'`); `claim` how it states the size.
 */
export function checkPixelBudget(width: number, height: number, format: string, claim = `${format} header claims`): void {
  if (!(width > 0 && height > 0)) throw `${format} header gives an empty image size ${width}×${height}`;
  const pixels = width * height;
  if (pixels > MAX_IMAGE_PIXELS) {
    throw `${claim} ${width}×${height} = ${pixels.toLocaleString('en-US')} pixels, over the limit of ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} (a decompression bomb, or an image to downscale before use)`;
  }
}

const readU32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const chunkType = (b: Uint8Array, at: number): string => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/** Channels per PNG colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** PNG IHDR fields; throws a reason string when the first chunk is not a valid IHDR. */
export function pngHeader(bytes: Uint8Array): HeaderSize & { bitDepth: number; colorType: number; interlace: number } {
  if (bytes.length < 33) throw 'truncated PNG: the file ends inside the header';
  if (readU32(bytes, 8) !== 13 || chunkType(bytes, 12) !== 'IHDR') throw 'corrupt PNG: the first chunk is not a 13-byte IHDR';
  const width = readU32(bytes, 16);
  const height = readU32(bytes, 20);
  const bitDepth = bytes[24];
  const colorType = bytes[25];
  const interlace = bytes[28];
  if (!(colorType in PNG_CHANNELS) || !PNG_DEPTHS[colorType].includes(bitDepth)) throw `corrupt PNG: colour type ${colorType} with bit depth ${bitDepth}`;
  if (interlace > 1) throw `corrupt PNG: interlace method ${interlace}`;
  return { width, height, bitDepth, colorType, interlace };
}

/** Bytes the PNG's image data must inflate to: per row a filter byte and the packed pixels, per Adam7 pass when interlaced. */
function pngRawSize(h: ReturnType<typeof pngHeader>): number {
  const bits = PNG_CHANNELS[h.colorType] * h.bitDepth;
  const rows = (w: number, n: number): number => (w > 0 && n > 0 ? n * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (!h.interlace) return rows(h.width, h.height);
  // Adam7: pass p covers columns x0, x0 + dx, … and rows y0, y0 + dy, …
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) total += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  return total;
}

/**
 * Checks a whole PNG before it is decoded: the pixel budget from IHDR, the chunk lengths, and
 * that the image data inflates to exactly the size the header implies (pngjs accepts short
 * data and fills the rest of the image with whatever its buffers held, and inflates
 * interlaced images without a size limit). Throws a reason string.
 */
export function checkPng(bytes: Uint8Array): HeaderSize {
  const header = pngHeader(bytes);
  checkPixelBudget(header.width, header.height, 'PNG');
  const parts: Uint8Array[] = [];
  let pos = 8;
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const length = readU32(bytes, pos);
    const type = chunkType(bytes, pos + 4);
    if (length > bytes.length - pos - 12) throw `truncated PNG: chunk ${JSON.stringify(type)} at byte ${pos} declares ${length} bytes, the file has ${bytes.length - pos - 12} left`;
    if (type === 'IDAT') parts.push(bytes.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
    if (type === 'IEND') {
      ended = true;
      break;
    }
  }
  if (!ended) throw 'truncated PNG: no IEND chunk';
  if (parts.length === 0) throw 'corrupt PNG: no image data (IDAT)';
  const expected = pngRawSize(header);
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
  let raw: Uint8Array | null;
  try {
    raw = inflateImageData(joined, expected + 1);
  } catch (e) {
    throw `corrupt PNG: the image data does not inflate (${(e as Error).message})`;
  }
  if (raw === null) throw `corrupt PNG: the image data inflates to more than the ${expected.toLocaleString('en-US')} bytes its ${header.width}×${header.height} header implies`;
  if (raw.length !== expected) {
    throw `corrupt PNG: the image data inflates to ${raw.length.toLocaleString('en-US')} bytes, the ${header.width}×${header.height} header needs ${expected.toLocaleString('en-US')} (truncated or forged image data)`;
  }
  return header;
}

/**
 * The frame size of a JPEG from its first SOF segment, walking the segments of `bytes` (a
 * whole file or a prefix); `undefined` when the prefix ends before the frame header.
 */
export function jpegFrameSize(bytes: Uint8Array): HeaderSize | undefined {
  let pos = 2;
  while (pos + 9 < bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: (bytes[pos + 5] << 8) | bytes[pos + 6], width: (bytes[pos + 7] << 8) | bytes[pos + 8] };
    if (marker === 0xda) return undefined;
    pos += 2 + ((bytes[pos + 2] << 8) | bytes[pos + 3]);
  }
  return undefined;
}

/**
 * Checks the pixel budget of an open image file from its header with a few small reads (the
 * PNG IHDR is in `head`; JPEG segments are skipped by their lengths up to the frame header).
 * Throws a reason string; returns silently when the header cannot be found (the full decode
 * checks again).
 */
export async function checkFileBudget(handle: FileHandle, format: 'png' | 'jpeg', head: Uint8Array, size: number): Promise<void> {
  if (format === 'png') {
    const h = pngHeader(head);
    checkPixelBudget(h.width, h.height, 'PNG');
    return;
  }
  const seg = new Uint8Array(10);
  let pos = 2;
  for (let i = 0; i < 4096 && pos + 10 <= size; i++) {
    await handle.read(seg, 0, 10, pos);
    if (seg[0] !== 0xff) return;
    if (seg[1] === 0xff) {
      pos++;
      continue;
    }
    const found = jpegFrameSize(Uint8Array.of(0xff, 0xd8, ...seg));
    if (found) {
      checkPixelBudget(found.width, found.height, 'JPEG');
      return;
    }
    if (seg[1] === 0xda) return;
    pos += 2 + ((seg[2] << 8) | seg[3]);
  }
}
