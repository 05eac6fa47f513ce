// What RandomRotation, RandomZoom and RandomTranslation share: the fill and interpolation options,
// and a training forward that draws one affine transform per image and resamples through the backend's
// imageTransform (TensorFlow's ImageProjectiveTransformV3, which Keras' layers call); backward is
// that resampling's adjoint, so gradients reach the layers before.
import { getBackend } from '../backend/index.js';
import type { FillMode, ImageTransformInfo } from '../backend/types.js';
import type { Random } from '../util/random.js';
import { wrap, type Tensor } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { RandomLayer, type RandomLayerConfig } from './random-layer.js';

/** The options RandomRotation, RandomZoom and RandomTranslation share (Keras defaults). */
export interface AffineFillConfig extends RandomLayerConfig {
  /**
   * How points outside the image read: 'reflect' (d c b a | a b c d | d c b a, the default),
   * 'wrap' (a b c d | a b c d), 'nearest' (the edge pixel) or 'constant' (`fillValue`).
   */
  fillMode?: FillMode;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: 'bilinear' | 'nearest';
  /** The value outside the image when fillMode is 'constant'; default 0. */
  fillValue?: number;
}

const FILL_MODES: readonly FillMode[] = ['reflect', 'wrap', 'constant', 'nearest'];

/**
 * A factor option as [lower, upper]: a number f is [−|f|, |f|]. Throws naming the layer and the
 * value unless both ends are finite, lower ≤ upper and (given `bound`) within [−bound, bound].
 */
export function factorRange(factor: unknown, what: string, owner: string, bound = Infinity): [number, number] {
  const r = typeof factor === 'number' ? [-Math.abs(factor), Math.abs(factor)] : Array.isArray(factor) && factor.length === 2 ? [factor[0], factor[1]] : null;
  if (!r || !r.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= bound) || r[0] > r[1]) {
    const limit = Number.isFinite(bound) ? ` in [-${bound}, ${bound}]` : '';
    throw new Error(`${owner}: ${what} must be a number or [lower, upper] with lower ≤ upper${limit}, got ${JSON.stringify(factor)}`);
  }
  return [r[0], r[1]];
}

/** Base of the augmentation layers that resample each image through a random affine transform. */
export abstract class RandomAffineLayer extends RandomLayer<{ transforms: Float32Array; info: ImageTransformInfo }> {
  readonly fillMode: FillMode;
  readonly interpolation: 'bilinear' | 'nearest';
  readonly fillValue: number;

  protected constructor(config: AffineFillConfig, className: string, ownKeys: readonly string[]) {
    super(config, className, [...ownKeys, 'fillMode', 'interpolation', 'fillValue']);
    this.fillMode = config.fillMode ?? 'reflect';
    if (!FILL_MODES.includes(this.fillMode)) throw new Error(`${this.owner}: fillMode must be one of ${FILL_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(config.fillMode)}`);
    this.interpolation = config.interpolation ?? 'bilinear';
    if (this.interpolation !== 'bilinear' && this.interpolation !== 'nearest') {
      throw new Error(`${this.owner}: interpolation must be 'bilinear' or 'nearest', got ${JSON.stringify(config.interpolation)}`);
    }
    this.fillValue = config.fillValue ?? 0;
    if (typeof this.fillValue !== 'number' || !Number.isFinite(this.fillValue)) throw new Error(`${this.owner}: fillValue must be a finite number, got ${JSON.stringify(config.fillValue)}`);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    expectImageShape(inputShape, this.owner);
    return [...inputShape];
  }

  /**
   * The transform of one image of height h and width w, drawn from rng: [a0, a1, a2, b0, b1, b2]
   * mapping output pixel (row i, column j) to the source point (b0·j + b1·i + b2, a0·j + a1·i + a2).
   */
  protected abstract drawTransform(rng: Random, h: number, w: number): number[];

  protected draw(x: Tensor, rng: Random): { y: Tensor; saved: { transforms: Float32Array; info: ImageTransformInfo } } {
    const [batch, height, width, channels] = x.shape as [number, number, number, number];
    const transforms = new Float32Array(batch * 6);
    for (let n = 0; n < batch; n++) transforms.set(this.drawTransform(rng, height, width), n * 6);
    const info: ImageTransformInfo = { batch, height, width, channels, fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue };
    return { y: wrap(getBackend().imageTransform(x.values, transforms, info), x.shape), saved: { transforms, info } };
  }

  protected drawBackward(dy: Tensor, saved: { transforms: Float32Array; info: ImageTransformInfo }): Tensor {
    return wrap(getBackend().imageTransformBackward(dy.values, saved.transforms, saved.info), dy.shape);
  }

  /** The fill options and the seed, for getConfig after the subclass's own options. */
  protected fillConfig(): Record<string, unknown> {
    return { fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue, ...this.seedConfig() };
  }
}
