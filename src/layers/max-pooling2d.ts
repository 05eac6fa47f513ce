import { getBackend } from '../backend/index.js';
import type { Conv2DInfo } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import type { ForwardContext } from './layer.js';
import { Pooling2D, type Pooling2DConfig } from './pooling2d.js';

/** Options of {@link MaxPooling2D}. */
export type MaxPooling2DConfig = Pooling2DConfig;

/**
 * Max pooling over NHWC windows. Defaults as Keras: poolSize 2, strides = poolSize, 'valid'.
 * The gradient goes to the first maximal cell of each window.
 *
 * @example
 * new layers.MaxPooling2D({ poolSize: 2 }); // [None, 100, 100, 16] → [None, 50, 50, 16]
 */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  private saved: { argmax: Int32Array; inSize: number; info: Conv2DInfo } | null = null;

  constructor(config: MaxPooling2DConfig = {}) {
    super(config, 'MaxPooling2D');
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    const info = this.inputInfo(x);
    const { y, argmax } = getBackend().maxPool(x.values, info);
    this.saved = ctx.training ? { argmax, inSize: x.size, info } : null;
    return wrap<4>(y, [info.batch, info.outHeight, info.outWidth, info.inChannels]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    if (!this.saved) throw this.noForward();
    const { argmax, inSize, info } = this.saved;
    this.saved = null;
    if (!needInputGrad) return null;
    return wrap<4>(getBackend().maxPoolBackprop(dy.values, argmax, inSize), [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }
}
