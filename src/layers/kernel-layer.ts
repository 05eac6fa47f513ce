// What Dense and Conv2D share, and what DepthwiseConv2D / SeparableConv2D build on: a kernel,
// an optional bias, an activation after them, their initializers and regularizers, how they
// are validated, created, back-propagated and written into getConfig.
import { getBackend } from '../backend/index.js';
import { deviceCombine } from '../device-storage.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { getRegularizer, type L1L2, type RegularizerSpec } from '../train/regularizers.js';
import { ActivationStep, resolveActivation, type ActivationName } from './activations.js';
import { checkKeys, Layer, type LayerConfig, type Param } from './layer.js';
import { weightValues } from './weight.js';

/** Options shared by the layers that hold a kernel and a bias ({@link Dense}, {@link Conv2D}). */
export interface KernelLayerConfig extends LayerConfig {
  /** Applied after the kernel and bias; default `'linear'`. */
  activation?: ActivationName;
  /** Adds a bias per output channel; default true. */
  useBias?: boolean;
  /** Default `'glorotUniform'`. */
  kernelInitializer?: InitializerName | Initializer;
  /** Default `'zeros'`. */
  biasInitializer?: InitializerName | Initializer;
  /** Penalty on the kernel added to the training loss: `'l1'`, `'l2'`, `'l1l2'` or `regularizers.l2({ l2 })`. */
  kernelRegularizer?: RegularizerSpec | null;
  /** Penalty on the bias added to the training loss. */
  biasRegularizer?: RegularizerSpec | null;
}

/** The keys of {@link KernelLayerConfig}, in the order getConfig writes them. */
export const KERNEL_LAYER_KEYS = ['activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer'] as const;

/** {@link KERNEL_LAYER_KEYS} for a kernel named `kernelName` ('depthwise': depthwiseInitializer, depthwiseRegularizer). */
export function kernelLayerKeys(kernelName: string): string[] {
  return KERNEL_LAYER_KEYS.map((k) => k.replace(/^kernel/, kernelName));
}

/**
 * Base of the layers computing y = act(op(x, kernel) + bias). The constructor rejects unknown
 * keys (the subclass's own and the shared ones), then checks the shared options; the subclass
 * checks its own after `super`. Errors name the layer as `ClassName 'name'`.
 */
export abstract class KernelLayer extends Layer {
  readonly useBias: boolean;
  /** Penalty on the kernel, or null. */
  readonly kernelRegularizer: L1L2 | null;
  /** Penalty on the bias, or null. */
  readonly biasRegularizer: L1L2 | null;
  /** `ClassName 'name'`, the prefix of this layer's errors. */
  protected readonly owner: string;
  protected act: ActivationStep;
  protected readonly kernelInitializer: InitializerName | Initializer;
  protected readonly biasInitializer: InitializerName | Initializer;
  protected kernel: Param | null = null;
  protected bias: Param | null = null;

  /**
   * `kernelName` names the kernel's options and weight as Keras does: 'kernel' gives
   * `kernelInitializer`, `kernelRegularizer` and the weight `kernel`; 'depthwise' gives
   * `depthwiseInitializer`, `depthwiseRegularizer` and `depthwise_kernel` (DepthwiseConv2D).
   */
  protected constructor(config: KernelLayerConfig, className: string, ownKeys: readonly string[], protected readonly kernelName = 'kernel') {
    super(config, className);
    checkKeys(className, config, [...ownKeys, ...kernelLayerKeys(kernelName)]);
    this.owner = `${className} '${this.name}'`;
    const named = config as Record<string, unknown>;
    this.useBias = config.useBias ?? true;
    this.act = new ActivationStep(resolveActivation(config.activation, this.owner));
    this.kernelInitializer = (named[`${kernelName}Initializer`] as InitializerName | Initializer | undefined) ?? 'glorotUniform';
    this.biasInitializer = config.biasInitializer ?? 'zeros';
    this.kernelRegularizer = getRegularizer(named[`${kernelName}Regularizer`] as RegularizerSpec | null | undefined, `${this.owner}: ${kernelName}Regularizer`);
    this.biasRegularizer = getRegularizer(config.biasRegularizer, `${this.owner}: biasRegularizer`);
  }

  protected override ownCallState(): void {
    this.act = this.act.copy();
  }

  /** The activation applied after the kernel and bias ('linear' when none was given). */
  get activation(): string {
    return this.act.kind;
  }

  /** Creates the kernel of `kernelShape` and, with `useBias`, a bias of `channels` values. */
  protected createKernelAndBias(kernelShape: number[], channels: number): void {
    this.createKernel(kernelShape);
    this.createBias(channels);
  }

  /** Creates the kernel alone (a layer with a second kernel adds it before {@link createBias}, in Keras' weight order). */
  protected createKernel(kernelShape: number[]): void {
    const weightName = this.kernelName === 'kernel' ? 'kernel' : `${this.kernelName}_kernel`;
    this.kernel = this.addWeight(weightName, kernelShape, this.kernelInitializer, true, this.kernelRegularizer);
  }

  /** Creates the bias of `channels` values, with `useBias`. */
  protected createBias(channels: number): void {
    if (this.useBias) this.bias = this.addWeight('bias', [channels], this.biasInitializer, true, this.biasRegularizer);
  }

  /** act(z + bias) over rows of `channels` values: the forward step after the kernel's op. */
  protected biasAndActivation(z: Float32Array, channels: number, training: boolean): Float32Array {
    if (this.bias) z = getBackend().biasAdd(z, weightValues(this.bias), channels);
    return this.act.forward(z, channels, training);
  }

  /** dz from dy through the activation; adds the bias gradient. The backward of {@link biasAndActivation}. */
  protected activationAndBiasBackward(dy: Float32Array, channels: number): Float32Array {
    const dz = this.act.backward(dy, channels);
    if (this.bias && this.bias.trainable) addInto(this.bias.grad, getBackend().biasGrad(dz, channels));
    return dz;
  }

  /** The shared options as getConfig writes them, after the subclass's own. */
  protected kernelLayerConfig(): Record<string, unknown> {
    return {
      activation: this.act.kind,
      useBias: this.useBias,
      [`${this.kernelName}Initializer`]: initializerName(this.kernelInitializer),
      biasInitializer: initializerName(this.biasInitializer),
      ...(this.kernelRegularizer ? { [`${this.kernelName}Regularizer`]: this.kernelRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
    };
  }
}

// Gradient arrays zeroed by zeroGradients and not written since: addInto copies into them instead of
// adding (a copy is several times faster than reading both arrays and writing one, and on a Dense
// kernel of 4608 × 150 the add took ~1.5 ms a step).
const zeroed = new WeakSet<Float32Array>();

/**
 * Zeroes the gradients of `params` for a step's backward and marks them zero for {@link addInto}
 * until {@link endGradientStep}. Only addInto may write them in between.
 */
export function zeroGradients(params: readonly Param[]): void {
  for (const p of params) {
    p.grad.fill(0);
    zeroed.add(p.grad);
  }
}

/** Ends the marks of {@link zeroGradients}: later writers (penalties, clipping, users) may write the gradients. */
export function endGradientStep(params: readonly Param[]): void {
  for (const p of params) zeroed.delete(p.grad);
}

/**
 * grad += delta, element-wise (four per iteration: V8 runs that about twice as fast), or a copy of
 * delta when grad is still zero from {@link zeroGradients}; on the device when grad is a device
 * array (src/device-storage.ts).
 */
export function addInto(grad: Float32Array, delta: Float32Array): void {
  if (deviceCombine(grad, grad, delta, 1, 1)) return;
  if (zeroed.delete(grad) && delta.length === grad.length) {
    grad.set(delta);
    return;
  }
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
