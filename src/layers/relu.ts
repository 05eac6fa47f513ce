import { getBackend } from '../backend/index.js';
import type { ReluOptions } from '../backend/types.js';
import { wrap, type Tensor } from '../tensor.js';
import { checkKeys, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Options of {@link ReLU}, as Keras' ReLU layer. */
export interface ReLUConfig extends LayerConfig {
  /** Cap of the output (≥ 0); default null: none. `maxValue: 6` is MobileNet's relu6. */
  maxValue?: number | null;
  /** Slope below the threshold (≥ 0); default 0. */
  negativeSlope?: number;
  /** Values at or below it are not passed through (≥ 0); default 0. */
  threshold?: number;
}

/**
 * Keras' ReLU layer: y = maxValue where x ≥ maxValue, x where threshold < x < maxValue, and
 * negativeSlope·(x − threshold) otherwise. With the defaults it is the plain relu activation
 * (and runs that op, the fast one on `cpu`); otherwise the op `reluWithOptions`.
 *
 * @example
 * new layers.ReLU({ maxValue: 6 }); // relu6
 */
export class ReLU extends Layer {
  readonly className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;
  private readonly options: ReluOptions;
  private x: Float32Array | null = null;
  private y: Float32Array | null = null;

  constructor(config: ReLUConfig = {}) {
    super(config, 'ReLU');
    checkKeys('ReLU', config, ['maxValue', 'negativeSlope', 'threshold']);
    const owner = `ReLU '${this.name}'`;
    const nonNegative = (key: 'maxValue' | 'negativeSlope' | 'threshold', v: unknown): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${owner}: ${key} must be a finite number ≥ 0, got ${JSON.stringify(v)}`);
      return v;
    };
    this.maxValue = config.maxValue === undefined || config.maxValue === null ? null : nonNegative('maxValue', config.maxValue);
    this.negativeSlope = nonNegative('negativeSlope', config.negativeSlope ?? 0);
    this.threshold = nonNegative('threshold', config.threshold ?? 0);
    this.options = { maxValue: this.maxValue ?? Infinity, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }

  private get plain(): boolean {
    return this.maxValue === null && this.negativeSlope === 0 && this.threshold === 0;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const b = getBackend();
    const channels = x.shape[x.rank - 1] ?? 1;
    const y = this.plain ? b.activation('relu', x.values, channels, 0) : b.reluWithOptions(x.values, this.options);
    this.x = ctx.training ? x.values : null;
    this.y = ctx.training ? y : null;
    return wrap(y, x.shape);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const { x, y } = this;
    if (!x || !y) throw this.noForward();
    this.x = null;
    this.y = null;
    if (!needInputGrad) return null;
    const b = getBackend();
    const channels = dy.shape[dy.rank - 1] ?? 1;
    const dx = this.plain ? b.activationBackward('relu', dy.values, x, y, channels, 0) : b.reluWithOptionsBackward(dy.values, x, this.options);
    return wrap(dx, dy.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
}
