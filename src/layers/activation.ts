import { wrap, type Tensor } from '../tensor.js';
import { ActivationStep, resolveActivation, type ActivationName } from './activations.js';
import { Layer, type ForwardContext, type LayerConfig } from './layer.js';

/**
 * Applies an activation function element-wise (softmax over the last axis).
 *
 * @example
 * new layers.Activation('relu');
 */
export class Activation extends Layer {
  readonly className = 'Activation';
  private step: ActivationStep;

  constructor(activation: ActivationName | (LayerConfig & { activation: ActivationName }), config: LayerConfig = {}) {
    const cfg = typeof activation === 'string' ? config : activation;
    super(cfg, 'Activation');
    const name = typeof activation === 'string' ? activation : activation.activation;
    this.step = new ActivationStep(resolveActivation(name, `Activation '${this.name}'`));
  }

  protected override ownCallState(): void {
    this.step = this.step.copy();
  }

  get activation(): string {
    return this.step.kind;
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return wrap(this.step.forward(x.values, x.shape[x.rank - 1] ?? 1, ctx.training), x.shape);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const dx = this.step.backward(dy.values, dy.shape[dy.rank - 1] ?? 1);
    return needInputGrad ? wrap(dx, dy.shape) : null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: this.step.kind };
  }
}
