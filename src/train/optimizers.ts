import { getBackend } from '../backend/index.js';
import { camelCase } from '../initializers.js';
import type { Param } from '../layers/layer.js';

function checkPositive(owner: string, key: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${owner}: ${key} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${value}`);
  }
  return value;
}

function checkOptions(owner: string, config: object, allowed: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (!allowed.includes(key)) throw new Error(`${owner}: unknown option '${key}'; known: ${allowed.join(', ')}`);
  }
}

/** Updates trainable parameters from their gradients, exactly as Keras does. */
export abstract class Optimizer {
  abstract readonly className: string;
  learningRate: number;
  /** Number of update steps applied so far (Keras `iterations`). */
  iterations = 0;

  constructor(learningRate: number, owner: string) {
    this.learningRate = checkPositive(owner, 'learningRate', learningRate);
  }

  /** One update of every trainable parameter from its current `grad`. */
  apply(params: readonly Param[]): void {
    this.iterations++;
    for (const p of params) if (p.trainable) this.update(p);
  }

  protected abstract update(p: Param): void;

  /** Forgets the slot variables (velocities, moments) and the step count. */
  abstract reset(): void;

  abstract getConfig(): Record<string, unknown>;
}

/** Options of {@link SGD}. */
export interface SGDConfig {
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent. Plain: w −= lr·g. Momentum: v = m·v − lr·g; w += v.
 * Nesterov: v = m·v − lr·g; w += m·v − lr·g.
 *
 * @example
 * new optimizers.SGD({ learningRate: 1e-4 });
 */
export class SGD extends Optimizer {
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  private velocity = new WeakMap<Param, Float32Array>();

  constructor(config: SGDConfig = {}) {
    super(config.learningRate ?? 0.01, 'SGD');
    checkOptions('SGD', config, ['learningRate', 'momentum', 'nesterov']);
    this.momentum = checkPositive('SGD', 'momentum', config.momentum ?? 0, true);
    this.nesterov = config.nesterov ?? false;
  }

  protected update(p: Param): void {
    let v: Float32Array | null = null;
    if (this.momentum !== 0) {
      v = this.velocity.get(p) ?? null;
      if (!v) this.velocity.set(p, (v = new Float32Array(p.value.length)));
    }
    getBackend().sgdUpdate(p.value, p.grad, v, this.learningRate, this.momentum, this.nesterov);
  }

  reset(): void {
    this.velocity = new WeakMap();
    this.iterations = 0;
  }

  getConfig(): Record<string, unknown> {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov };
  }
}

/** Options of {@link Adam}. */
export interface AdamConfig {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam in Keras' form: bias correction folded into the step size, ε outside the square root.
 *
 * @example
 * new optimizers.Adam({ learningRate: 1e-3 });
 */
export class Adam extends Optimizer {
  readonly className = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private moments = new WeakMap<Param, { m: Float32Array; v: Float32Array }>();

  constructor(config: AdamConfig = {}) {
    super(config.learningRate ?? 1e-3, 'Adam');
    checkOptions('Adam', config, ['learningRate', 'beta1', 'beta2', 'epsilon']);
    this.beta1 = checkPositive('Adam', 'beta1', config.beta1 ?? 0.9, true);
    this.beta2 = checkPositive('Adam', 'beta2', config.beta2 ?? 0.999, true);
    this.epsilon = checkPositive('Adam', 'epsilon', config.epsilon ?? 1e-7, true);
    if (this.beta1 >= 1 || this.beta2 >= 1) throw new Error(`Adam: beta1 and beta2 must be below 1, got ${this.beta1}, ${this.beta2}`);
  }

  protected update(p: Param): void {
    let s = this.moments.get(p);
    if (!s) this.moments.set(p, (s = { m: new Float32Array(p.value.length), v: new Float32Array(p.value.length) }));
    getBackend().adamUpdate(p.value, p.grad, s.m, s.v, this.learningRate, this.beta1, this.beta2, this.epsilon, this.iterations);
  }

  reset(): void {
    this.moments = new WeakMap();
    this.iterations = 0;
  }

  getConfig(): Record<string, unknown> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Options of {@link RMSprop}. */
export interface RMSpropConfig {
  learningRate?: number;
  rho?: number;
  epsilon?: number;
}

/**
 * RMSprop (no momentum, not centered), Keras 3 form: ms = ρ·ms + (1 − ρ)·g²; w −= lr·g / √(ms + ε).
 *
 * @example
 * new optimizers.RMSprop({ learningRate: 1e-3 });
 */
export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly epsilon: number;
  private ms = new WeakMap<Param, Float32Array>();

  constructor(config: RMSpropConfig = {}) {
    super(config.learningRate ?? 1e-3, 'RMSprop');
    checkOptions('RMSprop', config, ['learningRate', 'rho', 'epsilon']);
    this.rho = checkPositive('RMSprop', 'rho', config.rho ?? 0.9, true);
    this.epsilon = checkPositive('RMSprop', 'epsilon', config.epsilon ?? 1e-7, true);
  }

  protected update(p: Param): void {
    let s = this.ms.get(p);
    if (!s) this.ms.set(p, (s = new Float32Array(p.value.length)));
    getBackend().rmspropUpdate(p.value, p.grad, s, this.learningRate, this.rho, this.epsilon);
  }

  reset(): void {
    this.ms = new WeakMap();
    this.iterations = 0;
  }

  getConfig(): Record<string, unknown> {
    return { learningRate: this.learningRate, rho: this.rho, epsilon: this.epsilon };
  }
}

/** Builds an optimizer from a name ('sgd', 'adam', 'rmsprop') with Keras defaults, or passes one through. */
export function getOptimizer(spec: string | Optimizer): Optimizer {
  if (spec instanceof Optimizer) return spec;
  const key = typeof spec === 'string' ? camelCase(spec).toLowerCase() : '';
  if (key === 'sgd') return new SGD();
  if (key === 'adam') return new Adam();
  if (key === 'rmsprop') return new RMSprop();
  throw new Error(`compile: unknown optimizer ${JSON.stringify(spec)}; known: sgd, adam, rmsprop (or an Optimizer instance)`);
}
