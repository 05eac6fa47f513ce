import type { Random } from '../util/random.js';
import { factorRange, RandomAffineLayer, type AffineFillConfig } from './random-affine.js';

/** Options of {@link RandomRotation}. */
export interface RandomRotationConfig extends AffineFillConfig {
  /**
   * The rotation range as a fraction of a full turn (2π): f draws angles in [−f·2π, f·2π];
   * [lower, upper] in [lower·2π, upper·2π].
   */
  factor: number | [number, number];
}

/**
 * Augmentation: rotates each image by a random angle about its centre in training (bilinear by
 * default, points outside filled by `fillMode`); identity in inference. Keras' `RandomRotation`:
 * the same rotation matrix, fill modes and defaults.
 *
 * @example
 * model.add(new layers.RandomRotation({ factor: 0.1 })); // within ±36°
 */
export class RandomRotation extends RandomAffineLayer {
  readonly className = 'RandomRotation';
  /** [lower, upper] as fractions of 2π. */
  readonly factor: [number, number];

  constructor(config: RandomRotationConfig) {
    super(config, 'RandomRotation', ['factor']);
    this.factor = factorRange(config.factor, 'factor', this.owner);
  }

  protected drawTransform(rng: Random, h: number, w: number): number[] {
    const angle = rng.uniform(this.factor[0] * 2 * Math.PI, this.factor[1] * 2 * Math.PI);
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    const xOffset = (w - 1 - (c * (w - 1) - s * (h - 1))) / 2;
    const yOffset = (h - 1 - (s * (w - 1) + c * (h - 1))) / 2;
    return [c, -s, xOffset, s, c, yOffset];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: [...this.factor], ...this.fillConfig() };
  }
}
