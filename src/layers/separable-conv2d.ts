import { getBackend } from '../backend/index.js';
import { conv2dInfo, depthwiseConv2dInfo, type Conv2DInfo } from '../geometry.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { getRegularizer, type L1L2, type RegularizerSpec } from '../train/regularizers.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { checkOutputSize, expectImageShape, windowConfig } from './conv2d.js';
import { checkDepthMultiplier, type DepthwiseConv2DConfig } from './depthwise-conv2d.js';
import { initializerName } from './kernel-layer.js';
import type { ForwardContext, Param } from './layer.js';
import { kernelBackward, WindowLayer } from './window-layer.js';

/** Options of {@link SeparableConv2D}, as Keras / TF.js name them. */
export interface SeparableConv2DConfig extends DepthwiseConv2DConfig {
  /** Output channels of the pointwise (1×1) convolution. */
  filters: number;
  /** Default `'glorotUniform'`. */
  pointwiseInitializer?: InitializerName | Initializer;
  /** Penalty on the pointwise kernel added to the training loss. */
  pointwiseRegularizer?: RegularizerSpec | null;
}

/**
 * Depthwise-separable 2-D convolution: a depthwise convolution (`depthMultiplier` filters per
 * input channel, no bias) then a pointwise 1×1 convolution to `filters` channels, bias and
 * activation: y = act(conv1×1(depthwise(x, depthwise_kernel), pointwise_kernel) + bias). Weights
 * in Keras' order: depthwise_kernel [kh, kw, inC, M], pointwise_kernel [1, 1, inC·M, filters], bias.
 * Runs the depthwiseConv2d and conv2d ops (a 1×1 convolution is a GEMM on `cpu`).
 *
 * @example
 * new layers.SeparableConv2D({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' });
 */
export class SeparableConv2D extends WindowLayer {
  readonly className = 'SeparableConv2D';
  readonly filters: number;
  readonly depthMultiplier: number;
  /** Penalty on the pointwise kernel, or null. */
  readonly pointwiseRegularizer: L1L2 | null;
  private readonly pointwiseInitializer: InitializerName | Initializer;
  private pointwise: Param | null = null;
  private saved: { x: Float32Array; z1: Float32Array; depth: Conv2DInfo; point: Conv2DInfo } | null = null;

  constructor(config: SeparableConv2DConfig) {
    super(
      config, 'SeparableConv2D',
      ['filters', 'kernelSize', 'strides', 'padding', 'depthMultiplier', 'dilationRate', 'pointwiseInitializer', 'pointwiseRegularizer'], 'depthwise',
    );
    const owner = this.owner;
    this.filters = config.filters;
    this.depthMultiplier = checkDepthMultiplier(config.depthMultiplier ?? 1, owner);
    this.pointwiseInitializer = config.pointwiseInitializer ?? 'glorotUniform';
    this.pointwiseRegularizer = getRegularizer(config.pointwiseRegularizer, `${owner}: pointwiseRegularizer`);
  }

  private geometry(shape: readonly [number, number, number, number]): { depth: Conv2DInfo; point: Conv2DInfo } {
    const depth = depthwiseConv2dInfo(shape, this.kernelSize, this.depthMultiplier, this.strides, this.padding, this.dilationRate);
    const point = conv2dInfo([shape[0], depth.outHeight, depth.outWidth, depth.outChannels], [1, 1], this.filters, [1, 1], 'valid');
    return { depth, point };
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, this.owner);
    const { depth } = this.geometry([1, h, w, c]);
    checkOutputSize(depth, inputShape, this.owner, this.padding);
    return [depth.outHeight, depth.outWidth, this.filters];
  }

  protected override createParams(inputShape: readonly number[]): void {
    const mid = inputShape[2] * this.depthMultiplier;
    this.createKernel([...this.kernelSize, inputShape[2], this.depthMultiplier]);
    this.pointwise = this.addWeight('pointwise_kernel', [1, 1, mid, this.filters], this.pointwiseInitializer, true, this.pointwiseRegularizer);
    this.createBias(this.filters);
  }

  /** The depthwise and pointwise geometry of this layer applied to `x`; throws when x has another rank or channel count. */
  inputInfo(x: Tensor): { depth: Conv2DInfo; point: Conv2DInfo } {
    return this.geometry(this.checkedInput(x));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    const { depth, point } = this.inputInfo(x);
    const b = getBackend();
    const z1 = b.depthwiseConv2d(x.values, this.kernel!.value, depth);
    const y = this.biasAndActivation(b.conv2d(z1, this.pointwise!.value, point), this.filters, ctx.training);
    this.saved = ctx.training ? { x: x.values, z1, depth, point } : null;
    return wrap<4>(y, [point.batch, point.outHeight, point.outWidth, this.filters]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    if (!this.saved) throw this.noForward();
    const { x, z1, depth, point } = this.saved;
    this.saved = null;
    const dz = this.activationAndBiasBackward(dy.values, this.filters);
    const dz1 = kernelBackward('conv2d', z1, dz, this.pointwise!, point, needInputGrad || this.kernel!.trainable);
    const dx = dz1 && kernelBackward('depthwiseConv2d', x, dz1, this.kernel!, depth, needInputGrad);
    return dx && wrap<4>(dx, [depth.batch, depth.inHeight, depth.inWidth, depth.inChannels]);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...windowConfig(this),
      depthMultiplier: this.depthMultiplier,
      ...this.kernelLayerConfig(),
      pointwiseInitializer: initializerName(this.pointwiseInitializer),
      ...(this.pointwiseRegularizer ? { pointwiseRegularizer: this.pointwiseRegularizer } : {}),
    };
  }
}
