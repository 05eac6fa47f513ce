import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCatsDogs, imageDatasetFromDirectory, loadImagesFromDirectory, type Batch, type Dataset } from '../src/data/index.js';
import { DecodePool } from '../src/data/decode-pool.js';
import { loadImage } from '../src/image/load.js';
import { loadSharp, resetSharp, resolveDecoder, sharpImport } from '../src/image/sharp-decoder.js';
import { warnings } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tscnn-photos-'));
const photos = join(root, 'photos');
const small = join(root, 'small');
const sharpLoads = !((await loadSharp()) instanceof Error);

async function collect(ds: Dataset, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches({ epoch })) out.push(b);
  return out;
}
const valuesOf = (batches: Batch[]): number[] => batches.flatMap((b) => [...Array.from(b.x.values), ...Array.from(b.y.values)]);


/** Runs `fn` as on a machine where `import('sharp')` fails. */
async function withoutSharp<T>(fn: () => Promise<T>): Promise<T> {
  const original = sharpImport.load;
  sharpImport.load = () => Promise.reject(new Error("Cannot find package 'sharp'"));
  resetSharp();
  try {
    return await fn();
  } finally {
    sharpImport.load = original;
    resetSharp();
  }
}

test('setup: 6 photo-like JPEGs of 375–500 px at quality 85 weigh 20–60 KB each (Kaggle photos: 25–40 KB), 48 small ones', async () => {
  const r = await generateCatsDogs({ outDir: photos, count: 6, seed: 3, minSize: 375, maxSize: 500, photo: true });
  const sizes = r.files.map((f) => statSync(f).size);
  for (const [i, s] of sizes.entries()) assert.ok(s > 20_000 && s < 60_000, `${r.files[i]}: ${s} bytes`);
  for (const f of r.files) assert.ok(f.endsWith('.jpg'));
  await generateCatsDogs({ outDir: small, count: 48, seed: 4, minSize: 40, maxSize: 90, photo: true });
});

test('decoders agree on photos resized to 100×100: mean |sharp − js| ≤ 3 levels per image (bilinear, area)', async () => {
  if (!sharpLoads) {
    assert.is(await resolveDecoder('test', 'auto'), 'js', 'without sharp, auto means js');
    return;
  }
  const files = ['cats', 'dogs'].flatMap((c) => readdirSync(join(photos, c)).map((f) => join(photos, c, f)));
  for (const interpolation of ['bilinear', 'area'] as const) {
    for (const f of files) {
      const a = await loadImage(f, { targetSize: [100, 100], interpolation, decoder: 'js' });
      const b = await loadImage(f, { targetSize: [100, 100], interpolation, decoder: 'sharp' });
      assert.equal(b.shape, [100, 100, 3]);
      let sum = 0;
      for (let i = 0; i < a.values.length; i++) sum += Math.abs(a.values[i] - b.values[i]);
      const mad = sum / a.values.length;
      assert.ok(mad <= 3, `${interpolation} ${f}: mean |Δ| ${mad.toFixed(2)}`);
      assert.ok(mad > 0, 'two different decoders (a zero difference would mean one ran twice)');
    }
  }
});

test("without sharp: decoder 'sharp' throws naming the install command; 'auto' falls back to js, with the pool and the cache", async () => {
  const f = join(photos, 'cats', readdirSync(join(photos, 'cats'))[0]);
  await withoutSharp(async () => {
    const err = await loadImage(f, { decoder: 'sharp' }).catch((e: Error) => e);
    assert.instance(err, Error);
    assert.match(String(err), /loadImage: decoder 'sharp' needs the optional package sharp.*npm install sharp/);
    const dsErr = await imageDatasetFromDirectory(small, { decoder: 'sharp' }).catch((e: Error) => e);
    assert.match(String(dsErr), /imageDatasetFromDirectory: decoder 'sharp'/);
    assert.equal((await loadImage(f, { targetSize: [10, 12] })).shape, [10, 12, 3]);
    const cacheFile = join(root, 'nosharp.cache');
    for (let run = 0; run < 2; run++) {
      const ds = await imageDatasetFromDirectory(small, { imageSize: [16, 16], batchSize: 8, seed: 1, workers: 2, cache: cacheFile });
      assert.is(valuesOf(await collect(ds, 0)).length, 48 * (16 * 16 * 3 + 1));
      assert.is(run === 0 ? ds.stats.imagesDecoded : ds.stats.imagesFromCache, 48);
    }
  });
  assert.is(await resolveDecoder('test', 'auto'), sharpLoads ? 'sharp' : 'js', 'the simulation is undone');
  assert.match(String(await resolveDecoder('test', 'magic' as 'js').catch((e: Error) => e)), /test: unknown decoder 'magic'/);
});

test('the same seed gives bit-identical batches with 0, 1 and 3 workers (js and auto decoders)', async () => {
  for (const decoder of ['js', 'auto'] as const) {
    const runs: number[][] = [];
    for (const workers of [0, 1, 3]) {
      const ds = await imageDatasetFromDirectory(small, { imageSize: [20, 24], batchSize: 5, seed: 9, workers, decoder, rescale: 1 / 255 });
      runs.push(valuesOf(await collect(ds, 2)));
    }
    assert.equal(runs[1], runs[0], `${decoder}: 1 worker vs the calling thread`);
    assert.equal(runs[2], runs[0], `${decoder}: 3 workers vs the calling thread`);
  }
});

test('pool: jobs run in the workers once ready; prefetch bounds the live batches; no worker left after the epoch', async () => {
  const files = readdirSync(join(small, 'cats')).map((f) => join(small, 'cats', f));
  const pool = new DecodePool(2, 'test');
  await pool.ready();
  assert.is(pool.workers.length, 2);
  const rs = await Promise.all(files.map((path) => pool.decode({ path, targetSize: [8, 8], colorMode: 'grayscale', interpolation: 'area', decoder: 'js' })));
  assert.is(pool.decodedInWorkers, files.length);
  for (const r of rs) assert.ok(r.ok && r.image.data.length === 64);
  await pool.close();
  assert.is(pool.workers.length, 0);
  await assert.not.throws(() => pool.close());

  const ds = await imageDatasetFromDirectory(small, { imageSize: [16, 16], batchSize: 4, prefetch: 1, seed: 2, workers: 2 });
  for await (const _ of ds.batches({ epoch: 0 })) assert.ok(ds.stats.liveBatches <= 2, `live ${ds.stats.liveBatches}`);
  assert.is(ds.stats.maxLiveBatches, 2);
  assert.is(ds.stats.imagesDecoded, 48);
  let seen = 0;
  for await (const _ of ds.batches({ epoch: 1 })) if (++seen === 2) break;
  assert.is(ds.stats.liveBatches, 0, 'an early exit releases the prefetched batches');
});

test('a worker that dies fails its jobs naming the file it was decoding, and leaves no worker behind', async () => {
  const path = join(photos, 'dogs', readdirSync(join(photos, 'dogs'))[0]);
  const pool = new DecodePool(2, 'imageDatasetFromDirectory');
  await pool.ready();
  const job = pool.decode({ path, targetSize: [100, 100], colorMode: 'rgb', interpolation: 'bilinear', decoder: 'js' });
  const victim = pool.workers[0];
  await victim.terminate();
  const err = await job.catch((e: Error) => e);
  assert.instance(err, Error);
  assert.match(String(err), /imageDatasetFromDirectory: decode worker 1 of 2 exited with code 1 while decoding ".*dog\.0000\.jpg"/);
  assert.is(pool.workers.length, 0);
  const later = await pool.decode({ path, targetSize: [8, 8], colorMode: 'rgb', interpolation: 'bilinear', decoder: 'js' }).catch((e: Error) => e);
  assert.is(later, err, 'a failed pool refuses further work with the same error');
});

test('cache: true: later epochs come from memory, and epoch 1 already sees the rounded pixels', async () => {
  const ds = await imageDatasetFromDirectory(small, { imageSize: [16, 16], batchSize: 8, seed: 5, workers: 1, decoder: 'js', cache: true });
  const first = valuesOf(await collect(ds, 0));
  assert.equal([ds.stats.imagesDecoded, ds.stats.imagesFromCache], [48, 0]);
  const again = valuesOf(await collect(ds, 0));
  assert.equal([ds.stats.imagesDecoded, ds.stats.imagesFromCache], [48, 48]);
  assert.equal(again, first);
  assert.ok(first.every((v) => Number.isInteger(v)), 'uint8 pixels');
  const plain = await imageDatasetFromDirectory(small, { imageSize: [16, 16], batchSize: 8, seed: 5, workers: 0, decoder: 'js' });
  const unrounded = valuesOf(await collect(plain, 0));
  let worst = 0;
  for (let i = 0; i < first.length; i++) worst = Math.max(worst, Math.abs(first[i] - unrounded[i]));
  assert.ok(worst <= 0.5 && worst > 0, `rounding only: ${worst}`);
});

test('cache file: reused by a later run; other options, a changed file, truncation, a flipped byte or junk: one warning, rebuilt', async () => {
  const cache = join(root, 'photos.cache');
  const open = (imageSize: [number, number] = [16, 16]) => imageDatasetFromDirectory(small, { imageSize, batchSize: 8, seed: 5, workers: 2, cache, rescale: 1 / 255 });
  const a = await open();
  const reference = valuesOf(await collect(a, 0));
  assert.ok(existsSync(cache));
  const expectRun = async (pattern: RegExp | undefined, imageSize?: [number, number]): Promise<void> => {
    let ds: Awaited<ReturnType<typeof open>> | undefined;
    const seen = await warnings(async () => {
      ds = await open(imageSize);
      const got = valuesOf(await collect(ds, 0));
      if (!imageSize) assert.equal(got, reference);
    });
    if (!pattern) {
      assert.equal(seen, []);
      assert.equal([ds!.stats.imagesDecoded, ds!.stats.imagesFromCache], [0, 48]);
    } else {
      assert.is(seen.length, 1, seen.join('\n'));
      assert.match(seen[0], pattern);
      assert.ok(seen[0].startsWith(`imageDatasetFromDirectory: cache file "${cache}" not used (`), seen[0]);
      assert.equal([ds!.stats.imagesDecoded, ds!.stats.imagesFromCache], [48, 0]);
    }
  };
  await expectRun(undefined);
  await expectRun(/made with options .*"imageSize":\[16,16\].*now .*"imageSize":\[12,16\]/, [12, 16]);
  await expectRun(/made with options/);
  await expectRun(undefined);
  const touched = join(small, 'dogs', readdirSync(join(small, 'dogs'))[3]);
  utimesSync(touched, new Date(), new Date(Date.now() + 5000));
  await expectRun(/changed since the cache was written/);
  truncateSync(cache, statSync(cache).size - 100);
  await expectRun(/size|end marker/);
  const bytes = readFileSync(cache);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  writeFileSync(cache, bytes);
  await expectRun(/checksum mismatch in the pixels of/);
  writeFileSync(cache, 'junk junk junk junk junk junk');
  await expectRun(/not a tscnn image cache/);
  await expectRun(undefined);
  assert.equal(readdirSync(root).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

test('a file corrupt in the middle, decoded in the pool: named, skipped per onBadFile, and remembered by the cache file', async () => {
  const dir = join(root, 'corrupt');
  await generateCatsDogs({ outDir: dir, count: 6, seed: 4, format: 'png', minSize: 20, maxSize: 30 });
  const target = join(dir, 'cats', readdirSync(join(dir, 'cats'))[0]);
  const bytes = Buffer.from(readFileSync(target));
  const idat = bytes.indexOf('IDAT');
  for (let i = idat + 8; i < idat + 40; i++) bytes[i] ^= 0x5a;
  writeFileSync(target, bytes);
  const strict = await imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, seed: 1, workers: 2 });
  const err = await collect(strict, 0).catch((e: Error) => e);
  assert.ok(String(err).includes(target), String(err));
  const cache = join(root, 'corrupt.cache');
  for (let run = 0; run < 2; run++) {
    const ds = await imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, seed: 1, workers: 2, onBadFile: 'skip', cache });
    let n = 0;
    const seen = await warnings(async () => {
      n = (await collect(ds, 0)).reduce((s, b) => s + b.x.shape[0], 0);
    });
    assert.is(n, 5);
    assert.is(seen.length, 1);
    assert.ok(seen[0].includes(target), seen[0]);
    assert.is(ds.stats.imagesDecoded, run === 0 ? 5 : 0);
  }
});

test('loadImagesFromDirectory: decoder and workers options; same pixels with 0 and 2 workers', async () => {
  const a = await loadImagesFromDirectory(small, { imageSize: [12, 12], decoder: 'js', workers: 0 });
  const b = await loadImagesFromDirectory(small, { imageSize: [12, 12], decoder: 'js', workers: 2 });
  assert.equal(Array.from(b.x.values), Array.from(a.x.values));
  assert.equal(b.paths, a.paths);
  const err = await loadImagesFromDirectory(small, { workers: -1 }).catch((e: Error) => e);
  assert.match(String(err), /loadImagesFromDirectory: workers must be a non-negative integer/);
});

test('bad options: workers, cache', async () => {
  const e1 = await imageDatasetFromDirectory(small, { workers: 1.5 }).catch((e: Error) => e);
  assert.match(String(e1), /imageDatasetFromDirectory: workers must be a non-negative integer .*got 1\.5/);
  const e2 = await imageDatasetFromDirectory(small, { cache: '' }).catch((e: Error) => e);
  assert.match(String(e2), /imageDatasetFromDirectory: cache must be true, false or a file path, got ""/);
});

test.run();
