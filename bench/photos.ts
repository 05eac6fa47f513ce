// Real photos: decoding throughput and fit from a folder vs in-memory tensors, on photo-like
// 375–500 px JPEGs (generateCatsDogs photo: true, quality 85, cached under .cache/), at 100×100,
// batch 32, the seed model. Run by `npm run bench` (keys photos/decode, photos/fit, photos/rss),
// or alone: `npx tsx bench/photos.ts [--count N] [--filter KEY] [--dist]` prints the Markdown;
// --dist takes imageDatasetFromDirectory from the built dist/ (npm run build first), whose worker
// threads start without tsx's loader.
//
// Every comparison is paired: the rows of one table run in one process, alternating, round by
// round, and ratios are taken within a round (the machine is shared; absolute numbers drift).
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCatsDogs, imageDatasetFromDirectory, loadImagesFromDirectory, LambdaCallback, type ImageDatasetOptions } from '../src/index.js';
import { loadSharp } from '../src/image/sharp-decoder.js';
import { buildSeedModel } from './models.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cacheRoot = path.join(here, '..', '.cache');
const SIZE = 100;
const BATCH = 32;

/** The photo set of `count` images (generated once per count and seed, then reused). */
export async function photoSet(count: number, log: (m: string) => void): Promise<string> {
  const dir = path.join(cacheRoot, `photos-${count}`);
  const have = ['cats', 'dogs'].reduce((n, c) => n + (existsSync(path.join(dir, c)) ? readdirSync(path.join(dir, c)).length : 0), 0);
  if (have !== count) {
    log(`generating ${count} photo-like JPEGs (375–500 px, quality 85) in ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    await generateCatsDogs({ outDir: dir, count, seed: 1, minSize: 375, maxSize: 500, photo: true });
  }
  return dir;
}

function filesOf(dir: string): string[] {
  return ['cats', 'dogs'].flatMap((c) => readdirSync(path.join(dir, c)).map((f) => path.join(dir, c, f)));
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

interface DecodeRow {
  name: string;
  run: () => Promise<number>;
}

let datasetFn = imageDatasetFromDirectory;

/** One decoding pass over `dir` at 100×100 through the dataset, images/s. */
async function datasetPass(dir: string, options: ImageDatasetOptions & { subset?: undefined }): Promise<number> {
  const ds = await datasetFn(dir, { imageSize: [SIZE, SIZE], batchSize: BATCH, seed: 1, ...options });
  const t = performance.now();
  let n = 0;
  for await (const b of ds.batches({ epoch: 0 })) n += b.x.shape[0];
  return n / ((performance.now() - t) / 1000);
}

/** sharp on the calling thread, one file at a time, libvips at one thread: its single-thread speed. */
async function sharpSingleThread(dir: string): Promise<number> {
  const sharp = await loadSharp();
  if (sharp instanceof Error) return NaN;
  const before = sharp.concurrency();
  sharp.concurrency(1);
  const files = filesOf(dir);
  const t = performance.now();
  for (const f of files) {
    await sharp(readFileSync(f)).removeAlpha().toColourspace('srgb').resize(SIZE, SIZE, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  }
  sharp.concurrency(before);
  return files.length / ((performance.now() - t) / 1000);
}

async function decodeTable(dir: string, rounds: number, log: (m: string) => void): Promise<string> {
  const cores = os.availableParallelism();
  const hasSharp = !((await loadSharp()) instanceof Error);
  const rows: DecodeRow[] = [
    { name: 'before this change: jpeg-js on the calling thread (`decoder: \'js\', workers: 0`)', run: () => datasetPass(dir, { decoder: 'js', workers: 0 }) },
    { name: `jpeg-js, pool of ${cores} workers (\`decoder: 'js'\`: what runs without sharp)`, run: () => datasetPass(dir, { decoder: 'js' }) },
    ...(hasSharp
      ? [
          { name: 'sharp alone, calling thread, one file at a time, `sharp.concurrency(1)`', run: () => sharpSingleThread(dir) },
          { name: `**default options** (sharp, pool of ${cores} workers)`, run: () => datasetPass(dir, {}) },
        ]
      : []),
  ];
  const samples = rows.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? rows.map((_, i) => i) : rows.map((_, i) => rows.length - 1 - i);
    for (const i of order) {
      samples[i].push(await rows[i].run());
      log(`photos/decode round ${r + 1}: ${rows[i].name.slice(0, 40)}… ${fmt(samples[i].at(-1)!)} images/s`);
    }
  }
  const base = samples[0];
  const ratio = (i: number, j: number): string => fmt(median(samples[i].map((v, k) => v / samples[j][k]))) + '×';
  const lines = [
    `| Decoder | Images/s, median (min–max) of ${rounds} | vs before (paired) |${hasSharp ? ' vs sharp alone (paired) |' : ''}`,
    `| :-- | --: | --: |${hasSharp ? ' --: |' : ''}`,
    ...rows.map((row, i) => `| ${row.name} | ${fmt(median(samples[i]))} (${fmt(Math.min(...samples[i]))}–${fmt(Math.max(...samples[i]))}) | ${ratio(i, 0)} |${hasSharp ? ` ${ratio(i, 2)} |` : ''}`),
  ];
  void base;
  return lines.join('\n');
}

/** Images/s per epoch of `model.fit` over `epochs` epochs. */
async function fitEpochs(run: (cb: LambdaCallback) => Promise<unknown>, images: number): Promise<number[]> {
  const rates: number[] = [];
  let t = 0;
  const cb = new LambdaCallback({
    onEpochBegin: () => void (t = performance.now()),
    onEpochEnd: () => void rates.push(images / ((performance.now() - t) / 1000)),
  });
  await run(cb);
  return rates;
}

async function fitTable(dir: string, epochs: number, log: (m: string) => void): Promise<string> {
  const n = filesOf(dir).length;
  const hasSharp = !((await loadSharp()) instanceof Error);
  const { x, y } = await loadImagesFromDirectory(dir, { imageSize: [SIZE, SIZE], rescale: 1 / 255, labelMode: 'binary' });
  const cacheFile = path.join(cacheRoot, `photos-${n}.bench-cache`);
  const fromFolder = (decoder: 'auto' | 'js', cache: true | string) => async (cb: LambdaCallback): Promise<unknown> => {
    const ds = await imageDatasetFromDirectory(dir, { imageSize: [SIZE, SIZE], batchSize: BATCH, seed: 1, rescale: 1 / 255, labelMode: 'binary', decoder, cache });
    return buildSeedModel(SIZE).fit(ds, { epochs, callbacks: [cb], verbose: 0 });
  };
  const rows: [string, (cb: LambdaCallback) => Promise<unknown>][] = [
    ['in-memory tensors (`fit(x, y)`)', (cb) => buildSeedModel(SIZE).fit(x, y, { epochs, batchSize: BATCH, callbacks: [cb], verbose: 0, seed: 1 })],
    ...(hasSharp ? [['folder, default decoder (sharp), `cache: true`', fromFolder('auto', true)] as [string, (cb: LambdaCallback) => Promise<unknown>]] : []),
    ...(hasSharp ? [['folder, sharp, `cache: \'file\'` (a fresh file: epoch 1 writes it)', async (cb: LambdaCallback) => { rmSync(cacheFile, { force: true }); return fromFolder('auto', cacheFile)(cb); }] as [string, (cb: LambdaCallback) => Promise<unknown>]] : []),
    ['folder, `decoder: \'js\'` (no sharp), `cache: true`', fromFolder('js', true)],
  ];
  const results: number[][] = [];
  for (const [name, run] of rows) {
    results.push(await fitEpochs(run, n));
    log(`photos/fit ${name}: ${results.at(-1)!.map(fmt).join(', ')} images/s`);
  }
  rmSync(cacheFile, { force: true });
  const mem = results[0];
  const laterMem = median(mem.slice(1));
  const head = `| Source | ${Array.from({ length: epochs }, (_, e) => `Epoch ${e + 1} images/s`).join(' | ')} | Epoch 1 vs memory | Later epochs (median) vs memory |`;
  const sep = `| :-- | ${Array.from({ length: epochs }, () => '--:').join(' | ')} | --: | --: |`;
  const body = rows.map(([name], i) => `| ${name} | ${results[i].map(fmt).join(' | ')} | ${fmt(results[i][0] / mem[0])}× | ${fmt(median(results[i].slice(1)) / laterMem)}× |`);
  return [head, sep, ...body].join('\n');
}

/** Peak RSS of a fresh process streaming `count` photos (two epochs: decode + write the cache file, then read it). */
function rssRow(dir5000: string, log: (m: string) => void): string {
  const script = path.join(here, 'photos-rss.ts');
  const out = spawnSync(process.execPath, ['--import', 'tsx', script, dir5000], { encoding: 'utf8', cwd: path.join(here, '..') });
  if (out.status !== 0) throw new Error(`photos/rss: child failed: ${out.stderr}`);
  const r = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { images: number; epochs: number[]; peakMB: number; source: string };
  log(`photos/rss: ${JSON.stringify(r)}`);
  return `Peak RSS streaming ${r.images} photos at 100×100 with \`cache: 'file'\` (epoch 1 decodes with the default options and writes the file, epoch 2 reads it; a fresh process, ${r.source}): **${fmt(r.peakMB)} MB**; ${r.epochs.map((v, e) => `epoch ${e + 1}: ${fmt(v)} images/s`).join(', ')}.`;
}

/** A folder of `count` photos made of hard links to the files of `base` (generating thousands of photos takes long; decoding cost is the same). */
function linkedSet(base: string, count: number): string {
  const dir = path.join(cacheRoot, `photos-linked-${count}`);
  const src = filesOf(base);
  const have = ['cats', 'dogs'].reduce((n, c) => n + (existsSync(path.join(dir, c)) ? readdirSync(path.join(dir, c)).length : 0), 0);
  if (have === count) return dir;
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < count; i++) {
    const from = src[i % src.length];
    const cls = path.basename(path.dirname(from));
    mkdirSync(path.join(dir, cls), { recursive: true });
    linkSync(from, path.join(dir, cls, `${cls.slice(0, 3)}.${String(i).padStart(5, '0')}.jpg`));
  }
  return dir;
}

/** The "Real photos" section of bench/RESULTS.md for the selected keys. */
export async function photoBench(selected: (key: string) => boolean, log: (m: string) => void, count = 160): Promise<string> {
  const md: string[] = [];
  if (!['photos/decode', 'photos/fit', 'photos/rss'].some(selected)) return '';
  const dir = await photoSet(count, log);
  const bytes = filesOf(dir).map((f) => statSync(f).size);
  md.push(`## Real photos: ${count} photo-like JPEGs of 375–500 px (mean ${fmt(bytes.reduce((a, b) => a + b, 0) / bytes.length / 1024)} KB), at ${SIZE}×${SIZE}, batch ${BATCH}`, '');
  if (datasetFn !== imageDatasetFromDirectory) md.push('Dataset rows run from `dist/` (--dist).', '');
  md.push(`Machine: ${os.availableParallelism()} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} at the start of this section (shared machine: compare the paired ratios, not the absolute rates).`, '');
  if (selected('photos/decode')) md.push('One decoding pass (read, decode, resize to 100×100, make batches):', '', await decodeTable(dir, 3, log), '');
  if (selected('photos/fit')) md.push('`fit` of the seed model, 3 epochs, each source in turn in one process:', '', await fitTable(dir, 3, log), '');
  if (selected('photos/rss')) md.push(rssRow(linkedSet(dir, 5000), log), '');
  return md.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const at = (name: string): string | undefined => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
  const filter = at('filter')?.toLowerCase();
  if (argv.includes('--dist')) datasetFn = ((await import(path.join(here, '..', 'dist', 'index.js'))) as { imageDatasetFromDirectory: typeof imageDatasetFromDirectory }).imageDatasetFromDirectory;
  const started = performance.now();
  const log = (m: string): void => void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  console.log(await photoBench((k) => !filter || k.includes(filter), log, Number(at("count") ?? 160)));
}
