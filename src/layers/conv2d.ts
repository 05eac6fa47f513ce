import { conv2dInfo, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import type { Tensor, Tensor4D } from '../tensor.js';
import type { KernelLayerConfig } from './kernel-layer.js';
import { formatShape, type ForwardContext, type Param } from './layer.js';
import { WindowLayer, type WindowOptions } from './window-layer.js';

/** Options of {@link Conv2D}: its geometry, and the kernel, bias and activation options of {@link KernelLayerConfig}. */
export interface Conv2DConfig extends KernelLayerConfig {
  filters: number;
  kernelSize: IntPair;
  strides?: IntPair;
  padding?: Padding;
  dilationRate?: IntPair;
}

/** Checks that a layer gets a rank-3 sample shape `[height, width, channels]`. */
export function expectImageShape(inputShape: readonly number[], owner: string): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new Error(`${owner}: expects input of shape (None, height, width, channels), got ${formatShape(inputShape)}`);
  }
  return [inputShape[0], inputShape[1], inputShape[2]];
}

/** The window options as getConfig writes them (camelCase, as tfjs-layers). */
export function windowConfig(o: WindowOptions): Record<string, unknown> {
  return { kernelSize: [...o.kernelSize], strides: [...o.strides], padding: o.padding, dilationRate: [...o.dilationRate] };
}

/** Throws naming the layer when a convolution's output would be empty. */
export function checkOutputSize(info: Conv2DInfo, inputShape: readonly number[], owner: string, padding: Padding): void {
  if (info.outHeight < 1 || info.outWidth < 1) {
    throw new Error(`${owner}: input ${formatShape(inputShape)} is smaller than the ${info.filterHeight}×${info.filterWidth} kernel with padding '${padding}'`);
  }
}

/**
 * 2-D convolution over NHWC input: y = act(x ⋆ kernel + bias). Kernel `[kh, kw, inC, filters]`.
 *
 * @example
 * new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [100, 100, 3] });
 */
export class Conv2D extends WindowLayer {
  readonly className = 'Conv2D';
  readonly filters: number;

  constructor(config: Conv2DConfig) {
    super(config, 'Conv2D', ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate']);
    this.filters = config.filters;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, `Conv2D '${this.name}'`);
    const info = conv2dInfo([1, h, w, c], this.kernelSize, this.filters, this.strides, this.padding, this.dilationRate);
    checkOutputSize(info, inputShape, this.owner, this.padding);
    return [info.outHeight, info.outWidth, this.filters];
  }

  protected override createParams(inputShape: readonly number[]): void {
    this.createKernelAndBias([...this.kernelSize, inputShape[2], this.filters], this.filters);
  }

  /**
   * The geometry of this layer applied to `x` [batch, height, width, inChannels]; throws when x
   * has another rank or channel count.
   */
  inputInfo(x: Tensor): Conv2DInfo {
    return conv2dInfo(this.checkedInput(x), this.kernelSize, this.filters, this.strides, this.padding, this.dilationRate);
  }

  /** The layer's kernel `[kh, kw, inC, filters]` and bias (null without `useBias`). Fused runs (src/model/fusion.ts) read them here. */
  convWeights(): { kernel: Param; bias: Param | null } {
    if (!this.kernel) throw new Error(`Conv2D '${this.name}': weights read before the layer was built`);
    return { kernel: this.kernel, bias: this.bias };
  }

  /** conv2d → biasAdd → activation, each its own op (src/model/fusion.ts runs this layer as one fused call where the backend can). */
  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    return this.forwardOp('conv2d', x, this.inputInfo(x), ctx);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    return this.backwardOp('conv2d', dy, needInputGrad);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...windowConfig(this),
      ...this.kernelLayerConfig(),
    };
  }
}
