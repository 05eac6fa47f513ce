// The configuration and shape logic that AveragePooling2D and MaxPooling2D share: both slide a
// poolSize window with strides and padding, so their options, output shape and config match.
import { conv2dInfo, pair, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import type { Tensor } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { checkPadding } from './window-layer.js';
import { checkKeys, formatShape, Layer, type LayerConfig } from './layer.js';

/** Options common to the 2-D window pooling layers. */
export interface Pooling2DConfig extends LayerConfig {
  poolSize?: IntPair;
  strides?: IntPair;
  padding?: Padding;
}

/** Base of the 2-D window pooling layers. Defaults as Keras: poolSize 2, strides = poolSize, 'valid'. */
export abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  /**
   * Validates the options of layer `className`; `extraKeys` are the further options it accepts and
   * `checkExtra` validates them, before the window options, so errors come in the same order.
   */
  protected constructor(
    config: Pooling2DConfig,
    className: string,
    extraKeys: readonly string[] = [],
    checkExtra?: (owner: string) => void,
  ) {
    super(config, className);
    checkKeys(className, config, ['poolSize', 'strides', 'padding', ...extraKeys]);
    const owner = `${className} '${this.name}'`;
    checkExtra?.(owner);
    this.poolSize = pair(config.poolSize ?? 2, 'poolSize', owner);
    this.strides = pair(config.strides ?? this.poolSize, 'strides', owner);
    this.padding = checkPadding(config.padding ?? 'valid', owner);
  }

  protected info(batch: number, h: number, w: number, c: number): Conv2DInfo {
    return conv2dInfo([batch, h, w, c], this.poolSize, c, this.strides, this.padding);
  }

  /** The window geometry of a forward input, after checking that it is rank 4. */
  protected inputInfo(x: Tensor): Conv2DInfo {
    if (x.rank !== 4) throw new Error(`${this.className} '${this.name}': expects a rank-4 input, got [${x.shape.join(', ')}]`);
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    return this.info(batch, h, w, c);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, `${this.className} '${this.name}'`);
    const info = this.info(1, h, w, c);
    if (info.outHeight < 1 || info.outWidth < 1) {
      throw new Error(`${this.className} '${this.name}': input ${formatShape(inputShape)} is smaller than the ${this.poolSize.join('×')} pool`);
    }
    return [info.outHeight, info.outWidth, c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
}
