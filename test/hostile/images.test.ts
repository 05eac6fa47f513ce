// Hostile image files: decompression bombs, forged headers and short image data. Each case is
// the smallest file that showed the problem; bombs run in a bounded child process.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkImageFile, decodeImage, ImageDecodeError } from '../../src/image/decode.js';
import { loadImage } from '../../src/image/load.js';
import { MAX_IMAGE_PIXELS } from '../../src/image/pixel-budget.js';
import { imageDatasetFromDirectory } from '../../src/data/index.js';
import { rejects, throws } from '../helpers.js';
import { craftJpegHeader, craftPng, expectChild, rawRgbRows, runChild, SRC } from './harness.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'tscnn-hostile-img-'));

test('PNG bombs: 31,000² and 60,000² from a ~100-byte file are refused from the header, in bounded time and memory', () => {
  const dir = fresh();
  for (const side of [31000, 60000]) writeFileSync(join(dir, `bomb${side}.png`), craftPng({ width: side, height: side, idat: deflateSync(new Uint8Array(1)) }));
  const r = runChild(
    `const { decodeImage } = await import(${JSON.stringify(SRC)});
     const { readFileSync } = await import('node:fs');
     for (const side of [31000, 60000]) {
       try { decodeImage(readFileSync(${JSON.stringify(dir)} + '/bomb' + side + '.png'), 'bomb' + side); console.log('DECODED ' + side); }
       catch (e) { console.log('REFUSED ' + e.message); }
     }`,
    { heapMB: 256, timeoutMs: 30_000 },
  );
  expectChild(r, /REFUSED cannot decode image "bomb31000": PNG header claims 31000×31000 = 961,000,000 pixels, over the limit of 89,478,485/, 600, 'bomb 31000');
  assert.match(r.out, /REFUSED cannot decode image "bomb60000": PNG header claims 60000×60000/);
  assert.not.match(r.out, /DECODED/);
});

test('the directory scan finds a PNG bomb from its header (a bad file, named), not in the middle of training', async () => {
  const root = fresh();
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  writeFileSync(join(root, 'a', 'ok.png'), craftPng({ width: 2, height: 2, raw: rawRgbRows(2, 2) }));
  writeFileSync(join(root, 'b', 'ok.png'), craftPng({ width: 2, height: 2, raw: rawRgbRows(2, 2) }));
  writeFileSync(join(root, 'b', 'bomb.png'), craftPng({ width: 31000, height: 31000, idat: deflateSync(new Uint8Array(1)) }));
  const check = await checkImageFile(join(root, 'b', 'bomb.png'));
  assert.equal(check.status, 'bad');
  await rejects(imageDatasetFromDirectory(root, { imageSize: [2, 2], batchSize: 2, progress: false }), /bomb\.png.*31000×31000 = 961,000,000 pixels, over the limit/s, 'scan with onBadFile error');
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const ds = await imageDatasetFromDirectory(root, { imageSize: [2, 2], batchSize: 2, onBadFile: 'skip', progress: false });
    assert.is(ds.size, 2, 'the bomb is left out');
  } finally {
    console.warn = warn;
  }
});

test('a JPEG whose frame header claims 60,000² is refused before jpeg-js allocates, by decodeImage and by the scan', async () => {
  const bytes = craftJpegHeader(60000, 60000);
  throws(() => decodeImage(bytes, 'big.jpg'), /cannot decode image "big\.jpg": JPEG header claims 60000×60000 = 3,600,000,000 pixels/, 'decode');
  const dir = fresh();
  writeFileSync(join(dir, 'big.jpg'), bytes);
  const check = await checkImageFile(join(dir, 'big.jpg'));
  assert.equal(check, { status: 'bad', reason: `JPEG header claims 60000×60000 = 3,600,000,000 pixels, over the limit of ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} (a decompression bomb, or an image to downscale before use)` });
});

test('loadImage refuses a bomb naming the path (ImageDecodeError)', async () => {
  const dir = fresh();
  const path = join(dir, 'bomb.png');
  writeFileSync(path, craftPng({ width: 20000, height: 20000, idat: deflateSync(new Uint8Array(1)) }));
  const err = await loadImage(path).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ImageDecodeError, 'ImageDecodeError');
  assert.is((err as ImageDecodeError).path, path);
  assert.match((err as Error).message, /20000×20000 = 400,000,000 pixels/);
});

test('PNG image data shorter than the header says (but ending in IEND) is refused, not filled from old memory', () => {
  const short = craftPng({ width: 8, height: 8, raw: rawRgbRows(8, 4) });
  throws(() => decodeImage(short, 'short.png'), /short\.png.*image data inflates to 100 bytes, the 8×8 header needs 200/, 'half the rows');
  const oneByte = craftPng({ width: 8, height: 8, raw: rawRgbRows(8, 8).subarray(0, 199) });
  throws(() => decodeImage(oneByte, 'short1.png'), /inflates to 199 bytes, the 8×8 header needs 200/, 'one byte short');
  const full = decodeImage(craftPng({ width: 8, height: 8, raw: rawRgbRows(8, 8, 9) }), 'full.png');
  assert.is(full.data.length, 8 * 8 * 3);
  assert.ok(full.data.every((v) => v === 9), 'the complete file decodes to its pixels');
});

test('interlaced PNG: exact Adam7 size accepted, one byte short refused, a deflate bomb stops at the expected size', () => {
  // 8×8 RGB8 Adam7 passes: 1×1, 1×1, 2×1, 2×2, 4×2, 4×4, 8×4 → rows of 1 + 3·w bytes: 207 bytes.
  const ok = decodeImage(craftPng({ width: 8, height: 8, interlace: 1, raw: new Uint8Array(207) }), 'adam7.png');
  assert.is(ok.data.length, 192);
  throws(() => decodeImage(craftPng({ width: 8, height: 8, interlace: 1, raw: new Uint8Array(206) }), 'adam7-short.png'), /inflates to 206 bytes, the 8×8 header needs 207/, 'short');
  // 64 MB of zeros deflate to ~64 KB; pngjs inflates interlaced data without a size limit.
  const bomb = craftPng({ width: 8, height: 8, interlace: 1, idat: deflateSync(new Uint8Array(64 << 20), { level: 9 }) });
  assert.ok(bomb.length < 100_000, `bomb is ${bomb.length} bytes`);
  throws(() => decodeImage(bomb, 'inflate-bomb.png'), /image data inflates to more than the 207 bytes its 8×8 header implies/, 'deflate bomb');
});

test('forged PNG headers: bad colour type, bit depth, zero size, and a chunk longer than the file', () => {
  throws(() => decodeImage(craftPng({ width: 2, height: 2, colorType: 5, raw: rawRgbRows(2, 2) }), 'c5.png'), /corrupt PNG: colour type 5 with bit depth 8/, 'colour type');
  throws(() => decodeImage(craftPng({ width: 2, height: 2, bitDepth: 3, raw: rawRgbRows(2, 2) }), 'd3.png'), /colour type 2 with bit depth 3/, 'bit depth');
  throws(() => decodeImage(craftPng({ width: 0, height: 5, raw: new Uint8Array(0) }), 'zero.png'), /PNG header gives an empty image size 0×5/, 'zero width');
  const png = craftPng({ width: 2, height: 2, raw: rawRgbRows(2, 2) });
  png.writeUInt32BE(0x7fffffff, 33); // the IDAT length
  throws(() => decodeImage(png, 'long.png'), /truncated PNG: chunk "IDAT" at byte 33 declares 2147483647 bytes/, 'chunk length');
});

test.run();
