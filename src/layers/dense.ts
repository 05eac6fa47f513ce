import { getBackend } from '../backend/index.js';
import { wrap, type Shape, type Tensor } from '../tensor.js';
import { addInto, KernelLayer, type KernelLayerConfig } from './kernel-layer.js';
import type { ForwardContext } from './layer.js';
import { weightValues, weightVersion } from './weight.js';

/** Options of {@link Dense}: its units, and the kernel, bias and activation options of {@link KernelLayerConfig}. */
export interface DenseConfig extends KernelLayerConfig {
  units: number;
}

/**
 * Fully connected layer on the last axis: y = act(x · kernel + bias), kernel `[in, units]`.
 * Inputs of higher rank are multiplied along their last axis, as in Keras.
 *
 * @example
 * new layers.Dense({ units: 1, activation: 'sigmoid' });
 */
export class Dense extends KernelLayer {
  readonly className = 'Dense';
  readonly units: number;
  private saved: { x: Float32Array; rows: number } | null = null;

  constructor(config: DenseConfig) {
    super(config, 'Dense', ['units']);
    if (!Number.isInteger(config.units) || config.units < 1) throw new Error(`${this.owner}: units must be a positive integer, got ${config.units}`);
    this.units = config.units;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape.slice(0, -1), this.units];
  }

  protected override createParams(inputShape: readonly number[]): void {
    this.createKernelAndBias([inputShape[inputShape.length - 1], this.units], this.units);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const inUnits = this.kernel!.shape[0];
    if (x.shape[x.rank - 1] !== inUnits) {
      throw new Error(`Dense '${this.name}': expects input (…, ${inUnits}), got [${x.shape.join(', ')}]`);
    }
    const rows = x.size / inUnits;
    // At inference the backend may keep the kernel prepared between calls, keyed on its version.
    const kernel = this.kernel!;
    const z = ctx.training
      ? getBackend().matmul(x.values, kernel.value, rows, inUnits, this.units, false, false)
      : getBackend().matmul(x.values, weightValues(kernel), rows, inUnits, this.units, false, false, weightVersion(kernel) ?? undefined);
    const y = this.biasAndActivation(z, this.units, ctx.training);
    this.saved = ctx.training ? { x: x.values, rows } : null;
    return wrap(y, [...(x.shape as number[]).slice(0, -1), this.units] as unknown as Shape);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.saved) throw this.noForward();
    const { x, rows } = this.saved;
    this.saved = null;
    const backend = getBackend();
    const inUnits = this.kernel!.shape[0];
    const dz = this.activationAndBiasBackward(dy.values, this.units);
    if (this.kernel!.trainable) addInto(this.kernel!.grad, backend.matmul(x, dz, inUnits, rows, this.units, true, false));
    if (!needInputGrad) return null;
    const dx = backend.matmul(dz, this.kernel!.value, rows, this.units, inUnits, false, true);
    return wrap(dx, [...(dy.shape as number[]).slice(0, -1), inUnits] as unknown as Shape);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      ...this.kernelLayerConfig(),
    };
  }
}
