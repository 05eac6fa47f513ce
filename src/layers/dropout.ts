import { getBackend } from '../backend/index.js';
import { outputF32 } from '../backend/arena.js';
import { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';
import { checkKeys, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Options of {@link Dropout}. */
export interface DropoutConfig extends LayerConfig {
  /** Fraction of inputs to drop, in [0, 1). */
  rate: number;
  /** Seed of this layer's own mask generator; otherwise masks come from the model's generator. */
  seed?: number;
}

/**
 * Inverted dropout: in training each value is kept with probability 1 − rate and divided by
 * (1 − rate); in inference it is the identity.
 *
 * @example
 * new layers.Dropout({ rate: 0.5 });
 */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly seed: number | undefined;
  private readonly rng: Random | null;
  private mask: Float32Array | null = null;

  constructor(config: DropoutConfig) {
    super(config, 'Dropout');
    checkKeys('Dropout', config, ['rate', 'seed']);
    if (typeof config.rate !== 'number' || !(config.rate >= 0 && config.rate < 1)) {
      throw new Error(`Dropout '${this.name}': rate must be in [0, 1), got ${config.rate}`);
    }
    this.rate = config.rate;
    this.seed = config.seed;
    this.rng = config.seed === undefined ? null : new Random(config.seed);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.mask = null;
    if (!ctx.training || this.rate === 0) return x;
    const rng = this.rng ?? ctx.rng;
    const keep = 1 / (1 - this.rate);
    const mask = outputF32(x.size);
    rng.fillBernoulli(mask, this.rate, 0, keep);
    // Forward and backward both read the mask: the gpu backend uploads it once.
    this.mask = getBackend().hold(mask);
    return wrap(getBackend().multiply(x.values, this.mask), x.shape);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    if (!this.mask) return dy;
    const dx = getBackend().multiply(dy.values, this.mask);
    this.mask = null;
    return wrap(dx, dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}
