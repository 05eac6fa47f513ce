import { getBackend } from '../backend/index.js';
import type { ContrastInfo } from '../backend/types.js';
import type { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { RandomLayer, type RandomLayerConfig } from './random-layer.js';

/** Options of {@link RandomContrast}. */
export interface RandomContrastConfig extends RandomLayerConfig {
  /**
   * Contrast factors are drawn from [1 − lower, 1 + upper]: a number f is [f, f]; lower in [0, 1],
   * upper ≥ 0.
   */
  factor: number | [number, number];
  /** The range outputs are clipped to, [low, high]; default [0, 255] (Keras 3's `value_range`). */
  valueRange?: [number, number];
}

/**
 * Augmentation: scales each image's contrast by a random factor in training, per channel about the
 * channel's mean over the image: y = clip((x − mean)·factor + mean, valueRange); identity in
 * inference. Keras 3's `RandomContrast`: one factor per image, the clip to `valueRange`.
 *
 * @example
 * model.add(new layers.RandomContrast({ factor: 0.2, valueRange: [0, 1] }));
 */
export class RandomContrast extends RandomLayer<{ x: Float32Array; factors: Float32Array; info: ContrastInfo }> {
  readonly className = 'RandomContrast';
  /** [lower, upper]: factors in [1 − lower, 1 + upper]. */
  readonly factor: [number, number];
  readonly valueRange: [number, number];

  constructor(config: RandomContrastConfig) {
    super(config, 'RandomContrast', ['factor', 'valueRange']);
    const f = config.factor;
    const r = typeof f === 'number' ? [f, f] : Array.isArray(f) && f.length === 2 ? [f[0], f[1]] : null;
    if (!r || !r.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) || r[0] > 1) {
      throw new Error(`${this.owner}: factor must be a number or [lower, upper] with 0 ≤ lower ≤ 1 and upper ≥ 0, got ${JSON.stringify(f)}`);
    }
    this.factor = [r[0], r[1]];
    const v = config.valueRange ?? [0, 255];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => typeof e === 'number' && Number.isFinite(e)) || v[0] >= v[1]) {
      throw new Error(`${this.owner}: valueRange must be [low, high] with low < high, got ${JSON.stringify(config.valueRange)}`);
    }
    this.valueRange = [v[0], v[1]];
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    expectImageShape(inputShape, this.owner);
    return [...inputShape];
  }

  protected draw(x: Tensor, rng: Random): { y: Tensor; saved: { x: Float32Array; factors: Float32Array; info: ContrastInfo } } {
    const [batch, height, width, channels] = x.shape as [number, number, number, number];
    const factors = Float32Array.from({ length: batch }, () => rng.uniform(1 - this.factor[0], 1 + this.factor[1]));
    const info: ContrastInfo = { batch, height, width, channels, lower: this.valueRange[0], upper: this.valueRange[1] };
    return { y: wrap(getBackend().adjustContrast(x.values, factors, info), x.shape), saved: { x: x.values, factors, info } };
  }

  protected drawBackward(dy: Tensor, saved: { x: Float32Array; factors: Float32Array; info: ContrastInfo }): Tensor {
    return wrap(getBackend().adjustContrastBackward(dy.values, saved.x, saved.factors, saved.info), dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: [...this.factor], valueRange: [...this.valueRange], ...this.seedConfig() };
  }
}
