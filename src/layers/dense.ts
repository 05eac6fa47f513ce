import { getBackend } from '../backend/index.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { getRegularizer, type L1L2, type RegularizerSpec } from '../train/regularizers.js';
import { wrap, type Shape, type Tensor } from '../tensor.js';
import { ActivationStep, resolveActivation, type ActivationName } from './activations.js';
import { addInto, initializerName } from './conv2d.js';
import { checkKeys, Layer, type ForwardContext, type LayerConfig, type Param } from './layer.js';

/** Options of {@link Dense}. */
export interface DenseConfig extends LayerConfig {
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
  /** Penalty on the kernel added to the training loss: `'l1'`, `'l2'`, `'l1l2'` or `regularizers.l2({ l2 })`. */
  kernelRegularizer?: RegularizerSpec | null;
  /** Penalty on the bias added to the training loss. */
  biasRegularizer?: RegularizerSpec | null;
}

/**
 * Fully connected layer on the last axis: y = act(x · kernel + bias), kernel `[in, units]`.
 * Inputs of higher rank are multiplied along their last axis, as in Keras.
 *
 * @example
 * new layers.Dense({ units: 1, activation: 'sigmoid' });
 */
export class Dense extends Layer {
  readonly className = 'Dense';
  readonly units: number;
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
  private saved: { x: Float32Array; rows: number } | null = null;

  constructor(config: DenseConfig) {
    super(config, 'Dense');
    checkKeys('Dense', config, ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer']);
    const owner = `Dense '${this.name}'`;
    if (!Number.isInteger(config.units) || config.units < 1) throw new Error(`${owner}: units must be a positive integer, got ${config.units}`);
    this.units = config.units;
    this.useBias = config.useBias ?? true;
    this.act = new ActivationStep(resolveActivation(config.activation, owner));
    this.kernelInitializer = config.kernelInitializer ?? 'glorotUniform';
    this.biasInitializer = config.biasInitializer ?? 'zeros';
    this.kernelRegularizer = getRegularizer(config.kernelRegularizer, `${owner}: kernelRegularizer`);
    this.biasRegularizer = getRegularizer(config.biasRegularizer, `${owner}: biasRegularizer`);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape.slice(0, -1), this.units];
  }

  protected override createParams(inputShape: readonly number[]): void {
    this.kernel = this.addWeight('kernel', [inputShape[inputShape.length - 1], this.units], this.kernelInitializer, true, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer, true, this.biasRegularizer);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const inUnits = this.kernel!.shape[0];
    if (x.shape[x.rank - 1] !== inUnits) {
      throw new Error(`Dense '${this.name}': expects input (…, ${inUnits}), got [${x.shape.join(', ')}]`);
    }
    const backend = getBackend();
    const rows = x.size / inUnits;
    let z = backend.matmul(x.values, this.kernel!.value, rows, inUnits, this.units, false, false);
    if (this.bias) z = backend.biasAdd(z, this.bias.value, this.units);
    const y = this.act.forward(z, this.units, ctx.training);
    this.saved = ctx.training ? { x: x.values, rows } : null;
    return wrap(y, [...(x.shape as number[]).slice(0, -1), this.units] as unknown as Shape);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.saved) throw this.noForward();
    const { x, rows } = this.saved;
    this.saved = null;
    const backend = getBackend();
    const inUnits = this.kernel!.shape[0];
    const dz = this.act.backward(dy.values, this.units);
    if (this.bias && this.bias.trainable) addInto(this.bias.grad, backend.biasGrad(dz, this.units));
    if (this.kernel!.trainable) addInto(this.kernel!.grad, backend.matmul(x, dz, inUnits, rows, this.units, true, false));
    if (!needInputGrad) return null;
    const dx = backend.matmul(dz, this.kernel!.value, rows, this.units, inUnits, false, true);
    return wrap(dx, [...(dy.shape as number[]).slice(0, -1), inUnits] as unknown as Shape);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.act.kind,
      useBias: this.useBias,
      kernelInitializer: initializerName(this.kernelInitializer),
      biasInitializer: initializerName(this.biasInitializer),
      ...(this.kernelRegularizer ? { kernelRegularizer: this.kernelRegularizer } : {}),
      ...(this.biasRegularizer ? { biasRegularizer: this.biasRegularizer } : {}),
    };
  }
}
