// The built-in cats-vs-dogs images (synthetic-cats-dogs.ts) drawn straight into tensors, without
// files: what a page (examples/browser/) trains on, where generateCatsDogs cannot write a folder.
import { tensor, type Tensor2D, type Tensor4D } from '../tensor.js';
import { checkOptionKeys } from '../util/options.js';
import { mixSeed, mulberry32 } from '../util/data-random.js';
import { resizeImage } from '../image/resize.js';
import { drawCatOrDog } from './synthetic-cats-dogs.js';

/** Options of {@link catsDogsTensors}. */
export interface CatsDogsTensorsOptions {
  /** Number of images. */
  count: number;
  /** Height and width of every image (each drawn at a random size from `size` to twice that, at least 32 px, then resized bilinearly). */
  size: number;
  /** Fraction of cats, default 0.5. */
  catFraction?: number;
  /** Seed of the drawings and of the order, default 0. */
  seed?: number;
}

/**
 * Synthetic cats and dogs drawn as `generateCatsDogs` draws them (drawCatOrDog; not the same
 * pictures as its files, which also draw their format and quality) as `x` `[count, size, size, 3]` with values in [0, 1] and labels `y` `[count, 1]` (1 = dog), in a
 * seeded shuffled order (so that `validationSplit`, which takes the last samples, sees both).
 * @example
 * const { x, y } = catsDogsTensors({ count: 400, size: 48, seed: 1 });
 * await model.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.2 });
 */
export function catsDogsTensors(options: CatsDogsTensorsOptions): { x: Tensor4D; y: Tensor2D } {
  checkOptionKeys('catsDogsTensors', options, ['count', 'size', 'catFraction', 'seed']);
  const { count, size, catFraction = 0.5, seed = 0 } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`catsDogsTensors: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(size) || size < 8 || size > 512) throw new Error(`catsDogsTensors: size must be an integer in [8, 512], got ${size}`);
  if (!(catFraction >= 0 && catFraction <= 1)) throw new Error(`catsDogsTensors: catFraction must be in [0, 1], got ${catFraction}`);
  const cats = Math.round(count * catFraction);
  const order = Array.from({ length: count }, (_, i) => i);
  const shuffle = mulberry32(mixSeed(seed, 3));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const per = size * size * 3;
  const x = new Float32Array(count * per);
  const y = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const isCat = k < cats;
    const index = isCat ? k : k - cats;
    const rand = mulberry32(mixSeed(seed, isCat ? 1 : 2, index));
    // Drawn near the target size rather than at generateCatsDogs' 80–160 px: drawing dominates the time in a page.
    const lo = Math.max(32, size);
    const width = lo + Math.floor(rand() * (lo + 1));
    const height = lo + Math.floor(rand() * (lo + 1));
    const img = resizeImage(drawCatOrDog(isCat ? 'cat' : 'dog', rand, width, height), [size, size], 'bilinear');
    const at = order[k];
    for (let i = 0; i < per; i++) x[at * per + i] = img.data[i] / 255;
    y[at] = isCat ? 0 : 1;
  }
  return { x: tensor(x, [count, size, size, 3]) as Tensor4D, y: tensor(y, [count, 1]) as Tensor2D };
}
