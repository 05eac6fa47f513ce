import { wrap, type Tensor2D, type Tensor } from '../tensor.js';
import { Layer, type LayerConfig } from './layer.js';

/**
 * Flattens each sample to one axis, row-major over NHWC: index (h·W + w)·C + c.
 *
 * @example
 * new layers.Flatten(); // (None, 6, 6, 128) → (None, 4608)
 */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  private inShape: readonly number[] | null = null;

  constructor(config: LayerConfig = {}) {
    super(config, 'Flatten');
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [inputShape.reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor): Tensor2D {
    this.inShape = x.shape;
    const batch = x.shape[0] ?? 1;
    return wrap<2>(x.values, [batch, batch === 0 ? 0 : x.size / batch]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!this.inShape) throw this.noForward();
    return needInputGrad ? wrap(dy.values, this.inShape as Tensor['shape']) : null;
  }
}
