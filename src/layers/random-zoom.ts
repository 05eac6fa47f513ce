import type { Random } from '../util/random.js';
import { factorRange, RandomAffineLayer, type AffineFillConfig } from './random-affine.js';

/** Options of {@link RandomZoom}. */
export interface RandomZoomConfig extends AffineFillConfig {
  /**
   * The vertical zoom range as a fraction of the height, in [−1, 1]: f draws from [−|f|, |f|],
   * or [lower, upper]. Positive values zoom out (the image shrinks), negative ones zoom in.
   */
  heightFactor: number | [number, number];
  /** The same for the width; omitted (or null): each image keeps its aspect ratio, zoomed by its height draw. */
  widthFactor?: number | [number, number] | null;
}

/**
 * Augmentation: zooms each image in or out about its centre by a random factor in training
 * (bilinear by default, points outside filled by `fillMode`); identity in inference. Keras'
 * `RandomZoom`: the same zoom matrix (source = centre + (1 + factor)·(point − centre)) and defaults.
 *
 * @example
 * model.add(new layers.RandomZoom({ heightFactor: [-0.2, 0.2] }));
 */
export class RandomZoom extends RandomAffineLayer {
  readonly className = 'RandomZoom';
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number] | null;

  constructor(config: RandomZoomConfig) {
    super(config, 'RandomZoom', ['heightFactor', 'widthFactor']);
    this.heightFactor = factorRange(config.heightFactor, 'heightFactor', this.owner, 1);
    this.widthFactor = config.widthFactor === undefined || config.widthFactor === null ? null : factorRange(config.widthFactor, 'widthFactor', this.owner, 1);
  }

  protected drawTransform(rng: Random, h: number, w: number): number[] {
    const zy = rng.uniform(1 + this.heightFactor[0], 1 + this.heightFactor[1]);
    const zx = this.widthFactor ? rng.uniform(1 + this.widthFactor[0], 1 + this.widthFactor[1]) : zy;
    return [zx, 0, ((w - 1) / 2) * (1 - zx), 0, zy, ((h - 1) / 2) * (1 - zy)];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), heightFactor: [...this.heightFactor], widthFactor: this.widthFactor ? [...this.widthFactor] : null, ...this.fillConfig(),
    };
  }
}
