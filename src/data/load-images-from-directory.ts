import { tensor, type Tensor2D, type Tensor4D } from '../tensor.js';
import { ImageDecodeError } from '../image/decode.js';
import { checkOptionKeys, prepareImage } from '../image/load.js';
import type { ColorMode, Interpolation } from '../image/resize.js';
import { checkLabelMode, encodeLabels, type LabelMode } from './dataset.js';
import { ProgressBar } from '../util/data-progress.js';
import { mulberry32, randomSeed, shuffleInPlace } from '../util/data-random.js';
import { countClasses, reportBadFiles, scanImageDirectory, type OnBadFile, type SkippedFile } from './scan.js';
import { nodeBuiltin } from '../util/node-builtins.js';

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

const OPTION_KEYS = new Set(['imageSize', 'labelMode', 'classNames', 'colorMode', 'interpolation', 'rescale', 'shuffle', 'seed', 'onBadFile', 'progress']);

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
    shuffle = false, seed, onBadFile = 'error', progress,
  } = options;
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
  for (const file of files) {
    try {
      const img = prepareImage(await nodeBuiltin('node:fs/promises', 'loadImagesFromDirectory').readFile(file.path), file.path, { targetSize: imageSize, colorMode, interpolation });
      const dst = labels.length * per;
      for (let i = 0; i < per; i++) x[dst + i] = img.data[i] * rescale;
      labels.push(file.label);
      paths.push(file.path);
    } catch (e) {
      const reason = e instanceof ImageDecodeError ? e.reason : `unreadable: ${e instanceof Error ? e.message : String(e)}`;
      if (onBadFile === 'error') throw new ImageDecodeError(file.path, reason);
      failed.push({ path: file.path, reason });
    }
    bar?.tick();
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
