import { getBackend } from '../backend/index.js';
import { conv2dInfo, pair, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { checkPadding, expectImageShape } from './conv2d.js';
import { checkKeys, formatShape, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Options of {@link MaxPooling2D}. */
export interface MaxPooling2DConfig extends LayerConfig {
  poolSize?: IntPair;
  strides?: IntPair;
  padding?: Padding;
}

/**
 * Max pooling over NHWC windows. Defaults as Keras: poolSize 2, strides = poolSize, 'valid'.
 * The gradient goes to the first maximal cell of each window.
 *
 * @example
 * new layers.MaxPooling2D({ poolSize: 2 }); // [None, 100, 100, 16] → [None, 50, 50, 16]
 */
export class MaxPooling2D extends Layer {
  readonly className = 'MaxPooling2D';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  private saved: { argmax: Int32Array; inSize: number; info: Conv2DInfo } | null = null;

  constructor(config: MaxPooling2DConfig = {}) {
    super(config, 'MaxPooling2D');
    checkKeys('MaxPooling2D', config, ['poolSize', 'strides', 'padding']);
    const owner = `MaxPooling2D '${this.name}'`;
    this.poolSize = pair(config.poolSize ?? 2, 'poolSize', owner);
    this.strides = pair(config.strides ?? this.poolSize, 'strides', owner);
    this.padding = checkPadding(config.padding ?? 'valid', owner);
  }

  private info(batch: number, h: number, w: number, c: number): Conv2DInfo {
    return conv2dInfo([batch, h, w, c], this.poolSize, c, this.strides, this.padding);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, `MaxPooling2D '${this.name}'`);
    const info = this.info(1, h, w, c);
    if (info.outHeight < 1 || info.outWidth < 1) {
      throw new Error(`MaxPooling2D '${this.name}': input ${formatShape(inputShape)} is smaller than the ${this.poolSize.join('×')} pool`);
    }
    return [info.outHeight, info.outWidth, c];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    if (x.rank !== 4) throw new Error(`MaxPooling2D '${this.name}': expects a rank-4 input, got [${x.shape.join(', ')}]`);
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    const info = this.info(batch, h, w, c);
    const { y, argmax } = getBackend().maxPool(x.values, info);
    this.saved = ctx.training ? { argmax, inSize: x.size, info } : null;
    return wrap<4>(y, [batch, info.outHeight, info.outWidth, c]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    if (!this.saved) throw this.noForward();
    const { argmax, inSize, info } = this.saved;
    this.saved = null;
    if (!needInputGrad) return null;
    return wrap<4>(getBackend().maxPoolBackprop(dy.values, argmax, inSize), [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
}
