import type { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { RandomLayer, type RandomLayerConfig } from './random-layer.js';

/** Options of {@link RandomFlip} besides its mode: the seed of {@link RandomLayerConfig}. */
export type RandomFlipConfig = RandomLayerConfig;

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
export class RandomFlip extends RandomLayer<{ h: boolean; v: boolean }[]> {
  readonly className = 'RandomFlip';
  readonly mode: FlipMode;

  constructor(mode: FlipMode = 'horizontal_and_vertical', config: RandomFlipConfig = {}) {
    super(config, 'RandomFlip', []);
    if (mode !== 'horizontal' && mode !== 'vertical' && mode !== 'horizontal_and_vertical') {
      throw new Error(`${this.owner}: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    expectImageShape(inputShape, this.owner);
    return [...inputShape];
  }

  protected draw(x: Tensor, rng: Random): { y: Tensor; saved: { h: boolean; v: boolean }[] } {
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    const flips = Array.from({ length: batch }, () => ({
      h: this.mode !== 'vertical' && rng.next() < 0.5,
      v: this.mode !== 'horizontal' && rng.next() < 0.5,
    }));
    const y = new Float32Array(x.size);
    flips.forEach((f, n) => flipImage(x.values, y, n, h, w, c, f.h, f.v));
    return { y: wrap<4>(y, [batch, h, w, c]), saved: flips };
  }

  protected drawBackward(dy: Tensor, flips: { h: boolean; v: boolean }[]): Tensor {
    const [, h, w, c] = dy.shape as [number, number, number, number];
    const dx = new Float32Array(dy.size);
    // A flip is its own inverse and its own transpose.
    flips.forEach((f, n) => flipImage(dy.values, dx, n, h, w, c, f.h, f.v));
    return wrap(dx, dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode, ...this.seedConfig() };
  }
}
