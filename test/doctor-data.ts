// Real data for the training-doctor tests: MNIST digits from the `mnist` package (taken by index
// through a seeded permutation per digit, as test/mnist.test.ts explains) and a small built-in
// cats-vs-dogs set drawn by generateCatsDogs into a temporary folder once per process.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCatsDogs, loadImagesFromDirectory } from '../src/data/index.js';
import { tensor, type Tensor } from '../src/tensor.js';
import { rng } from './helpers.js';

interface MnistDigit {
  id: number;
  length: number;
  get(i: number): number[];
}

const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
const PIXELS = 28 * 28;

function shuffled<T>(items: T[], seed: number): T[] {
  const r = rng(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const order = mnist.map((d) => shuffled(Array.from({ length: d.length }, (_, i) => i), 100 + d.id));

/** One MNIST image with its digit. */
export interface Digit {
  digit: number;
  pixels: number[];
}

/** `perDigit` images of each digit in `digits`, from position `from` of each digit's permutation; shuffled with `seed` unless `seed` is null. */
export function digits(list: readonly number[], perDigit: number, from: number, seed: number | null): Digit[] {
  const out = list.flatMap((d) => order[d].slice(from, from + perDigit).map((i) => ({ digit: d, pixels: mnist[d].get(i) })));
  return seed === null ? out : shuffled(out, seed);
}

/** Images as `[n, 28, 28, 1]` in [0, 1]. */
export function images(samples: readonly Digit[]): Tensor {
  const x = new Float32Array(samples.length * PIXELS);
  samples.forEach((s, i) => x.set(s.pixels, i * PIXELS));
  return tensor(x, [samples.length, 28, 28, 1]);
}

/** One-hot labels `[n, 10]`. */
export function oneHot(samples: readonly Digit[]): Tensor {
  const y = new Float32Array(samples.length * 10);
  samples.forEach((s, i) => (y[i * 10 + s.digit] = 1));
  return tensor(y, [samples.length, 10]);
}

/** Binary labels `[n, 1]`: 1 for `positive`. */
export function binary(samples: readonly Digit[], positive: number): Tensor {
  return tensor(samples.map((s) => (s.digit === positive ? 1 : 0)), [samples.length, 1]);
}

let catsDogs: Promise<{ x: Tensor; y: Tensor }> | null = null;

/**
 * 400 built-in cats and dogs (25 % cats, seed 1, 64–80 px files), loaded at 64×64 (the
 * example's size) in [0, 1], shuffled (seed 1); y is 1 for dogs.
 */
export function catsDogs64(): Promise<{ x: Tensor; y: Tensor }> {
  catsDogs ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tscnn-doctor-'));
    await generateCatsDogs({ outDir: dir, count: 400, catFraction: 0.25, seed: 1, minSize: 64, maxSize: 80 });
    const loaded = await loadImagesFromDirectory(dir, { imageSize: [64, 64], labelMode: 'binary', rescale: 1 / 255, shuffle: true, seed: 1 });
    return { x: loaded.x, y: loaded.y };
  })();
  return catsDogs;
}
