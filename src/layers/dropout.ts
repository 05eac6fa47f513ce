import { getBackend } from '../backend/index.js';
import type { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';
import { RandomLayer, type RandomLayerConfig } from './random-layer.js';

/** Options of {@link Dropout}. */
export interface DropoutConfig extends RandomLayerConfig {
  /** Fraction of inputs to drop, in [0, 1). */
  rate: number;
}

/**
 * Inverted dropout: in training each value is kept with probability 1 − rate and divided by
 * (1 − rate); in inference it is the identity. Each training forward draws one 32-bit seed from the
 * layer's generator (or the model's); the backend derives the mask from it (the backend op
 * `dropout`, the same mask on every backend, computed on the device where the backend has one).
 *
 * @example
 * new layers.Dropout({ rate: 0.5 });
 */
export class Dropout extends RandomLayer<number> {
  readonly className = 'Dropout';
  readonly rate: number;

  constructor(config: DropoutConfig) {
    super(config, 'Dropout', ['rate']);
    if (typeof config.rate !== 'number' || !(config.rate >= 0 && config.rate < 1)) {
      throw new Error(`${this.owner}: rate must be in [0, 1), got ${config.rate}`);
    }
    this.rate = config.rate;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  protected override isIdentity(): boolean {
    return this.rate === 0;
  }

  /** y = x · mask, the mask holding 0 (probability rate) or 1 / (1 − rate); saves the mask's seed. */
  protected draw(x: Tensor, rng: Random): { y: Tensor; saved: number } {
    const seed = rng.nextUint32();
    return { y: wrap(getBackend().dropout(x.values, this.rate, seed), x.shape), saved: seed };
  }

  /** dx = dy · mask, the mask drawn again from its seed. */
  protected drawBackward(dy: Tensor, seed: number): Tensor {
    return wrap(getBackend().dropout(dy.values, this.rate, seed), dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, ...this.seedConfig() };
  }
}
