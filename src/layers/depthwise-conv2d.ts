import { depthwiseConv2dInfo, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import type { Initializer, InitializerName } from '../initializers.js';
import type { RegularizerSpec } from '../train/regularizers.js';
import type { Tensor, Tensor4D } from '../tensor.js';
import { checkOutputSize, expectImageShape, windowConfig } from './conv2d.js';
import type { KernelLayerConfig } from './kernel-layer.js';
import type { ForwardContext } from './layer.js';
import { WindowLayer } from './window-layer.js';

/** Options of {@link DepthwiseConv2D}, as Keras / TF.js name them. */
export interface DepthwiseConv2DConfig extends Omit<KernelLayerConfig, 'kernelInitializer' | 'kernelRegularizer'> {
  kernelSize: IntPair;
  strides?: IntPair;
  padding?: Padding;
  /** Filters per input channel; default 1. Output channels: inChannels · depthMultiplier. */
  depthMultiplier?: number;
  dilationRate?: IntPair;
  /** Default `'glorotUniform'`. */
  depthwiseInitializer?: InitializerName | Initializer;
  /** Penalty on the depthwise kernel added to the training loss. */
  depthwiseRegularizer?: RegularizerSpec | null;
}

/** Checks a depthMultiplier option (a positive integer), naming the layer. */
export function checkDepthMultiplier(v: unknown, owner: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${owner}: depthMultiplier must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * Depthwise 2-D convolution over NHWC input: each input channel convolved with its own
 * `depthMultiplier` filters, y = act(depthwise(x, kernel) + bias), output channel c·M + m as
 * TensorFlow. Kernel `depthwise_kernel` [kh, kw, inC, depthMultiplier].
 *
 * @example
 * new layers.DepthwiseConv2D({ kernelSize: 3, padding: 'same', useBias: false }); // [None, 50, 50, 32] → [None, 50, 50, 32]
 */
export class DepthwiseConv2D extends WindowLayer {
  readonly className = 'DepthwiseConv2D';
  readonly depthMultiplier: number;

  constructor(config: DepthwiseConv2DConfig) {
    super(config, 'DepthwiseConv2D', ['kernelSize', 'strides', 'padding', 'depthMultiplier', 'dilationRate'], 'depthwise');
    this.depthMultiplier = checkDepthMultiplier(config.depthMultiplier ?? 1, this.owner);
  }

  private infoFor(shape: readonly [number, number, number, number]): Conv2DInfo {
    return depthwiseConv2dInfo(shape, this.kernelSize, this.depthMultiplier, this.strides, this.padding, this.dilationRate);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, this.owner);
    const info = this.infoFor([1, h, w, c]);
    checkOutputSize(info, inputShape, this.owner, this.padding);
    return [info.outHeight, info.outWidth, info.outChannels];
  }

  protected override createParams(inputShape: readonly number[]): void {
    this.createKernelAndBias([...this.kernelSize, inputShape[2], this.depthMultiplier], inputShape[2] * this.depthMultiplier);
  }

  /** The geometry of this layer applied to `x`; throws when x has another rank or channel count. */
  inputInfo(x: Tensor): Conv2DInfo {
    return this.infoFor(this.checkedInput(x));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    return this.forwardOp('depthwiseConv2d', x, this.inputInfo(x), ctx);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    return this.backwardOp('depthwiseConv2d', dy, needInputGrad);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      ...windowConfig(this),
      depthMultiplier: this.depthMultiplier,
      ...this.kernelLayerConfig(),
    };
  }
}
