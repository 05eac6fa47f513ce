import { getBackend } from '../backend/index.js';
import { wrap, type Tensor } from '../tensor.js';
import { checkKeys, Layer, type LayerConfig } from './layer.js';

/** Options of {@link Rescaling}. */
export interface RescalingConfig extends LayerConfig {
  /** Multiplies every input value. Required, as in Keras. */
  scale: number;
  /** Added after scaling. Default 0. */
  offset?: number;
}

/**
 * y = x·scale + offset on every value, in training and inference, as Keras (e.g. pixels 0..255 to
 * 0..1 with scale 1/255, or to −1..1 with scale 1/127.5, offset −1). Runs the existing `multiply`
 * and `biasAdd` ops (one offset as a single channel) rather than an op of its own.
 *
 * @example
 * new layers.Rescaling({ scale: 1 / 255, inputShape: [100, 100, 3] });
 */
export class Rescaling extends Layer {
  readonly className = 'Rescaling';
  readonly scale: number;
  readonly offset: number;
  private size = -1;

  constructor(config: RescalingConfig) {
    super(config ?? {}, 'Rescaling');
    checkKeys('Rescaling', config ?? {}, ['scale', 'offset']);
    const owner = `Rescaling '${this.name}'`;
    const { scale, offset = 0 } = config ?? ({} as Partial<RescalingConfig>);
    if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new Error(`${owner}: scale must be a finite number, got ${JSON.stringify(scale)}`);
    if (typeof offset !== 'number' || !Number.isFinite(offset)) throw new Error(`${owner}: offset must be a finite number, got ${JSON.stringify(offset)}`);
    this.scale = scale;
    this.offset = offset;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    const b = getBackend();
    this.size = x.size;
    const scaled = b.multiply(x.values, new Float32Array(x.size).fill(this.scale));
    return wrap(this.offset === 0 ? scaled : b.biasAdd(scaled, Float32Array.of(this.offset), 1), x.shape as Tensor['shape']);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (this.size < 0) throw this.noForward();
    return needInputGrad ? wrap(getBackend().multiply(dy.values, new Float32Array(dy.size).fill(this.scale)), dy.shape as Tensor['shape']) : null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}
