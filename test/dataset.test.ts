import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { tensor } from '../src/tensor.js';
import { generateCatsDogs, imageDatasetFromDirectory, loadImagesFromDirectory, trainTestSplit, type Batch, type Dataset } from '../src/data/index.js';
import { warnings } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tscnn-dataset-'));
const small = { minSize: 20, maxSize: 36 };

async function collect(ds: Dataset, epoch?: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches(epoch === undefined ? {} : { epoch })) out.push(b);
  return out;
}

const labelsOf = (batches: Batch[]): number[] => batches.flatMap((b) => Array.from(b.y.values));


const folders = join(root, 'folders');
const flat = join(root, 'flat');

test('setup: 6 cats + 18 dogs in folders, and the same files in Kaggle flat naming', async () => {
  const r = await generateCatsDogs({ outDir: folders, count: 24, catFraction: 0.25, seed: 5, ...small });
  assert.equal([r.cats, r.dogs], [6, 18]);
  mkdirSync(flat);
  for (const f of r.files) copyFileSync(f, join(flat, basename(f)));
});

test('folder layout: classes, uneven counts, batch shapes [5,16,16,3] and [5,1], all labels', async () => {
  const ds = await imageDatasetFromDirectory(folders, { imageSize: [16, 16], batchSize: 5, seed: 1 });
  assert.equal(ds.classNames, ['cats', 'dogs']);
  assert.equal(ds.classCounts, { cats: 6, dogs: 18 });
  assert.equal([ds.size, ds.batchSize, ds.numBatches], [24, 5, 5]);
  const batches = await collect(ds);
  assert.equal(batches.map((b) => b.x.shape[0]), [5, 5, 5, 5, 4]);
  assert.equal(batches[0].x.shape, [5, 16, 16, 3]);
  assert.equal(batches[0].y.shape, [5, 1]);
  const labels = labelsOf(batches);
  assert.is(labels.filter((v) => v === 0).length, 6);
  assert.is(labels.filter((v) => v === 1).length, 18);
  const all = batches.flatMap((b) => Array.from(b.x.values));
  assert.ok(Math.min(...all) >= 0 && Math.max(...all) <= 255 && Math.max(...all) > 100);
});

test('flat Kaggle layout cat.N.jpg / dog.N.png gives classes cat, dog', async () => {
  const ds = await imageDatasetFromDirectory(flat, { imageSize: [8, 8], batchSize: 10, labelMode: 'categorical', rescale: 1 / 255, shuffle: false });
  assert.equal(ds.classNames, ['cat', 'dog']);
  assert.equal(ds.classCounts, { cat: 6, dog: 18 });
  const batches = await collect(ds);
  assert.equal(batches[0].y.shape, [10, 2]);
  // unshuffled: sorted by class, so the 6 cats come first
  assert.equal(Array.from(batches[0].y.values.subarray(0, 14)), [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1]);
  assert.ok(Math.max(...batches.flatMap((b) => Array.from(b.x.values))) <= 1);
});

test('shuffle is deterministic per seed and epoch, and differs between epochs', async () => {
  const make = () => imageDatasetFromDirectory(folders, { imageSize: [8, 8], batchSize: 24, seed: 7 });
  const a = await make();
  const b = await make();
  const a0 = labelsOf(await collect(a, 0));
  assert.equal(labelsOf(await collect(b, 0)), a0);
  const a1 = labelsOf(await collect(a, 1));
  assert.not.equal(a1, a0);
  assert.equal(labelsOf(await collect(b, 1)), a1);
  const x0 = (await collect(a, 0))[0].x.values;
  const y0 = (await collect(b, 0))[0].x.values;
  assert.equal(Array.from(x0.subarray(0, 50)), Array.from(y0.subarray(0, 50)));
});

test('validation split is stratified: both classes in both subsets, disjoint, complete, reproducible', async () => {
  const [train, val] = await imageDatasetFromDirectory(folders, { imageSize: [8, 8], validationSplit: 0.2, subset: 'both', seed: 3 });
  assert.equal(val.classCounts, { cats: 1, dogs: 4 });
  assert.equal(train.classCounts, { cats: 5, dogs: 14 });
  const tp = new Set(train.files.map((f) => f.path));
  assert.ok(val.files.every((f) => !tp.has(f.path)));
  assert.is(tp.size + val.files.length, 24);
  const again = await imageDatasetFromDirectory(folders, { imageSize: [8, 8], validationSplit: 0.2, subset: 'validation', seed: 3 });
  assert.equal(again.files.map((f) => f.path), val.files.map((f) => f.path));
  const err = await imageDatasetFromDirectory(folders, { validationSplit: 0.2, subset: 'training' }).catch((e: Error) => e);
  assert.match(String(err), /needs a seed/);
  const vLabels = labelsOf(await collect(val));
  assert.ok(vLabels.includes(0) && vLabels.includes(1));
});

test('options are validated: binary needs 2 classes, unknown option, bad subset', async () => {
  const three = join(root, 'three');
  for (const c of ['a', 'b', 'c']) {
    mkdirSync(join(three, c), { recursive: true });
    copyFileSync(join(folders, 'cats', readdirSync(join(folders, 'cats'))[0]), join(three, c, 'x.png'));
  }
  assert.match(String(await imageDatasetFromDirectory(three, { labelMode: 'binary' }).catch((e: Error) => e)), /exactly 2 classes, found 3/);
  assert.match(String(await imageDatasetFromDirectory(three, { imgSize: [2, 2] } as never).catch((e: Error) => e)), /unknown option 'imgSize'/);
  const ds = await imageDatasetFromDirectory(three, { labelMode: 'int', imageSize: [4, 4], classNames: ['c', 'a'], shuffle: false });
  assert.equal(ds.classNames, ['c', 'a']);
  assert.equal(labelsOf(await collect(ds)), [0, 1]);
});

test('streaming: 240 images, batch 8, prefetch 2 keeps at most 3 batches alive', async () => {
  const dir = join(root, 'many');
  await generateCatsDogs({ outDir: dir, count: 240, seed: 11, minSize: 16, maxSize: 24, format: 'png' });
  const ds = await imageDatasetFromDirectory(dir, { imageSize: [12, 12], batchSize: 8, prefetch: 2, seed: 2 });
  let n = 0;
  for await (const b of ds.batches()) {
    n += b.x.shape[0];
    assert.ok(ds.stats.liveBatches <= 3, `live ${ds.stats.liveBatches}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.is(n, 240);
  assert.is(ds.stats.maxLiveBatches, 3, 'prefetch ran ahead, but no further');
  assert.is(ds.stats.liveBatches, 0);
  assert.is(ds.stats.imagesDecoded, 240);
  for await (const _ of ds.batches()) break;
  assert.is(ds.stats.liveBatches, 0, 'an early exit releases the prefetched batches');
  const lazy = await imageDatasetFromDirectory(dir, { imageSize: [12, 12], batchSize: 8, prefetch: 0, seed: 2 });
  for await (const _ of lazy.batches()) assert.is(lazy.stats.liveBatches, 1);
});

test('bad files: truncated PNG, truncated JPEG, text named .jpg: one error naming each, or one warning when skipped', async () => {
  const dir = join(root, 'bad');
  const r = await generateCatsDogs({ outDir: dir, count: 8, seed: 9, ...small });
  const png = r.files.find((f) => f.endsWith('.png'))!;
  const jpg = r.files.find((f) => f.endsWith('.jpg'))!;
  const truncPng = join(dir, 'cats', 'trunc.png');
  const truncJpg = join(dir, 'dogs', 'trunc.jpg');
  const text = join(dir, 'dogs', 'readme.jpg');
  writeFileSync(truncPng, readFileSync(png).subarray(0, 200));
  writeFileSync(truncJpg, readFileSync(jpg).subarray(0, 300));
  writeFileSync(text, 'not an image');
  const err = await imageDatasetFromDirectory(dir, { imageSize: [8, 8] }).catch((e: Error) => e);
  assert.instance(err, Error);
  for (const p of [truncPng, truncJpg, text]) assert.ok(String(err).includes(p), `error names ${p}`);
  assert.match(String(err), /truncated JPEG/);
  assert.match(String(err), /not a PNG or JPEG/);
  let ds: Dataset | undefined;
  const seen = await warnings(async () => {
    ds = await imageDatasetFromDirectory(dir, { imageSize: [8, 8], onBadFile: 'skip', seed: 1 });
    await collect(ds);
  });
  assert.is(seen.length, 1);
  for (const p of [truncPng, truncJpg, text]) assert.ok(seen[0].includes(p), `warning lists ${p}`);
  assert.is(ds!.size, 8);
  const loaded = await warnings(async () => {
    const { x } = await loadImagesFromDirectory(dir, { imageSize: [8, 8], onBadFile: 'skip' });
    assert.equal(x.shape, [8, 8, 8, 3]);
  });
  assert.is(loaded.length, 1);
});

test('a file corrupt in the middle (passes the scan) fails at decode: throws, or is skipped once and dropped', async () => {
  const dir = join(root, 'corrupt');
  await generateCatsDogs({ outDir: dir, count: 6, seed: 4, format: 'png', ...small });
  const target = join(dir, 'cats', readdirSync(join(dir, 'cats'))[0]);
  const bytes = Buffer.from(readFileSync(target));
  const idat = bytes.indexOf('IDAT');
  for (let i = idat + 8; i < idat + 40; i++) bytes[i] ^= 0x5a;
  writeFileSync(target, bytes);
  const strict = await imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, seed: 1 });
  const err = await collect(strict).catch((e: Error) => e);
  assert.ok(String(err).includes(target), String(err));
  assert.is(strict.stats.liveBatches, 0);
  const lenient = await imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, seed: 1, onBadFile: 'skip' });
  assert.is(lenient.size, 6);
  let count = 0;
  const seen = await warnings(async () => {
    count = labelsOf(await collect(lenient)).length;
  });
  assert.is(count, 5);
  assert.is(seen.length, 1);
  assert.ok(seen[0].includes(target));
  assert.is(lenient.size, 5);
  assert.equal(lenient.classCounts, { cats: 2, dogs: 3 });
  assert.is((await warnings(() => collect(lenient))).length, 0, 'excluded from later epochs');
});

test('progress bar on stderr while scanning when progress: true', async () => {
  let text = '';
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    await imageDatasetFromDirectory(folders, { imageSize: [8, 8], progress: true });
    await loadImagesFromDirectory(folders, { imageSize: [8, 8], progress: true });
  } finally {
    process.stderr.write = original;
  }
  assert.match(text, /Scanning .*24\/24/);
  assert.match(text, /Loading .*24\/24/);
});

test('loadImagesFromDirectory returns x [24,8,8,3], y [24,1], class counts', async () => {
  const { x, y, classNames, classCounts, paths } = await loadImagesFromDirectory(folders, { imageSize: [8, 8], labelMode: 'binary' });
  assert.equal(x.shape, [24, 8, 8, 3]);
  assert.equal(y.shape, [24, 1]);
  assert.equal(classNames, ['cats', 'dogs']);
  assert.equal(classCounts, { cats: 6, dogs: 18 });
  assert.ok(paths[0].includes('cats') && paths[23].includes('dogs'));
});

test('trainTestSplit stratifies [20,2] with 5 positives: test gets 1 + 4, rows stay paired', () => {
  const n = 20;
  const x = tensor(Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2)), [n, 2]);
  const y = tensor(Array.from({ length: n }, (_, i) => (i < 5 ? 1 : 0)), [n, 1]);
  const s = trainTestSplit(x, y, { testSize: 0.25, seed: 1 });
  assert.equal(s.xTest.shape, [5, 2]);
  assert.equal(s.yTrain.shape, [15, 1]);
  assert.is(Array.from(s.yTest.values).filter((v) => v === 1).length, 1);
  assert.is(Array.from(s.yTrain.values).filter((v) => v === 1).length, 4);
  for (const [xs, ys] of [[s.xTrain, s.yTrain], [s.xTest, s.yTest]] as const) {
    for (let i = 0; i < ys.shape[0]; i++) assert.is(ys.values[i], xs.values[2 * i] < 5 ? 1 : 0);
  }
  const all = [...s.xTrain.values, ...s.xTest.values].filter((_, i) => i % 2 === 0).sort((a, b) => a - b);
  assert.equal(all, Array.from({ length: n }, (_, i) => i));
  assert.equal(trainTestSplit(x, y, { testSize: 0.25, seed: 1 }).xTest.values, s.xTest.values);
  const oneHot = tensor(Array.from({ length: n }, (_, i) => (i < 5 ? [0, 1] : [1, 0])).flat(), [n, 2]);
  const h = trainTestSplit(x, oneHot, { seed: 2 });
  assert.is(Array.from(h.yTest.values).filter((v, i) => i % 2 === 1 && v === 1).length, 1);
  assert.throws(() => trainTestSplit(x, tensor([1, 2], [2, 1])), /x has 20 samples but y has 2/);
  assert.throws(() => trainTestSplit(x, y, { testSize: 1.5 }), /testSize must be in \(0, 1\)/);
});

test('PNG decoded by the dataset equals the file pixels (no resize at native size)', async () => {
  const dir = join(root, 'exact');
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  const png = new PNG({ width: 3, height: 2 });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 41) % 256;
  writeFileSync(join(dir, 'a', '1.png'), PNG.sync.write(png));
  writeFileSync(join(dir, 'b', '1.png'), PNG.sync.write(png));
  const ds = await imageDatasetFromDirectory(dir, { imageSize: [2, 3], shuffle: false, batchSize: 1 });
  const [first] = await collect(ds);
  const expected = Array.from({ length: 6 }, (_, p) => [0, 1, 2].map((k) => ((4 * p + k) * 41) % 256)).flat();
  assert.equal(Array.from(first.x.values), expected);
});

test.run();
