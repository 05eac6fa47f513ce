import { Random } from '../util/random.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Options of {@link RandomFlip}. */
export interface RandomFlipConfig extends LayerConfig {
  seed?: number;
}

export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

/** Mirrors image `n` of x [batch, h, w, c] into y, left–right and/or top–bottom. */
function flipImage(x: Float32Array, y: Float32Array, n: number, h: number, w: number, c: number, horizontal: boolean, vertical: boolean): void {
  const base = n * h * w * c;
  for (let i = 0; i < h; i++) {
    const si = vertical ? h - 1 - i : i;
    for (let j = 0; j < w; j++) {
      const sj = horizontal ? w - 1 - j : j;
      const dst = base + (i * w + j) * c;
      const src = base + (si * w + sj) * c;
      for (let k = 0; k < c; k++) y[dst + k] = x[src + k];
    }
  }
}

/**
 * Augmentation: flips each image at random (probability ½ per axis) in training; identity in
 * inference, like Keras' `RandomFlip`.
 *
 * @example
 * model.add(new layers.RandomFlip('horizontal', { inputShape: [64, 64, 3] }));
 */
export class RandomFlip extends Layer {
  readonly className = 'RandomFlip';
  readonly mode: FlipMode;
  readonly seed: number | undefined;
  private readonly rng: Random | null;
  private flips: { h: boolean; v: boolean }[] | null = null;

  constructor(mode: FlipMode = 'horizontal_and_vertical', config: RandomFlipConfig = {}) {
    super(config, 'RandomFlip');
    if (mode !== 'horizontal' && mode !== 'vertical' && mode !== 'horizontal_and_vertical') {
      throw new Error(`RandomFlip '${this.name}': mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
    this.seed = config.seed;
    this.rng = config.seed === undefined ? null : new Random(config.seed);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    expectImageShape(inputShape, `RandomFlip '${this.name}'`);
    return [...inputShape];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    this.flips = null;
    if (!ctx.training) return x as Tensor4D;
    const rng = this.rng ?? ctx.rng;
    const flips = Array.from({ length: batch }, () => ({
      h: this.mode !== 'vertical' && rng.next() < 0.5,
      v: this.mode !== 'horizontal' && rng.next() < 0.5,
    }));
    const y = new Float32Array(x.size);
    flips.forEach((f, n) => flipImage(x.values, y, n, h, w, c, f.h, f.v));
    this.flips = flips;
    return wrap<4>(y, [batch, h, w, c]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    if (!this.flips) return dy;
    const [, h, w, c] = dy.shape as [number, number, number, number];
    const dx = new Float32Array(dy.size);
    // A flip is its own inverse and its own transpose.
    this.flips.forEach((f, n) => flipImage(dy.values, dx, n, h, w, c, f.h, f.v));
    return wrap(dx, dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}
