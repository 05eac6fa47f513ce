import type { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { RandomLayer, type RandomLayerConfig } from './random-layer.js';

/** Options of {@link RandomTranslation}. */
export interface RandomTranslationConfig extends RandomLayerConfig {
  /** Largest vertical shift as a fraction of the height, or [lower, upper] (e.g. [-0.1, 0.1]). */
  heightFactor: number | [number, number];
  /** Largest horizontal shift as a fraction of the width, or [lower, upper]. */
  widthFactor: number | [number, number];
  /** How pixels shifted in from outside are filled: 'constant' (fillValue), 'nearest' (edge) or 'reflect'. Default 'reflect' as Keras. */
  fillMode?: 'constant' | 'nearest' | 'reflect';
  fillValue?: number;
}

function range(factor: number | [number, number], what: string, owner: string): [number, number] {
  const r: [number, number] = typeof factor === 'number' ? [-Math.abs(factor), Math.abs(factor)] : [factor[0], factor[1]];
  if (!r.every((v) => Number.isFinite(v) && Math.abs(v) <= 1) || r[0] > r[1]) {
    throw new Error(`${owner}: ${what} must be a fraction in [-1, 1] or [lower, upper], got ${JSON.stringify(factor)}`);
  }
  return r;
}

/** Source index along an axis of length n for a shifted destination index, or -1 for the fill value. */
function source(i: number, n: number, mode: 'constant' | 'nearest' | 'reflect'): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'nearest') return i < 0 ? 0 : n - 1;
  // 'reflect' as Keras (d c b a | a b c d | d c b a): mirror including the edge pixel.
  const period = 2 * n;
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - 1 - k;
  return k;
}

/**
 * Augmentation: shifts each image by a random whole number of pixels in training; identity in
 * inference. Shifts are rounded to whole pixels (Keras interpolates bilinearly between them).
 *
 * @example
 * model.add(new layers.RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }));
 */
export class RandomTranslation extends RandomLayer<Int32Array> {
  readonly className = 'RandomTranslation';
  readonly heightRange: [number, number];
  readonly widthRange: [number, number];
  readonly fillMode: 'constant' | 'nearest' | 'reflect';
  readonly fillValue: number;

  constructor(config: RandomTranslationConfig) {
    super(config, 'RandomTranslation', ['heightFactor', 'widthFactor', 'fillMode', 'fillValue']);
    const owner = this.owner;
    this.heightRange = range(config.heightFactor, 'heightFactor', owner);
    this.widthRange = range(config.widthFactor, 'widthFactor', owner);
    this.fillMode = config.fillMode ?? 'reflect';
    if (!['constant', 'nearest', 'reflect'].includes(this.fillMode)) throw new Error(`${owner}: fillMode must be 'constant', 'nearest' or 'reflect', got ${JSON.stringify(config.fillMode)}`);
    this.fillValue = config.fillValue ?? 0;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    expectImageShape(inputShape, this.owner);
    return [...inputShape];
  }

  /** Shifts each image; saves, for every output pixel, its source pixel index or -1 (the fill value). */
  protected draw(x: Tensor, rng: Random): { y: Tensor; saved: Int32Array } {
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    const pixels = h * w;
    const index = new Int32Array(batch * pixels);
    const y = new Float32Array(x.size);
    for (let n = 0; n < batch; n++) {
      const dy = Math.round(rng.uniform(this.heightRange[0], this.heightRange[1]) * h);
      const dx = Math.round(rng.uniform(this.widthRange[0], this.widthRange[1]) * w);
      for (let i = 0; i < h; i++) {
        const si = source(i - dy, h, this.fillMode);
        for (let j = 0; j < w; j++) {
          const sj = source(j - dx, w, this.fillMode);
          const o = n * pixels + i * w + j;
          const src = si < 0 || sj < 0 ? -1 : n * pixels + si * w + sj;
          index[o] = src;
          for (let k = 0; k < c; k++) y[o * c + k] = src < 0 ? this.fillValue : x.values[src * c + k];
        }
      }
    }
    return { y: wrap<4>(y, [batch, h, w, c]), saved: index };
  }

  protected drawBackward(dy: Tensor, index: Int32Array): Tensor {
    const c = dy.shape[3]!;
    const dx = new Float32Array(dy.size);
    for (let o = 0; o < index.length; o++) {
      const src = index[o];
      if (src < 0) continue;
      for (let k = 0; k < c; k++) dx[src * c + k] += dy.values[o * c + k];
    }
    return wrap(dx, dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      heightFactor: [...this.heightRange],
      widthFactor: [...this.widthRange],
      fillMode: this.fillMode,
      fillValue: this.fillValue,
      ...this.seedConfig(),
    };
  }
}
