import { tensor, type Tensor2D, type Tensor4D } from '../tensor.js';
import { ImageDecodeError } from '../image/decode.js';
import { checkOptionKeys } from '../image/load.js';
import { resolveDecoder, type ImageDecoder } from '../image/sharp-decoder.js';
import { DecodePool, decodeFile, type DecodeResult } from './decode-pool.js';
import type { ColorMode, Interpolation } from '../image/resize.js';
import { checkLabelMode, encodeLabels, type LabelMode } from './dataset.js';
import { ProgressBar } from '../util/data-progress.js';
import { mulberry32, randomSeed, shuffleInPlace } from '../util/data-random.js';
import { countClasses, reportBadFiles, scanImageDirectory, type OnBadFile, type SkippedFile } from './scan.js';
import { lazyFunctions, nodeBuiltin } from '../util/node-builtins.js';

// Fetched on first call (see util/node-builtins.ts).
const { availableParallelism } = lazyFunctions('node:os', ['availableParallelism'], 'loadImagesFromDirectory');

/** Options of {@link loadImagesFromDirectory}. */
export interface LoadImagesOptions {
  /** `[height, width]`; default `[256, 256]`. */
  imageSize?: readonly [number, number];
  /** Default `'int'`. */
  labelMode?: LabelMode;
  classNames?: readonly string[];
  /** Default `'rgb'`. */
  colorMode?: ColorMode;
  /** Default `'bilinear'`. */
  interpolation?: Interpolation;
  /** Multiplies pixel values; default 1 (0–255). */
  rescale?: number;
  /** Shuffle the samples once (seeded); default false (sorted by class, then path). */
  shuffle?: boolean;
  seed?: number;
  /** Default `'error'`. */
  onBadFile?: OnBadFile;
  /** Progress bars on stderr for the scan and the load; default: only on a TTY. */
  progress?: boolean;
  /** Default `'auto'`: sharp when it is installed, else jpeg-js/pngjs. */
  decoder?: ImageDecoder;
  /** Worker threads that decode (see {@link DecodePool}); default `os.availableParallelism()`, 0: the calling thread. */
  workers?: number;
}

/** The result of {@link loadImagesFromDirectory}. */
export interface LoadedImages {
  /** `[n, height, width, channels]` */
  x: Tensor4D;
  /** `[n, 1]` ('binary'/'int') or `[n, classes]` ('categorical') */
  y: Tensor2D;
  classNames: string[];
  classCounts: Record<string, number>;
  /** The file of each sample, in the order of `x`. */
  paths: string[];
  skipped: SkippedFile[];
}

const OPTION_KEYS = new Set(['imageSize', 'labelMode', 'classNames', 'colorMode', 'interpolation', 'rescale', 'shuffle', 'seed', 'onBadFile', 'progress', 'decoder', 'workers']);

/**
 * Loads every image of a directory into memory at once (the non-streaming counterpart of
 * {@link imageDatasetFromDirectory}; same layouts, same scan and bad-file handling), with a
 * progress bar. Needs `n·height·width·channels·4` bytes: use the streaming dataset for
 * large folders.
 *
 * @example
 * const { x, y, classNames } = await loadImagesFromDirectory('data', { imageSize: [64, 64], rescale: 1 / 255 });
 * const { xTrain, xTest, yTrain, yTest } = trainTestSplit(x, y, { testSize: 0.2, seed: 1 });
 */
export async function loadImagesFromDirectory(dir: string, options: LoadImagesOptions = {}): Promise<LoadedImages> {
  const fn = 'loadImagesFromDirectory';
  checkOptionKeys(fn, options, OPTION_KEYS);
  const {
    imageSize = [256, 256], labelMode = 'int', classNames, colorMode = 'rgb', interpolation = 'bilinear', rescale = 1,
    shuffle = false, seed, onBadFile = 'error', progress, workers = availableParallelism(),
  } = options;
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`${fn}: workers must be a non-negative integer (0 decodes on the calling thread), got ${workers}`);
  const decoder = await resolveDecoder(fn, options.decoder);
  if (onBadFile !== 'error' && onBadFile !== 'skip') throw new Error(`${fn}: onBadFile must be 'error' or 'skip', got '${String(onBadFile)}'`);
  const scan = await scanImageDirectory(dir, { classNames, progress, fn });
  checkLabelMode(fn, labelMode, scan.classNames);
  reportBadFiles(fn, scan.skipped, onBadFile);
  const files = [...scan.files];
  if (shuffle) shuffleInPlace(files, mulberry32(seed ?? randomSeed()));

  const [h, w] = imageSize;
  const c = colorMode === 'grayscale' ? 1 : 3;
  const per = h * w * c;
  const x = new Float32Array(files.length * per);
  const labels: number[] = [];
  const paths: string[] = [];
  const failed: SkippedFile[] = [];
  const bar = ProgressBar.enabled(progress) ? new ProgressBar(`Loading ${dir}`, files.length) : undefined;
  const pool = workers > 0 ? new DecodePool(workers, fn) : undefined;
  // A window of jobs in flight keeps the pool busy without holding every decoded image at once.
  const window = Math.max(4, 4 * workers);
  const jobs: Promise<DecodeResult>[] = [];
  const submit = (k: number): void => {
    if (k >= files.length) return;
    const job = { path: files[k].path, targetSize: [h, w] as const, colorMode, interpolation, decoder };
    const p = pool ? pool.decode(job) : decodeFile(job);
    p.catch(() => undefined); // awaited in order below; this keeps an early throw quiet
    jobs[k] = p;
  };
  try {
    for (let k = 0; k < window; k++) submit(k);
    for (let k = 0; k < files.length; k++) {
      const file = files[k];
      const r = await jobs[k];
      delete jobs[k];
      submit(k + window);
      if (r.ok) {
        const dst = labels.length * per;
        for (let i = 0; i < per; i++) x[dst + i] = r.image.data[i] * rescale;
        labels.push(file.label);
        paths.push(file.path);
      } else {
        if (onBadFile === 'error') throw new ImageDecodeError(file.path, r.reason);
        failed.push({ path: file.path, reason: r.reason });
      }
      bar?.tick();
    }
  } finally {
    await pool?.close();
  }
  bar?.finish();
  reportBadFiles(fn, failed, 'skip');
  const n = labels.length;
  const y = encodeLabels(labels, labelMode, scan.classNames.length);
  return {
    x: tensor(x.subarray(0, n * per), [n, h, w, c]),
    y: tensor(y.values, [n, y.width]),
    classNames: scan.classNames,
    classCounts: countClasses(labels.map((label) => ({ path: '', label })), scan.classNames),
    paths,
    skipped: [...scan.skipped, ...failed],
  };
}
