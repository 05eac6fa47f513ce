import { getBackend } from '../backend/index.js';
import { conv2dInfo, pair, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { checkPadding, expectImageShape } from './conv2d.js';
import { checkKeys, formatShape, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Options of {@link AveragePooling2D}. */
export interface AveragePooling2DConfig extends LayerConfig {
  poolSize?: IntPair;
  strides?: IntPair;
  padding?: Padding;
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
export class AveragePooling2D extends Layer {
  readonly className = 'AveragePooling2D';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  private saved: Conv2DInfo | null = null;

  constructor(config: AveragePooling2DConfig = {}) {
    super(config, 'AveragePooling2D');
    checkKeys('AveragePooling2D', config, ['poolSize', 'strides', 'padding', 'dataFormat']);
    const owner = `AveragePooling2D '${this.name}'`;
    checkDataFormat(config.dataFormat, owner);
    this.poolSize = pair(config.poolSize ?? 2, 'poolSize', owner);
    this.strides = pair(config.strides ?? this.poolSize, 'strides', owner);
    this.padding = checkPadding(config.padding ?? 'valid', owner);
  }

  private info(batch: number, h: number, w: number, c: number): Conv2DInfo {
    return conv2dInfo([batch, h, w, c], this.poolSize, c, this.strides, this.padding);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, `AveragePooling2D '${this.name}'`);
    const info = this.info(1, h, w, c);
    if (info.outHeight < 1 || info.outWidth < 1) {
      throw new Error(`AveragePooling2D '${this.name}': input ${formatShape(inputShape)} is smaller than the ${this.poolSize.join('×')} pool`);
    }
    return [info.outHeight, info.outWidth, c];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    if (x.rank !== 4) throw new Error(`AveragePooling2D '${this.name}': expects a rank-4 input, got [${x.shape.join(', ')}]`);
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    const info = this.info(batch, h, w, c);
    const y = getBackend().avgPool(x.values, info);
    this.saved = ctx.training ? info : null;
    return wrap<4>(y, [batch, info.outHeight, info.outWidth, c]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    const info = this.saved;
    if (!info) throw this.noForward();
    this.saved = null;
    if (!needInputGrad) return null;
    return wrap<4>(getBackend().avgPoolBackprop(dy.values, info), [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
}
