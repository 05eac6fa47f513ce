import type { ActivationKind } from '../backend/types.js';
import { getBackend } from '../backend/index.js';

/** Activation names accepted by layers (camelCase or Keras snake_case; `silu` = `swish`). */
export type ActivationName = ActivationKind | 'leaky_relu' | 'hard_sigmoid' | 'silu';

const kinds: readonly ActivationKind[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'leakyRelu', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'hardSigmoid'];
const aliases: Record<string, ActivationKind> = { leaky_relu: 'leakyRelu', hard_sigmoid: 'hardSigmoid', silu: 'swish' };

/** Default parameter of the parametrized activations (Keras: leaky_relu 0.2, elu 1). */
export function defaultAlpha(kind: ActivationKind): number {
  return kind === 'leakyRelu' ? 0.2 : kind === 'elu' ? 1 : 0;
}

/** Resolves an activation name; unknown names throw naming the owner and the known names. */
export function resolveActivation(name: string | undefined | null, owner: string): ActivationKind {
  if (name === undefined || name === null) return 'linear';
  if (typeof name !== 'string') throw new Error(`${owner}: activation must be a string, got ${JSON.stringify(name)}`);
  const kind = aliases[name] ?? (kinds.includes(name as ActivationKind) ? (name as ActivationKind) : undefined);
  if (!kind) throw new Error(`${owner}: unknown activation '${name}'; known: ${kinds.join(', ')}`);
  return kind;
}

/** The part of a layer that applies an activation and back-propagates through it. */
export class ActivationStep {
  private x: Float32Array | null = null;
  private y: Float32Array | null = null;

  constructor(
    readonly kind: ActivationKind,
    private readonly alpha = defaultAlpha(kind),
  ) {}

  /** A step with the same activation and nothing saved (for another call of a shared layer). */
  copy(): ActivationStep {
    return new ActivationStep(this.kind, this.alpha);
  }

  forward(x: Float32Array, channels: number, training: boolean): Float32Array {
    if (this.kind === 'linear') return x;
    const y = getBackend().activation(this.kind, x, channels, this.alpha);
    if (training) {
      this.x = x;
      this.y = y;
    }
    return y;
  }

  backward(dy: Float32Array, channels: number): Float32Array {
    if (this.kind === 'linear') return dy;
    if (!this.x || !this.y) throw new Error(`activation ${this.kind}: backward called without a training-mode forward`);
    const dx = getBackend().activationBackward(this.kind, dy, this.x, this.y, channels, this.alpha);
    this.x = null;
    this.y = null;
    return dx;
  }
}
