import { getBackend } from '../backend/index.js';
import { deviceCombine } from '../device-storage.js';
import { conv2dInfo, pair, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { getRegularizer, type L1L2, type RegularizerSpec } from '../train/regularizers.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { ActivationStep, resolveActivation, type ActivationName } from './activations.js';
import { checkKeys, formatShape, Layer, type ForwardContext, type LayerConfig, type Param } from './layer.js';

/** Options of {@link Conv2D}. */
export interface Conv2DConfig extends LayerConfig {
  filters: number;
  kernelSize: IntPair;
  strides?: IntPair;
  padding?: Padding;
  dilationRate?: IntPair;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
  /** Penalty on the kernel added to the training loss: `'l1'`, `'l2'`, `'l1l2'` or `regularizers.l2({ l2 })`. */
  kernelRegularizer?: RegularizerSpec | null;
  /** Penalty on the bias added to the training loss. */
  biasRegularizer?: RegularizerSpec | null;
}

/** Checks a padding option, naming the layer. */
export function checkPadding(padding: unknown, owner: string): Padding {
  if (padding !== 'valid' && padding !== 'same') throw new Error(`${owner}: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`);
  return padding;
}

/** Checks that a layer gets a rank-3 sample shape `[height, width, channels]`. */
export function expectImageShape(inputShape: readonly number[], owner: string): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new Error(`${owner}: expects input of shape (None, height, width, channels), got ${formatShape(inputShape)}`);
  }
  return [inputShape[0], inputShape[1], inputShape[2]];
}

/**
 * 2-D convolution over NHWC input: y = act(x ⋆ kernel + bias). Kernel `[kh, kw, inC, filters]`.
 *
 * @example
 * new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [100, 100, 3] });
 */
export class Conv2D extends Layer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly padding: Padding;
  readonly useBias: boolean;
  private readonly act: ActivationStep;
  private readonly kernelInitializer: InitializerName | Initializer;
  private readonly biasInitializer: InitializerName | Initializer;
  /** Penalty on the kernel, or null. */
  readonly kernelRegularizer: L1L2 | null;
  /** Penalty on the bias, or null. */
  readonly biasRegularizer: L1L2 | null;
  private kernel: Param | null = null;
  private bias: Param | null = null;
  private saved: { x: Float32Array; info: Conv2DInfo } | null = null;

  constructor(config: Conv2DConfig) {
    super(config, 'Conv2D');
    const owner = `Conv2D '${this.name}'`;
    checkKeys('Conv2D', config, ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer']);
    if (!Number.isInteger(config.filters) || config.filters < 1) throw new Error(`${owner}: filters must be a positive integer, got ${config.filters}`);
    this.filters = config.filters;
    this.kernelSize = pair(config.kernelSize, 'kernelSize', owner);
    this.strides = pair(config.strides ?? 1, 'strides', owner);
    this.dilationRate = pair(config.dilationRate ?? 1, 'dilationRate', owner);
    if ((this.strides[0] > 1 || this.strides[1] > 1) && (this.dilationRate[0] > 1 || this.dilationRate[1] > 1)) {
      throw new Error(`${owner}: strides > 1 together with dilationRate > 1 is not supported (as in Keras)`);
    }
    this.padding = checkPadding(config.padding ?? 'valid', owner);
    this.useBias = config.useBias ?? true;
    this.act = new ActivationStep(resolveActivation(config.activation, owner));
    this.kernelInitializer = config.kernelInitializer ?? 'glorotUniform';
    this.biasInitializer = config.biasInitializer ?? 'zeros';
    this.kernelRegularizer = getRegularizer(config.kernelRegularizer, `${owner}: kernelRegularizer`);
    this.biasRegularizer = getRegularizer(config.biasRegularizer, `${owner}: biasRegularizer`);
  }

  /** The activation applied after the convolution and bias ('linear' when none was given). */
  get activation(): string {
    return this.act.kind;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, `Conv2D '${this.name}'`);
    const info = conv2dInfo([1, h, w, c], this.kernelSize, this.filters, this.strides, this.padding, this.dilationRate);
    if (info.outHeight < 1 || info.outWidth < 1) {
      throw new Error(`Conv2D '${this.name}': input ${formatShape(inputShape)} is smaller than the ${this.kernelSize.join('×')} kernel with padding '${this.padding}'`);
    }
    return [info.outHeight, info.outWidth, this.filters];
  }

  protected override createParams(inputShape: readonly number[]): void {
    this.kernel = this.addWeight('kernel', [...this.kernelSize, inputShape[2], this.filters], this.kernelInitializer, true, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, true, this.biasRegularizer);
  }

  /**
   * The geometry of this layer applied to `x` [batch, height, width, inChannels]; throws when x
   * has another rank or channel count.
   */
  inputInfo(x: Tensor): Conv2DInfo {
    const inC = this.convWeights().kernel.shape[2];
    const [batch, h, w, c] = x.shape as [number, number, number, number];
    if (x.rank !== 4 || c !== inC) {
      throw new Error(`Conv2D '${this.name}': expects input (None, height, width, ${inC}), got [${x.shape.join(', ')}]`);
    }
    return conv2dInfo([batch, h, w, c], this.kernelSize, this.filters, this.strides, this.padding, this.dilationRate);
  }

  /** The layer's kernel `[kh, kw, inC, filters]` and bias (null without `useBias`). Fused runs (src/model/fusion.ts) read them here. */
  convWeights(): { kernel: Param; bias: Param | null } {
    if (!this.kernel) throw new Error(`Conv2D '${this.name}': weights read before the layer was built`);
    return { kernel: this.kernel, bias: this.bias };
  }

  /** conv2d → biasAdd → activation, each its own op (src/model/fusion.ts runs this layer as one fused call where the backend can). */
  forward(x: Tensor, ctx: ForwardContext): Tensor4D {
    const info = this.inputInfo(x);
    const backend = getBackend();
    let z = backend.conv2d(x.values, this.kernel!.value, info);
    if (this.bias) z = backend.biasAdd(z, this.bias.value, this.filters);
    const y = this.act.forward(z, this.filters, ctx.training);
    this.saved = ctx.training ? { x: x.values, info } : null;
    return wrap<4>(y, [info.batch, info.outHeight, info.outWidth, this.filters]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    if (!this.saved) throw this.noForward();
    const { x, info } = this.saved;
    this.saved = null;
    const backend = getBackend();
    const dz = this.act.backward(dy.values, this.filters);
    if (this.bias && this.bias.trainable) addInto(this.bias.grad, backend.biasGrad(dz, this.filters));
    if (this.kernel!.trainable) addInto(this.kernel!.grad, backend.conv2dBackpropFilter(x, dz, info));
    if (!needInputGrad) return null;
    return wrap<4>(backend.conv2dBackpropInput(dz, this.kernel!.value, info), [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dilationRate: [...this.dilationRate],
      activation: this.act.kind,
      useBias: this.useBias,
      kernelInitializer: initializerName(this.kernelInitializer),
      biasInitializer: initializerName(this.biasInitializer),
      ...(this.kernelRegularizer ? { kernelRegularizer: this.kernelRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
    };
  }
}

/**
 * grad += delta, element-wise (four per iteration: V8 runs that about twice as fast); on the device
 * when grad is a device array (src/device-storage.ts).
 */
export function addInto(grad: Float32Array, delta: Float32Array): void {
  if (deviceCombine(grad, grad, delta, 1, 1)) return;
  const n = grad.length;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    grad[i] += delta[i];
    grad[i + 1] += delta[i + 1];
    grad[i + 2] += delta[i + 2];
    grad[i + 3] += delta[i + 3];
  }
  for (; i < n; i++) grad[i] += delta[i];
}

/** The name of an initializer option, whether given as a name or an object. */
export function initializerName(init: InitializerName | Initializer): string {
  return typeof init === 'string' ? init : init.name;
}
