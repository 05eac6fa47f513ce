import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { checkImageFile, convertColorMode, decodeImage, detectImageFormat, loadImage, resizeImage, type RawImage } from '../src/image/index.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): Uint8Array => readFileSync(join(fixtures, name));
const tmp = mkdtempSync(join(tmpdir(), 'tscnn-image-'));

function pixel(img: RawImage<Uint8Array | Float32Array>, x: number, y: number): number[] {
  const i = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(i, i + img.channels));
}

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = ''): void {
  assert.is(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (err > atol + rtol * Math.abs(expected[i])) assert.unreachable(`${what} index ${i}: ${actual[i]} vs ${expected[i]} (error ${err})`);
  }
}

const gray = (width: number, height: number, values: number[]): RawImage => ({ width, height, channels: 1, data: Uint8Array.from(values) });

test('decode 2x2 RGB PNG', () => {
  const img = decodeImage(fixture('rgb.png'), 'rgb.png');
  assert.equal([img.width, img.height, img.channels], [2, 2, 3]);
  assert.equal(Array.from(img.data), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
});

test('decode 2x2 palette PNG (colour type 3) to RGB', () => {
  const png = fixture('palette.png');
  assert.is(png[25], 3, 'fixture is a palette PNG');
  const img = decodeImage(png, 'palette.png');
  assert.is(img.channels, 3);
  assert.equal(Array.from(img.data), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
});

test('decode 2x2 RGBA PNG drops alpha without compositing', () => {
  const png = fixture('rgba.png');
  assert.is(png[25], 6, 'fixture is an RGBA PNG');
  const img = decodeImage(png, 'rgba.png');
  assert.equal(Array.from(img.data), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
});

test('decode 2x2 grayscale PNGs: 8-bit, gray+alpha, 16-bit scaled round(v*255/65535)', () => {
  for (const [name, type, depth] of [['gray.png', 0, 8], ['graya.png', 4, 8]] as const) {
    const png = fixture(name);
    assert.is(png[25], type);
    assert.is(png[24], depth);
    const img = decodeImage(png, name);
    assert.is(img.channels, 1);
    assert.equal(Array.from(img.data), [0, 85, 170, 255]);
  }
  const g16 = fixture('gray16.png');
  assert.is(g16[24], 16);
  // source values 0, 1000, 32768, 65535
  assert.equal(Array.from(decodeImage(g16, 'gray16.png').data), [0, 4, 128, 255]);
  const c16 = fixture('rgb16.png');
  assert.is(c16[24], 16);
  // source (65535,0,0) (0,30000,0) (0,0,65535) (12345,54321,40000)
  assert.equal(Array.from(decodeImage(c16, 'rgb16.png').data), [255, 0, 0, 0, 117, 0, 0, 0, 255, 48, 211, 156]);
});

test('decode baseline and progressive 16x16 JPEG halves (200,100,50) | (30,60,220)', () => {
  const base = fixture('baseline.jpg');
  const prog = fixture('progressive.jpg');
  const hasMarker = (b: Uint8Array, m: number): boolean => b.some((v, i) => v === 0xff && b[i + 1] === m);
  assert.ok(hasMarker(base, 0xc0) && !hasMarker(base, 0xc2), 'baseline fixture has SOF0');
  assert.ok(hasMarker(prog, 0xc2), 'progressive fixture has SOF2');
  for (const [name, bytes] of [['baseline.jpg', base], ['progressive.jpg', prog]] as const) {
    const img = decodeImage(bytes, name);
    assert.equal([img.width, img.height, img.channels], [16, 16, 3]);
    assertNear(pixel(img, 3, 8), [200, 100, 50], 3, 0, `${name} left`);
    assertNear(pixel(img, 12, 8), [30, 60, 220], 3, 0, `${name} right`);
  }
  assertNear(decodeImage(prog, 'p').data, decodeImage(base, 'b').data, 3, 0, 'progressive vs baseline');
});

test('decode grayscale JPEG gradient 20..240 to one channel', () => {
  const img = decodeImage(fixture('gray.jpg'), 'gray.jpg');
  assert.equal([img.width, img.height, img.channels], [16, 16, 1]);
  assertNear(pixel(img, 5, 0), [20], 3);
  assertNear(pixel(img, 5, 15), [240], 3);
});

test('format comes from magic bytes, not the extension', async () => {
  assert.is(detectImageFormat(fixture('rgb.png')), 'png');
  assert.is(detectImageFormat(fixture('baseline.jpg')), 'jpeg');
  assert.is(detectImageFormat(new TextEncoder().encode('hello')), undefined);
  const path = join(tmp, 'really-a-png.jpg');
  writeFileSync(path, fixture('rgb.png'));
  const t = await loadImage(path);
  assert.equal(t.shape, [2, 2, 3]);
  assert.equal(Array.from(t.values), [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
});

test('loadImage colour modes: grayscale PNG as rgb, RGB PNG as grayscale (ITU-R 601-2 luma)', async () => {
  const rgb = await loadImage(join(fixtures, 'gray.png'));
  assert.equal(rgb.shape, [2, 2, 3]);
  assert.equal(Array.from(rgb.values), [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
  const g = await loadImage(join(fixtures, 'rgb.png'), { colorMode: 'grayscale' });
  assert.equal(g.shape, [2, 2, 1]);
  assertNear(g.values, [0.299 * 255, 0.587 * 255, 0.114 * 255, 255], 1e-3, 1e-6);
});

test('loadImage targetSize [1, 4] from a 2x2 PNG gives [1, 4, 3]', async () => {
  const t = await loadImage(join(fixtures, 'rgb.png'), { targetSize: [1, 4], interpolation: 'nearest' });
  assert.equal(t.shape, [1, 4, 3]);
  // nearest rows: y=floor(0.5*2)=1 → bottom row (blue, white); x: 0,0,1,1
  assert.equal(Array.from(t.values), [0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 255]);
  const err = await loadImage(join(fixtures, 'rgb.png'), { size: [2, 2] } as never).catch((e: Error) => e);
  assert.match(String(err), /unknown option 'size'/);
});

test('errors name the file and the reason: text named .jpg, empty, missing, truncated PNG and JPEG', async () => {
  const text = join(tmp, 'notes.jpg');
  writeFileSync(text, 'this is not an image\n');
  const empty = join(tmp, 'empty.png');
  writeFileSync(empty, '');
  const big = new PNG({ width: 64, height: 64 });
  for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 37) % 251;
  const pngBytes = PNG.sync.write(big);
  const truncPng = join(tmp, 'trunc.png');
  writeFileSync(truncPng, pngBytes.subarray(0, pngBytes.length >> 1));
  const jpg = fixture('progressive.jpg');
  const truncJpg = join(tmp, 'trunc.jpg');
  writeFileSync(truncJpg, jpg.subarray(0, jpg.length - 120));
  const cases: [string, RegExp][] = [
    [text, /not a PNG or JPEG file/],
    [empty, /file is empty/],
    [join(tmp, 'missing.png'), /unreadable: ENOENT/],
    [truncPng, /invalid PNG|truncated|ended/i],
    [truncJpg, /truncated JPEG/],
  ];
  for (const [path, reason] of cases) {
    try {
      await loadImage(path);
      assert.unreachable(`${path} should throw`);
    } catch (e) {
      const msg = (e as Error).message;
      assert.ok(msg.includes(path), `message names the path: ${msg}`);
      assert.match(msg, reason);
    }
  }
  assert.equal((await checkImageFile(text)).status, 'bad');
  assert.equal((await checkImageFile(truncPng)).status, 'unsure');
  assert.equal((await checkImageFile(truncJpg)).status, 'unsure');
  assert.equal((await checkImageFile(join(fixtures, 'rgb.png'))).status, 'ok');
});

test('resize nearest 2x2 -> 4x4 and 4x4 -> 2x2', () => {
  const up = resizeImage(gray(2, 2, [1, 2, 3, 4]), [4, 4], 'nearest');
  assert.equal(Array.from(up.data), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  const src = gray(4, 4, Array.from({ length: 16 }, (_, i) => i));
  // source index floor((o + 0.5) * 2) = 1, 3
  assert.equal(Array.from(resizeImage(src, [2, 2], 'nearest').data), [5, 7, 13, 15]);
});

test('resize bilinear 2x2 -> 4x4 (half-pixel centres, clamped edges)', () => {
  const up = resizeImage(gray(2, 2, [0, 4, 8, 12]), [4, 4], 'bilinear');
  assertNear(up.data, [0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12], 1e-5, 1e-6);
});

test('resize bilinear 1x4 -> 1x2 uses a widened triangle (PIL): weights .75 .75 .25', () => {
  const down = resizeImage(gray(4, 1, [0, 4, 8, 12]), [1, 2], 'bilinear');
  assertNear(down.data, [(0.75 * 0 + 0.75 * 4 + 0.25 * 8) / 1.75, (0.25 * 4 + 0.75 * 8 + 0.75 * 12) / 1.75], 1e-5, 1e-6);
});

test('resize area 4x4 -> 2x2 block means and 1x3 -> 1x2 fractional coverage', () => {
  const src = gray(4, 4, Array.from({ length: 16 }, (_, i) => i));
  assertNear(resizeImage(src, [2, 2], 'area').data, [2.5, 4.5, 10.5, 12.5], 1e-5, 1e-6);
  // footprints [0, 1.5) and [1.5, 3): (0 + 0.5·3)/1.5 = 1, (0.5·3 + 6)/1.5 = 5
  assertNear(resizeImage(gray(3, 1, [0, 3, 6]), [1, 2], 'area').data, [1, 5], 1e-5, 1e-6);
});

test('resize keeps channels interleaved: RGB 2x1 -> 4x1 bilinear', () => {
  const img: RawImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 100, 200, 40, 100, 0]) };
  const out = resizeImage(img, [1, 4], 'bilinear');
  assertNear(out.data, [0, 100, 200, 10, 100, 150, 30, 100, 50, 40, 100, 0], 1e-4, 1e-6);
});

test('no aliasing: 1-px checkerboard 64x64 -> 8x8 and 100x100 -> 7x7 averages to grey', () => {
  for (const n of [64, 100]) {
    const board = gray(n, n, Array.from({ length: n * n }, (_, i) => (((i % n) + Math.floor(i / n)) % 2) * 255));
    for (const [size, interpolation, atol] of [[8, 'area', 1e-3], [8, 'bilinear', 1], [7, 'area', 3], [7, 'bilinear', 3]] as const) {
      const out = resizeImage(board, [size, size], interpolation);
      for (const v of out.data) {
        if (Math.abs(v - 127.5) > (n === 64 ? atol : 3)) assert.unreachable(`${n}->${size} ${interpolation}: ${v} is not ≈ 127.5`);
      }
    }
    // nearest samples one pixel per output and aliases: every output is pure black or white
    const nearest = resizeImage(board, [8, 8], 'nearest');
    assert.ok(Array.from(nearest.data).every((v) => v === 0 || v === 255));
  }
});

test('convertColorMode and resize validate their arguments', () => {
  const g = convertColorMode(gray(1, 1, [7]), 'rgb');
  assert.equal(Array.from(g.data), [7, 7, 7]);
  assert.throws(() => resizeImage(gray(1, 1, [1]), [0, 2]), /positive integers/);
  assert.throws(() => resizeImage(gray(1, 1, [1]), [2, 2], 'bicubic' as never), /unknown interpolation 'bicubic'/);
  assert.throws(() => convertColorMode(gray(1, 1, [1]), 'cmyk' as never), /unknown colorMode 'cmyk'/);
});

test.run();
