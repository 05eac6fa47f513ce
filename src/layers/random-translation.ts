import type { Random } from '../util/random.js';
import { factorRange, RandomAffineLayer, type AffineFillConfig } from './random-affine.js';

/** Options of {@link RandomTranslation}. */
export interface RandomTranslationConfig extends AffineFillConfig {
  /**
   * The vertical shift range as a fraction of the height, in [−1, 1]: f draws from [−|f|, |f|],
   * or [lower, upper] (e.g. [-0.1, 0.1]). Positive values shift the image down.
   */
  heightFactor: number | [number, number];
  /** The horizontal shift range as a fraction of the width; positive values shift it right. */
  widthFactor: number | [number, number];
}

/**
 * Augmentation: shifts each image by a random fraction of its height and width in training
 * (bilinear between pixels by default, points outside filled by `fillMode`); identity in
 * inference. Keras' `RandomTranslation`: the same translation matrix (source = point − shift),
 * fill modes and defaults.
 *
 * @example
 * model.add(new layers.RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }));
 */
export class RandomTranslation extends RandomAffineLayer {
  readonly className = 'RandomTranslation';
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];

  constructor(config: RandomTranslationConfig) {
    super(config, 'RandomTranslation', ['heightFactor', 'widthFactor']);
    this.heightFactor = factorRange(config.heightFactor, 'heightFactor', this.owner, 1);
    this.widthFactor = factorRange(config.widthFactor, 'widthFactor', this.owner, 1);
  }

  protected drawTransform(rng: Random, h: number, w: number): number[] {
    const dy = rng.uniform(this.heightFactor[0], this.heightFactor[1]) * h;
    const dx = rng.uniform(this.widthFactor[0], this.widthFactor[1]) * w;
    return [1, 0, -dx, 0, 1, -dy];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: [...this.heightFactor], widthFactor: [...this.widthFactor], ...this.fillConfig() };
  }
}
