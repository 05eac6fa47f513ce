import { wrap, type Tensor } from '../tensor.js';
import { checkKeys, formatShape, Layer, type LayerConfig } from './layer.js';

/** Options of {@link Reshape}. */
export interface ReshapeConfig extends LayerConfig {
  /** The sample shape (no batch axis); at most one entry may be -1, inferred from the input size. */
  targetShape: readonly number[];
}

/**
 * Reshapes each sample to `targetShape`, keeping the row-major (NHWC) order of its values, as Keras.
 *
 * @example
 * new layers.Reshape({ targetShape: [4, 4, -1] }); // [None, 64] → [None, 4, 4, 4]
 */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: readonly number[];
  private inShape: readonly number[] | null = null;

  constructor(config: ReshapeConfig) {
    super(config ?? {}, 'Reshape');
    checkKeys('Reshape', config ?? {}, ['targetShape']);
    const t: unknown = config?.targetShape;
    const owner = `Reshape '${this.name}'`;
    if (
      !Array.isArray(t) || t.length === 0 ||
      t.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || t.filter((d) => d === -1).length > 1
    ) {
      throw new Error(`${owner}: targetShape must be positive integers with at most one -1, got ${JSON.stringify(t)}`);
    }
    this.targetShape = [...(t as number[])];
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const size = inputShape.reduce((a, b) => a * b, 1);
    const known = this.targetShape.reduce((a, b) => (b === -1 ? a : a * b), 1);
    const free = this.targetShape.indexOf(-1);
    if (free < 0 ? known !== size : size % known !== 0) {
      throw new Error(
        `Reshape '${this.name}': input ${formatShape(inputShape)} has ${size} values per sample, which targetShape ${JSON.stringify(this.targetShape)} cannot hold`,
      );
    }
    return this.targetShape.map((d) => (d === -1 ? size / known : d));
  }

  forward(x: Tensor): Tensor {
    const out = this.computeOutputShape(x.shape.slice(1));
    this.inShape = x.shape;
    return wrap(x.values, [x.shape[0] ?? 1, ...out] as unknown as Tensor['shape']);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.inShape) throw this.noForward();
    return needInputGrad ? wrap(dy.values, this.inShape as Tensor['shape']) : null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: [...this.targetShape] };
  }
}
