import { getBackend } from '../backend/index.js';
import type { Conv2DInfo } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import type { ForwardContext } from './layer.js';
import { Pooling2D, type Pooling2DConfig } from './pooling2d.js';

/** Options of {@link AveragePooling2D}. */
export interface AveragePooling2DConfig extends Pooling2DConfig {
  /** Only 'channelsLast' (NHWC), the default. */
  dataFormat?: 'channelsLast';
}

/** Checks a dataFormat option: tscnn is channels-last only. */
export function checkDataFormat(dataFormat: unknown, owner: string): void {
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') {
    throw new Error(`${owner}: dataFormat must be 'channelsLast' (tscnn is NHWC only), got ${JSON.stringify(dataFormat)}`);
  }
}

/**
 * Average pooling over NHWC windows. Defaults as Keras: poolSize 2, strides = poolSize, 'valid'.
 * With 'same' padding a border window averages only its cells inside the image, as TensorFlow.
 *
 * @example
 * new layers.AveragePooling2D({ poolSize: 2 }); // [None, 32, 32, 16] → [None, 16, 16, 16]
 */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  private saved: Conv2DInfo | null = null;

  constructor(config: AveragePooling2DConfig = {}) {
    super(config, 'AveragePooling2D', ['dataFormat'], (owner) => checkDataFormat(config.dataFormat, owner));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    const info = this.inputInfo(x);
    const y = getBackend().avgPool(x.values, info);
    this.saved = ctx.training ? info : null;
    return wrap<4>(y, [info.batch, info.outHeight, info.outWidth, info.inChannels]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    const info = this.saved;
    if (!info) throw this.noForward();
    this.saved = null;
    if (!needInputGrad) return null;
    return wrap<4>(getBackend().avgPoolBackprop(dy.values, info), [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }
}
