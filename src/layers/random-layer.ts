// What the random layers share (Dropout and the augmentation layers: RandomFlip,
// RandomTranslation, RandomRotation, RandomZoom, RandomContrast): an optional seed with its own generator,
// the model's generator otherwise, and the identity outside training.
import { Random } from '../util/random.js';
import type { Tensor } from '../tensor.js';
import { checkKeys, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** The option every random layer accepts. */
export interface RandomLayerConfig extends LayerConfig {
  /** Seed of this layer's own generator; without it, draws come from the model's generator. */
  seed?: number;
}

/**
 * Base of the layers that draw at random in training and are the identity in inference.
 * `S` is what a training forward saves for backward (a mask, the flips, source indices).
 * Subclasses implement {@link draw} and {@link drawBackward}; the constructor rejects unknown
 * keys (`ownKeys` and `seed`) and a seed that is not a finite number, naming the layer.
 */
export abstract class RandomLayer<S> extends Layer {
  readonly seed: number | undefined;
  /** `ClassName 'name'`, the prefix of this layer's errors. */
  protected readonly owner: string;
  private readonly rng: Random | null;
  private saved: S | null = null;

  protected constructor(config: RandomLayerConfig, className: string, ownKeys: readonly string[]) {
    super(config, className);
    checkKeys(className, config, [...ownKeys, 'seed']);
    this.owner = `${className} '${this.name}'`;
    if (config.seed !== undefined && (typeof config.seed !== 'number' || !Number.isFinite(config.seed))) {
      throw new Error(`${this.owner}: seed must be a finite number, got ${JSON.stringify(config.seed)}`);
    }
    this.seed = config.seed;
    this.rng = config.seed === undefined ? null : new Random(config.seed);
  }

  /** y for a training batch x, drawing from `rng`, and what backward needs. */
  protected abstract draw(x: Tensor, rng: Random): { y: Tensor; saved: S };

  /** dx for dy through the draw that saved `saved`. */
  protected abstract drawBackward(dy: Tensor, saved: S): Tensor;

  /** True where a training forward is the identity too (Dropout with rate 0). */
  protected isIdentity(): boolean {
    return false;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.saved = null;
    if (!ctx.training || this.isIdentity()) return x;
    const { y, saved } = this.draw(x, this.rng ?? ctx.rng);
    this.saved = saved;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    const saved = this.saved;
    if (saved === null) return dy;
    this.saved = null;
    return this.drawBackward(dy, saved);
  }

  /** `{ seed }` when one was given, for getConfig after the subclass's own options. */
  protected seedConfig(): Record<string, unknown> {
    return this.seed !== undefined ? { seed: this.seed } : {};
  }
}
