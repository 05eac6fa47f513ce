import { tensor } from '../tensor.js';
import { ImageDecodeError } from '../image/decode.js';
import { checkOptionKeys } from '../image/load.js';
import { resolveDecoder, type ImageDecoder } from '../image/sharp-decoder.js';
import { FileImageCache, MemoryImageCache, type ImageCache } from './cache.js';
import { DecodePool, decodeFile, type DecodeResult } from './decode-pool.js';
import type { ColorMode, Interpolation } from '../image/resize.js';
import { checkLabelMode, encodeLabels, type Batch, type Dataset, type LabelMode } from './dataset.js';
import { mixSeed, mulberry32, randomSeed, shuffleInPlace } from '../util/data-random.js';
import { countClasses, reportBadFiles, scanImageDirectory, type LabelledFile, type OnBadFile, type SkippedFile } from './scan.js';
import { lazyFunctions, nodeBuiltin } from '../util/node-builtins.js';

// Fetched on first call (see util/node-builtins.ts).
const { availableParallelism } = lazyFunctions('node:os', ['availableParallelism'], 'imageDatasetFromDirectory');

/** Options of {@link imageDatasetFromDirectory}. */
export interface ImageDatasetOptions {
  /** `[height, width]` every image is resized to; default `[256, 256]`. */
  imageSize?: readonly [number, number];
  /** Default 32. The last batch may be smaller. */
  batchSize?: number;
  /** Default `'int'` (Keras); for two classes `'int'` and `'binary'` give the same `[batch, 1]` 0/1 labels. */
  labelMode?: LabelMode;
  /** Classes to use, in label order; default all, sorted by name. */
  classNames?: readonly string[];
  /** Default `'rgb'`. */
  colorMode?: ColorMode;
  /** Fraction in (0, 1) held out for validation, stratified per class; needs `subset`. */
  validationSplit?: number;
  /** Which part of the split to return; `'both'` returns `[training, validation]`. */
  subset?: 'training' | 'validation' | 'both';
  /** Reshuffle the order every epoch; default true. */
  shuffle?: boolean;
  /** Seed of the split and of the shuffles; required with `validationSplit` unless `subset` is `'both'`. */
  seed?: number;
  /** Multiplies pixel values (e.g. `1 / 255`); default 1 (0–255). */
  rescale?: number;
  /** Resize filter, default `'bilinear'` (anti-aliased when shrinking). */
  interpolation?: Interpolation;
  /** Default `'error'`. */
  onBadFile?: OnBadFile;
  /** Batches decoded ahead of the consumer; default 2. */
  prefetch?: number;
  /** Default `'auto'`: sharp when it is installed, else jpeg-js/pngjs; see {@link ImageDecoder}. */
  decoder?: ImageDecoder;
  /**
   * Worker threads that read, decode and resize (a {@link DecodePool} per epoch, closed when
   * the epoch's iteration ends or breaks); default `os.availableParallelism()`. 0 decodes on
   * the calling thread. The batches do not depend on it.
   */
  workers?: number;
  /**
   * Keep the decoded, resized images (uint8, before `rescale`) after the first epoch, as
   * tf.data's `.cache()`: `true` in memory (`n·height·width·channels` bytes), a path to a file
   * that later epochs and later runs read (see {@link FileImageCache}; with `subset: 'both'` the
   * two subsets use `<path>.training` and `<path>.validation`). Cached pixels are rounded to
   * whole numbers, in the first epoch too. Default false.
   */
  cache?: boolean | string;
  /** Progress bar on stderr while scanning; default: only when stderr is a TTY. */
  progress?: boolean;
}

const OPTION_KEYS = new Set([
  'imageSize', 'batchSize', 'labelMode', 'classNames', 'colorMode', 'validationSplit', 'subset',
  'shuffle', 'seed', 'rescale', 'interpolation', 'onBadFile', 'prefetch', 'progress', 'decoder', 'workers', 'cache',
]);

/** Counters of an {@link ImageDirectoryDataset}, for tests and for watching memory. */
export interface DatasetStats {
  /** Batches decoded (or being decoded) and not yet released by the consumer. */
  liveBatches: number;
  /** The highest `liveBatches` seen. */
  maxLiveBatches: number;
  batchesDecoded: number;
  imagesDecoded: number;
  /** Images taken from the cache instead of being decoded. */
  imagesFromCache: number;
  /** Images decoded by the worker pool (the rest of `imagesDecoded` ran on the calling thread). */
  imagesDecodedInWorkers: number;
}

interface ResolvedOptions {
  imageSize: readonly [number, number];
  batchSize: number;
  labelMode: LabelMode;
  colorMode: ColorMode;
  shuffle: boolean;
  seed: number;
  rescale: number;
  interpolation: Interpolation;
  onBadFile: OnBadFile;
  prefetch: number;
  decoder: 'sharp' | 'js';
  workers: number;
  cache: false | true | string;
}

/**
 * A streaming image dataset: it holds only file paths and labels, and decodes each batch
 * when it is needed, with up to `prefetch` batches decoded ahead (file reads are async,
 * decoding is synchronous). So at most `prefetch + 1` batches are alive at a time,
 * whatever the number of files.
 *
 * A file that passed the scan but fails to decode (corrupt in the middle) either throws
 * (`onBadFile: 'error'`) or, with `'skip'`, is left out of its batch (which is then one
 * shorter), reported in one warning at the end of that epoch and excluded from later epochs
 * (`size` and `numBatches` then shrink).
 */
export class ImageDirectoryDataset implements Dataset {
  readonly batchSize: number;
  readonly classNames: string[];
  /** The labelled files, in scan order (by class, then path). */
  readonly files: readonly LabelledFile[];
  /** Files left out so far (bad at scan time, or at decode time with `onBadFile: 'skip'`). */
  readonly skipped: SkippedFile[];
  readonly stats: DatasetStats = { liveBatches: 0, maxLiveBatches: 0, batchesDecoded: 0, imagesDecoded: 0, imagesFromCache: 0, imagesDecodedInWorkers: 0 };
  /** The cache of decoded images, when the `cache` option is on (opened by the first epoch). */
  cache: ImageCache | undefined;
  private readonly options: ResolvedOptions;
  private readonly excluded = new Set<number>();
  private epochCounter = 0;

  /** Prefer {@link imageDatasetFromDirectory}; this takes an already scanned file list. */
  constructor(files: readonly LabelledFile[], classNames: readonly string[], options: ResolvedOptions, skipped: SkippedFile[] = []) {
    this.files = files;
    this.classNames = [...classNames];
    this.options = options;
    this.batchSize = options.batchSize;
    this.skipped = skipped;
  }

  get size(): number {
    return this.files.length - this.excluded.size;
  }

  get numBatches(): number {
    return Math.ceil(this.size / this.batchSize);
  }

  get classCounts(): Record<string, number> {
    return countClasses(this.files.filter((_, i) => !this.excluded.has(i)), this.classNames);
  }

  /** The sample order of an epoch: file order, or a shuffle seeded by `seed` and `epoch`. */
  order(epoch: number): number[] {
    const order: number[] = [];
    for (let i = 0; i < this.files.length; i++) if (!this.excluded.has(i)) order.push(i);
    return this.options.shuffle ? shuffleInPlace(order, mulberry32(mixSeed(this.options.seed, 0xe70c, epoch))) : order;
  }

  /**
   * Batches of one epoch. `epoch` fixes the shuffle; without it, each call uses the next
   * epoch number (0, 1, 2, …).
   */
  async *batches(opts: { epoch?: number } = {}): AsyncIterable<Batch> {
    const epoch = opts.epoch ?? this.epochCounter++;
    const order = this.order(epoch);
    const { batchSize, prefetch } = this.options;
    const count = Math.ceil(order.length / batchSize);
    const failed: SkippedFile[] = [];
    const pending: Promise<Batch | undefined>[] = [];
    let next = 0;
    let held = false;
    const cache = this.openCache();
    const needsDecoding = !cache || order.some((i) => cache.slot(i) === 'empty');
    const pool = needsDecoding && this.options.workers > 0 ? new DecodePool(this.options.workers, 'imageDatasetFromDirectory') : undefined;
    const start = (): void => {
      const indices = order.slice(next * batchSize, (next + 1) * batchSize);
      next++;
      const p = this.decodeBatch(indices, failed, pool, cache);
      p.catch(() => undefined); // handled when awaited; this keeps a consumer's early exit quiet
      pending.push(p);
      this.stats.liveBatches++;
      this.stats.maxLiveBatches = Math.max(this.stats.maxLiveBatches, this.stats.liveBatches);
    };
    try {
      while (next < count || pending.length > 0) {
        if (pending.length === 0) start();
        held = true;
        const batch = await pending.shift()!;
        while (pending.length < prefetch && next < count) start();
        if (batch) yield batch;
        held = false;
        this.stats.liveBatches--;
      }
    } finally {
      // The consumer stopped early or a batch threw: the pending batches are dropped.
      this.stats.liveBatches -= pending.length + (held ? 1 : 0);
      pending.length = 0;
      if (pool) {
        await pool.close();
        this.stats.imagesDecodedInWorkers += pool.decodedInWorkers;
      }
      cache?.endEpoch();
      if (failed.length > 0) {
        this.skipped.push(...failed);
        reportBadFiles('imageDatasetFromDirectory', failed, 'skip');
      }
    }
  }

  private openCache(): ImageCache | undefined {
    const { cache, imageSize, colorMode, interpolation, decoder } = this.options;
    if (cache === false || this.cache) return this.cache;
    const per = imageSize[0] * imageSize[1] * (colorMode === 'grayscale' ? 1 : 3);
    this.cache = cache === true
      ? new MemoryImageCache(this.files.length, per)
      : new FileImageCache(cache, { options: { imageSize, colorMode, interpolation, decoder }, paths: this.files.map((f) => f.path) }, 'imageDatasetFromDirectory');
    return this.cache;
  }

  private async decodeBatch(indices: number[], failed: SkippedFile[], pool: DecodePool | undefined, cache: ImageCache | undefined): Promise<Batch | undefined> {
    const { imageSize, colorMode, interpolation, rescale, labelMode, onBadFile, decoder } = this.options;
    const [h, w] = imageSize;
    const c = colorMode === 'grayscale' ? 1 : 3;
    const per = h * w * c;
    const results = await Promise.all(
      indices.map((i): DecodeResult | 'cached' | Promise<DecodeResult> => {
        const slot = cache?.slot(i);
        if (slot === 'ok') return 'cached';
        if (slot === 'bad') return { ok: false, reason: cache!.reason(i) };
        const job = { path: this.files[i].path, targetSize: imageSize, colorMode, interpolation, decoder };
        return pool ? pool.decode(job) : decodeFile(job);
      }),
    );
    const x = new Float32Array(indices.length * per);
    const labels: number[] = [];
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      const file = this.files[i];
      const r = results[k];
      if (r !== 'cached' && !r.ok) {
        if (onBadFile === 'error') throw new ImageDecodeError(file.path, r.reason);
        failed.push({ path: file.path, reason: r.reason });
        this.excluded.add(i);
        if (cache?.slot(i) === 'empty') cache.markBad(i, r.reason);
        continue;
      }
      let pixels: Uint8Array | Float32Array;
      if (r === 'cached') {
        pixels = cache!.read(i);
        this.stats.imagesFromCache++;
      } else {
        pixels = r.image.data;
        if (pixels.length !== per) throw new Error(`imageDatasetFromDirectory: "${file.path}" decoded to ${pixels.length} values, expected ${per}`);
        if (cache) {
          // The first epoch sees the same rounded pixels as the later ones.
          if (!(pixels instanceof Uint8Array)) pixels = roundToBytes(pixels);
          cache.write(i, pixels);
        }
        this.stats.imagesDecoded++;
      }
      const dst = labels.length * per;
      if (rescale === 1) x.set(pixels, dst);
      else for (let j = 0; j < per; j++) x[dst + j] = pixels[j] * rescale;
      labels.push(file.label);
    }
    this.stats.batchesDecoded++;
    if (labels.length === 0) return undefined;
    const n = labels.length;
    const y = encodeLabels(labels, labelMode, this.classNames.length);
    return {
      x: tensor(n === indices.length ? x : x.subarray(0, n * per), [n, h, w, c]),
      y: tensor(y.values, [n, y.width]),
    };
  }
}

/** Rounds 0–255 floats to bytes (half away from zero, as `Math.round` on non-negative values). */
function roundToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]);
  return out;
}

/** Stratified split: per class, a seeded shuffle, then `round(n·split)` files (at least 1, at most n − 1) go to validation. */
function splitFiles(files: readonly LabelledFile[], classNames: readonly string[], split: number, seed: number): [LabelledFile[], LabelledFile[]] {
  const train: LabelledFile[] = [];
  const val: LabelledFile[] = [];
  for (let label = 0; label < classNames.length; label++) {
    const ofClass = files.filter((f) => f.label === label);
    if (ofClass.length < 2) {
      throw new Error(`imageDatasetFromDirectory: class '${classNames[label]}' has ${ofClass.length} image(s); a validation split needs at least 2 per class so that both subsets contain it`);
    }
    shuffleInPlace(ofClass, mulberry32(mixSeed(seed, 0x5b17, label)));
    const nVal = Math.min(ofClass.length - 1, Math.max(1, Math.round(ofClass.length * split)));
    val.push(...ofClass.slice(0, nVal));
    train.push(...ofClass.slice(nVal));
  }
  const byScanOrder = (a: LabelledFile, b: LabelledFile): number => a.label - b.label || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return [train.sort(byScanOrder), val.sort(byScanOrder)];
}

/**
 * A streaming {@link Dataset} of the images in a directory, like Keras
 * `image_dataset_from_directory`. Labels come from sub-folders (`cats/`, `dogs/`, sorted by
 * name) or, when `dir` has no sub-folders, from Kaggle file names (`cat.123.jpg`,
 * `dog.42.jpg`). Only paths and labels are held in memory; images are read and decoded per
 * batch, `prefetch` batches ahead.
 *
 * The scan checks every file's magic bytes and end marker (see {@link scanImageDirectory}),
 * so unreadable, non-image and truncated files are found before training: they throw one
 * error naming each file and reason, or with `onBadFile: 'skip'` are left out with one
 * warning listing every skipped path.
 *
 * `validationSplit` splits each class separately (seeded), so both subsets contain every
 * class; `classCounts` are per subset. Throws on unknown options.
 *
 * @example
 * const [train, val] = await imageDatasetFromDirectory('data/cats-vs-dogs', {
 *   imageSize: [64, 64], batchSize: 32, labelMode: 'binary',
 *   validationSplit: 0.2, subset: 'both', seed: 42, rescale: 1 / 255,
 * });
 * train.classCounts; // { cats: 400, dogs: 1200 }
 */
export function imageDatasetFromDirectory(dir: string, options: ImageDatasetOptions & { subset: 'both' }): Promise<[ImageDirectoryDataset, ImageDirectoryDataset]>;
export function imageDatasetFromDirectory(dir: string, options?: ImageDatasetOptions & { subset?: 'training' | 'validation' }): Promise<ImageDirectoryDataset>;
export function imageDatasetFromDirectory(dir: string, options?: ImageDatasetOptions): Promise<ImageDirectoryDataset | [ImageDirectoryDataset, ImageDirectoryDataset]>;
export async function imageDatasetFromDirectory(dir: string, options: ImageDatasetOptions = {}): Promise<ImageDirectoryDataset | [ImageDirectoryDataset, ImageDirectoryDataset]> {
  const fn = 'imageDatasetFromDirectory';
  checkOptionKeys(fn, options, OPTION_KEYS);
  const {
    imageSize = [256, 256], batchSize = 32, labelMode = 'int', classNames, colorMode = 'rgb', validationSplit, subset,
    shuffle = true, seed, rescale = 1, interpolation = 'bilinear', onBadFile = 'error', prefetch = 2, progress,
    workers = availableParallelism(), cache = false,
  } = options;
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`${fn}: workers must be a non-negative integer (0 decodes on the calling thread), got ${workers}`);
  if (cache !== false && cache !== true && (typeof cache !== 'string' || cache === '')) throw new Error(`${fn}: cache must be true, false or a file path, got ${JSON.stringify(cache)}`);
  const decoder = await resolveDecoder(fn, options.decoder);
  if (imageSize.length !== 2 || !imageSize.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`${fn}: imageSize must be [height, width] of positive integers, got [${imageSize.join(', ')}]`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(prefetch) || prefetch < 0) throw new Error(`${fn}: prefetch must be a non-negative integer, got ${prefetch}`);
  if (colorMode !== 'rgb' && colorMode !== 'grayscale') throw new Error(`${fn}: unknown colorMode '${String(colorMode)}'; expected 'rgb' or 'grayscale'`);
  if (!['bilinear', 'nearest', 'area'].includes(interpolation)) throw new Error(`${fn}: unknown interpolation '${String(interpolation)}'; expected 'bilinear', 'nearest' or 'area'`);
  if (onBadFile !== 'error' && onBadFile !== 'skip') throw new Error(`${fn}: onBadFile must be 'error' or 'skip', got '${String(onBadFile)}'`);
  if (!Number.isFinite(rescale)) throw new Error(`${fn}: rescale must be a finite number, got ${rescale}`);
  if (validationSplit !== undefined) {
    if (!(validationSplit > 0 && validationSplit < 1)) throw new Error(`${fn}: validationSplit must be in (0, 1), got ${validationSplit}`);
    if (subset === undefined) throw new Error(`${fn}: validationSplit ${validationSplit} needs subset 'training', 'validation' or 'both'`);
    if (subset !== 'both' && seed === undefined) throw new Error(`${fn}: validationSplit with subset '${subset}' needs a seed, so that the training and validation calls split the files the same way`);
  }
  if (subset !== undefined) {
    if (subset !== 'training' && subset !== 'validation' && subset !== 'both') throw new Error(`${fn}: unknown subset '${String(subset)}'; expected 'training', 'validation' or 'both'`);
    if (validationSplit === undefined) throw new Error(`${fn}: subset '${subset}' needs validationSplit`);
  }

  const scan = await scanImageDirectory(dir, { classNames, progress, fn });
  checkLabelMode(fn, labelMode, scan.classNames);
  reportBadFiles(fn, scan.skipped, onBadFile);
  const resolved: ResolvedOptions = {
    imageSize: [imageSize[0], imageSize[1]], batchSize, labelMode, colorMode, shuffle, seed: seed ?? randomSeed(), rescale, interpolation, onBadFile, prefetch,
    decoder, workers, cache,
  };
  if (validationSplit === undefined) return new ImageDirectoryDataset(scan.files, scan.classNames, resolved, [...scan.skipped]);
  const [train, val] = splitFiles(scan.files, scan.classNames, validationSplit, resolved.seed);
  const make = (files: LabelledFile[], salt: number): ImageDirectoryDataset => {
    const cacheOf = typeof cache === 'string' && subset === 'both' ? `${cache}.${salt === 1 ? 'training' : 'validation'}` : cache;
    return new ImageDirectoryDataset(files, scan.classNames, { ...resolved, seed: mixSeed(resolved.seed, salt), cache: cacheOf }, [...scan.skipped]);
  };
  if (subset === 'training') return make(train, 1);
  if (subset === 'validation') return make(val, 2);
  return [make(train, 1), make(val, 2)];
}
