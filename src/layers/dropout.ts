import { getBackend } from '../backend/index.js';
import { outputF32 } from '../backend/arena.js';
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
 * (1 − rate); in inference it is the identity.
 *
 * @example
 * new layers.Dropout({ rate: 0.5 });
 */
export class Dropout extends RandomLayer<Float32Array> {
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

  /** y = x · mask, the mask holding 0 (probability rate) or 1 / (1 − rate). */
  protected draw(x: Tensor, rng: Random): { y: Tensor; saved: Float32Array } {
    const keep = 1 / (1 - this.rate);
    const mask = outputF32(x.size);
    rng.fillBernoulli(mask, this.rate, 0, keep);
    // Forward and backward both read the mask: the gpu backend uploads it once.
    const held = getBackend().hold(mask);
    return { y: wrap(getBackend().multiply(x.values, held), x.shape), saved: held };
  }

  protected drawBackward(dy: Tensor, mask: Float32Array): Tensor {
    return wrap(getBackend().multiply(dy.values, mask), dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, ...this.seedConfig() };
  }
}
