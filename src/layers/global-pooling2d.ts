// GlobalAveragePooling2D and GlobalMaxPooling2D: a pool whose one window is the whole image, so
// they run the avgPool / maxPool ops with that geometry instead of ops of their own.
import { getBackend } from '../backend/index.js';
import { conv2dInfo, type Conv2DInfo } from '../geometry.js';
import { wrap, type Tensor } from '../tensor.js';
import { checkDataFormat } from './average-pooling2d.js';
import { expectImageShape } from './conv2d.js';
import { checkKeys, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Options of {@link GlobalAveragePooling2D} and {@link GlobalMaxPooling2D}. */
export interface GlobalPooling2DConfig extends LayerConfig {
  /** Keep the spatial axes as 1×1: output [batch, 1, 1, C] instead of [batch, C]. Default false. */
  keepdims?: boolean;
  /** Only 'channelsLast' (NHWC), the default. */
  dataFormat?: 'channelsLast';
}

abstract class GlobalPooling2D extends Layer {
  readonly keepdims: boolean;

  constructor(config: GlobalPooling2DConfig, className: string) {
    super(config, className);
    checkKeys(className, config, ['keepdims', 'dataFormat']);
    const owner = `${className} '${this.name}'`;
    checkDataFormat(config.dataFormat, owner);
    if (config.keepdims !== undefined && typeof config.keepdims !== 'boolean') {
      throw new Error(`${owner}: keepdims must be a boolean, got ${JSON.stringify(config.keepdims)}`);
    }
    this.keepdims = config.keepdims ?? false;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [, , c] = expectImageShape(inputShape, `${this.className} '${this.name}'`);
    return this.keepdims ? [1, 1, c] : [c];
  }

  /** The one-window geometry over a [batch, h, w, c] input; throws naming the layer for other ranks. */
  protected info(x: Tensor): Conv2DInfo {
    if (x.rank !== 4) throw new Error(`${this.className} '${this.name}': expects a rank-4 input, got [${x.shape.join(', ')}]`);
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    return conv2dInfo([batch, h, w, c], [h, w], c, [h, w], 'valid');
  }

  protected pooledOutput(y: Float32Array, info: Conv2DInfo): Tensor {
    return this.keepdims ? wrap<4>(y, [info.batch, 1, 1, info.inChannels]) : wrap<2>(y, [info.batch, info.inChannels]);
  }

  protected inputGrad(dx: Float32Array, info: Conv2DInfo): Tensor {
    return wrap<4>(dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}

/**
 * The mean of each channel over height and width: [None, h, w, C] → [None, C] (or
 * [None, 1, 1, C] with keepdims), as Keras.
 *
 * @example
 * new layers.GlobalAveragePooling2D(); // [None, 7, 7, 64] → [None, 64]
 */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  readonly className = 'GlobalAveragePooling2D';
  private saved: Conv2DInfo | null = null;

  constructor(config: GlobalPooling2DConfig = {}) {
    super(config, 'GlobalAveragePooling2D');
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const info = this.info(x);
    this.saved = ctx.training ? info : null;
    return this.pooledOutput(getBackend().avgPool(x.values, info), info);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const info = this.saved;
    if (!info) throw this.noForward();
    this.saved = null;
    return needInputGrad ? this.inputGrad(getBackend().avgPoolBackprop(dy.values, info), info) : null;
  }
}

/**
 * The maximum of each channel over height and width: [None, h, w, C] → [None, C] (or
 * [None, 1, 1, C] with keepdims), as Keras. The gradient goes to the first maximal cell.
 *
 * @example
 * new layers.GlobalMaxPooling2D(); // [None, 7, 7, 64] → [None, 64]
 */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  readonly className = 'GlobalMaxPooling2D';
  private saved: { argmax: Int32Array; info: Conv2DInfo } | null = null;

  constructor(config: GlobalPooling2DConfig = {}) {
    super(config, 'GlobalMaxPooling2D');
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const info = this.info(x);
    const { y, argmax } = getBackend().maxPool(x.values, info);
    this.saved = ctx.training ? { argmax, info } : null;
    return this.pooledOutput(y, info);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.saved) throw this.noForward();
    const { argmax, info } = this.saved;
    this.saved = null;
    if (!needInputGrad) return null;
    const inSize = info.batch * info.inHeight * info.inWidth * info.inChannels;
    return this.inputGrad(getBackend().maxPoolBackprop(dy.values, argmax, inSize), info);
  }
}
