// The browser bundle's synchronous PNG decoder (src/image/png-codec.browser.ts: fflate's inflate and
// the PNG format by hand) against pngjs, which Node uses: the same RGBA bytes for every colour type,
// bit depth, filter, tRNS and Adam7 interlacing; bad files throw. Runs in Node (the decoder needs no
// browser); test/browser-io.test.ts checks decodeImage in Chromium.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG, type ColorType } from 'pngjs';
import { inflateImageData, readPng } from '../src/image/png-codec.browser.js';
import { inflateImageData as inflateNode, readPng as readPngjs } from '../src/image/png-codec.js';
import { randomArray } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures');

function same(bytes: Uint8Array, what: string): void {
  const want = readPngjs(bytes);
  const got = readPng(bytes);
  assert.equal([got.width, got.height, got.gray], [want.width, want.height, want.gray], `${what}: size and gray`);
  const bad = got.rgba.findIndex((v, i) => v !== want.rgba[i]);
  assert.ok(bad < 0, `${what}: byte ${bad} is ${got.rgba[bad]}, pngjs ${want.rgba[bad]}`);
  assert.is(got.rgba.length, want.rgba.length, `${what}: length`);
}

/** Random 16-bit samples for a w×h image of `channels`. */
function samples(w: number, h: number, channels: number, seed: number): Uint16Array {
  return Uint16Array.from(randomArray(w * h * channels, seed, 0, 65536), (v) => Math.floor(v));
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  let c = 0xffffffff;
  for (const b of out.subarray(4, 8 + body.length)) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + body.length);
  return out;
}

/**
 * A PNG written here (pngjs writes neither low bit depths, nor Adam7, nor tRNS): `values` are samples
 * already in 0..2^depth−1, row after row, filter type 0 (pngjs' files cover the other filters).
 */
function encode(o: { w: number; h: number; colorType: number; depth: number; interlace: boolean; values: ArrayLike<number>; plte?: Uint8Array; trns?: Uint8Array }): Uint8Array {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[o.colorType] ?? 0;
  const passes = o.interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
    : [[0, 0, 1, 1]];
  const raw: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((o.w - x0) / dx);
    const ph = Math.ceil((o.h - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    for (let y = 0; y < ph; y++) {
      raw.push(0);
      let acc = 0;
      let bits = 0;
      for (let x = 0; x < pw; x++) {
        for (let s = 0; s < channels; s++) {
          const v = o.values[((y0 + y * dy) * o.w + x0 + x * dx) * channels + s];
          if (o.depth === 16) raw.push(v >> 8, v & 255);
          else if (o.depth === 8) raw.push(v);
          else {
            acc = (acc << o.depth) | v;
            bits += o.depth;
            if (bits === 8) [acc, bits] = [raw.push(acc) && 0, 0];
          }
        }
      }
      if (bits > 0) raw.push(acc << (8 - bits));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.w, 0);
  ihdr.writeUInt32BE(o.h, 4);
  ihdr.set([o.depth, o.colorType, 0, 0, o.interlace ? 1 : 0], 8);
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (o.plte) parts.push(chunk('PLTE', o.plte));
  if (o.trns) parts.push(chunk('tRNS', o.trns));
  parts.push(chunk('IDAT', deflateSync(Uint8Array.from(raw))), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

test('the fixtures (gray, gray 16-bit, gray + alpha, palette, RGB, RGB 16-bit, RGBA) decode to pngjs\' bytes', () => {
  for (const name of ['gray.png', 'gray16.png', 'graya.png', 'palette.png', 'rgb.png', 'rgb16.png', 'rgba.png']) same(readFileSync(join(fixtures, name)), name);
});

test('pngjs-written 13×7 images, every colour type at 8 and 16 bits, each filter type and adaptive, decode to its bytes', () => {
  let seed = 1;
  for (const colorType of [0, 2, 4, 6] as ColorType[]) {
    for (const [bitDepth, filterType] of [[8, -1], [16, -1], [8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [16, 4]] as const) {
      const png = new PNG({ width: 13, height: 7, colorType, inputColorType: 6, bitDepth, inputHasAlpha: true });
      const s = samples(13, 7, 4, seed++);
      // 16-bit input: pngjs reads the buffer's whole ArrayBuffer as host-endian Uint16.
      png.data = bitDepth === 16 ? Buffer.from(s.buffer) : Buffer.from(Uint8Array.from(s, (v) => v >> 8));
      same(PNG.sync.write(png, { colorType, inputColorType: 6, bitDepth, inputHasAlpha: true, filterType }), `colorType ${colorType} depth ${bitDepth} filter ${filterType}`);
    }
  }
});

test('low bit depths (gray 1/2/4, palette 1/2/4/8), Adam7 interlacing and tRNS decode to pngjs\' bytes', () => {
  let seed = 100;
  for (const [w, h] of [[1, 1], [3, 2], [13, 9], [17, 8]]) {
    for (const interlace of [false, true]) {
      for (const depth of [1, 2, 4, 8, 16]) {
        const gray = Array.from(samples(w, h, 1, seed++), (v) => v % (1 << depth));
        same(encode({ w, h, colorType: 0, depth, interlace, values: gray }), `gray ${w}×${h} depth ${depth} interlace ${interlace}`);
        // tRNS: pixels of this gray value decode as all 0.
        const t = gray[0];
        same(encode({ w, h, colorType: 0, depth, interlace, values: gray, trns: Uint8Array.of(t >> 8, t & 255) }), `gray tRNS ${w}×${h} depth ${depth}`);
        if (depth === 16) continue;
        const entries = Math.min(1 << depth, 7);
        const plte = Uint8Array.from(randomArray(3 * entries, seed++, 0, 256), Math.floor);
        const index = Array.from(samples(w, h, 1, seed++), (v) => v % entries);
        same(encode({ w, h, colorType: 3, depth, interlace, values: index, plte, trns: Uint8Array.of(0, 128) }), `palette ${w}×${h} depth ${depth} interlace ${interlace}`);
      }
      for (const depth of [8, 16]) {
        const rgb = Array.from(samples(w, h, 3, seed++), (v) => (depth === 8 ? v >> 8 : v));
        const trns = depth === 8 ? Uint8Array.of(0, rgb[0], 0, rgb[1], 0, rgb[2]) : Uint8Array.of(rgb[0] >> 8, rgb[0] & 255, rgb[1] >> 8, rgb[1] & 255, rgb[2] >> 8, rgb[2] & 255);
        same(encode({ w, h, colorType: 2, depth, interlace, values: rgb, trns }), `RGB tRNS ${w}×${h} depth ${depth} interlace ${interlace}`);
        const ga = Array.from(samples(w, h, 2, seed++), (v) => (depth === 8 ? v >> 8 : v));
        same(encode({ w, h, colorType: 4, depth, interlace, values: ga }), `gray+alpha ${w}×${h} depth ${depth} interlace ${interlace}`);
      }
    }
  }
});

/** What `f` throws (the decoder throws strings, as decode.ts' decoders do), or 'no error'. */
function thrown(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

test('bad PNGs throw: CRC error, truncation, palette index out of range, no palette, bad depth', () => {
  const good = encode({ w: 4, h: 4, colorType: 0, depth: 8, interlace: false, values: new Array(16).fill(9) });
  const crc = Uint8Array.from(good);
  crc[20] ^= 1;
  assert.match(thrown(() => readPng(crc)), /CRC error in chunk IHDR/);
  assert.match(thrown(() => readPng(good.subarray(0, good.length - 20))), /truncated PNG/);
  const plte = Uint8Array.of(1, 2, 3, 4, 5, 6);
  assert.match(thrown(() => readPng(encode({ w: 2, h: 1, colorType: 3, depth: 8, interlace: false, values: [0, 5], plte }))), /index 5 not in palette/);
  assert.match(thrown(() => readPng(encode({ w: 2, h: 1, colorType: 3, depth: 8, interlace: false, values: [0, 1] }))), /expected palette not found/);
  assert.match(thrown(() => readPng(encode({ w: 2, h: 1, colorType: 2, depth: 4, interlace: false, values: [0, 1, 2, 3, 4, 5] }))), /bit depth 4 with colour type 2/);
});

test('inflateImageData stops at its limit as Node\'s zlib does (the pixel budget\'s bomb check)', () => {
  const data = deflateSync(new Uint8Array(100_000).fill(7));
  for (const inflate of [inflateImageData, inflateNode]) {
    assert.is(inflate(data, 99_999), null);
    assert.is(inflate(data, 100_000)?.length, 100_000);
    assert.is(inflate(data, 200_000)?.length, 100_000);
    assert.match(thrown(() => inflate(Uint8Array.of(1, 2, 3, 4, 5), 10)), /./);
  }
});

test.run();
