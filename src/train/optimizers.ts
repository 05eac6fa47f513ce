import { checkOptionKeys as checkOptions } from '../util/options.js';
import { getBackend } from '../backend/index.js';
import { camelCase } from '../initializers.js';
import type { Param } from '../layers/layer.js';
import { applyWeightDecay, checkClipping, clipGradients, type ClipConfig, type Clipping } from './clipping.js';
import { LearningRateSchedule } from './schedules.js';

function checkPositive(owner: string, key: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${owner}: ${key} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${value}`);
  }
  return value;
}

/** Options every optimizer accepts besides its own. */
export interface OptimizerConfig extends ClipConfig {
  /** A constant rate or a {@link LearningRateSchedule} of the step count. */
  learningRate?: number | LearningRateSchedule;
  /** Decoupled weight decay `w ← w − w·weightDecay·lr` before each update (Keras 3; default none). */
  weightDecay?: number;
}

const COMMON_KEYS = ['learningRate', 'weightDecay', 'clipNorm', 'clipValue', 'globalClipNorm'];

/**
 * Updates trainable parameters from their gradients, exactly as Keras 3 does. Each `apply`:
 * lr = the schedule at `iterations` (or the constant rate); gradients clipped (clipNorm,
 * clipValue or globalClipNorm); weights decayed `w −= w·weightDecay·lr`; the update rule.
 */
export abstract class Optimizer {
  abstract readonly className: string;
  /** Number of update steps applied so far (Keras `iterations`). */
  iterations = 0;
  /** The schedule given as `learningRate`, or null for a constant rate. */
  readonly learningRateSchedule: LearningRateSchedule | null;
  readonly weightDecay: number | null;
  readonly clipNorm: number | null;
  readonly clipValue: number | null;
  readonly globalClipNorm: number | null;
  private rate: number;
  private readonly clipping: Clipping;
  private readonly owner: string;
  /** Per-parameter state (velocity, moments), zeros until the first update. */
  private slotState = new WeakMap<Param, Float32Array[]>();

  /** Rejects keys outside the common ones and `ownKeys`, then checks the common options. */
  protected constructor(config: OptimizerConfig, defaultLearningRate: number, owner: string, ownKeys: readonly string[]) {
    checkOptions(owner, config, [...COMMON_KEYS, ...ownKeys]);
    this.owner = owner;
    const lr = config.learningRate ?? defaultLearningRate;
    if (lr instanceof LearningRateSchedule) {
      this.learningRateSchedule = lr;
      this.rate = NaN;
    } else {
      this.learningRateSchedule = null;
      this.rate = checkPositive(owner, 'learningRate', lr);
    }
    this.weightDecay = config.weightDecay === undefined || config.weightDecay === null ? null : checkPositive(owner, 'weightDecay', config.weightDecay, true);
    this.clipping = checkClipping(owner, config);
    this.clipNorm = this.clipping?.kind === 'norm' ? this.clipping.limit : null;
    this.clipValue = this.clipping?.kind === 'value' ? this.clipping.limit : null;
    this.globalClipNorm = this.clipping?.kind === 'globalNorm' ? this.clipping.limit : null;
  }

  /**
   * The learning rate of the next update: the schedule at `iterations`, or the constant rate.
   * Settable (callbacks such as ReduceLROnPlateau do) only when it is not a schedule, as in Keras.
   */
  get learningRate(): number {
    return this.learningRateSchedule ? this.learningRateSchedule.at(this.iterations) : this.rate;
  }

  set learningRate(value: number) {
    if (this.learningRateSchedule) {
      throw new Error(`${this.owner}: the learning rate is the schedule ${this.learningRateSchedule.className} and cannot be set to ${value}`);
    }
    this.rate = checkPositive(this.owner, 'learningRate', value);
  }

  /** One update of every trainable parameter from its current `grad` (the grads are clipped in place). */
  apply(params: readonly Param[]): void {
    const lr = this.learningRate;
    const trainable = params.filter((p) => p.trainable);
    clipGradients(trainable, this.clipping);
    if (this.weightDecay) applyWeightDecay(trainable, this.weightDecay, lr);
    this.iterations++;
    for (const p of trainable) this.update(p, lr);
  }

  protected abstract update(p: Param, lr: number): void;

  /** The `count` state arrays of `p`, of its size, created as zeros on first use. */
  protected slots(p: Param, count: number): Float32Array[] {
    let s = this.slotState.get(p);
    if (!s) this.slotState.set(p, (s = Array.from({ length: count }, () => new Float32Array(p.value.length))));
    // Held where the backend's updates read them (on the gpu backend's device, across steps).
    const backend = getBackend();
    for (let i = 0; i < s.length; i++) s[i] = backend.hold(s[i]);
    return s;
  }

  /** Forgets the slot variables (velocities, moments) and the step count. */
  reset(): void {
    this.slotState = new WeakMap();
    this.iterations = 0;
  }

  /** The optimizer's own settings; {@link getConfig} adds the common ones. */
  protected abstract ownConfig(): Record<string, unknown>;

  /** Settings in tscnn's camelCase form; a schedule as Keras serialises it (`{ class_name, config }`). */
  getConfig(): Record<string, unknown> {
    const s = this.learningRateSchedule;
    const out: Record<string, unknown> = { learningRate: s ? { class_name: s.className, config: s.getConfig() } : this.rate, ...this.ownConfig() };
    if (this.weightDecay !== null) out.weightDecay = this.weightDecay;
    if (this.clipNorm !== null) out.clipNorm = this.clipNorm;
    if (this.clipValue !== null) out.clipValue = this.clipValue;
    if (this.globalClipNorm !== null) out.globalClipNorm = this.globalClipNorm;
    return out;
  }
}

/** Options of {@link SGD}. */
export interface SGDConfig extends OptimizerConfig {
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

  constructor(config: SGDConfig = {}) {
    super(config, 0.01, 'SGD', ['momentum', 'nesterov']);
    this.momentum = checkPositive('SGD', 'momentum', config.momentum ?? 0, true);
    this.nesterov = config.nesterov ?? false;
  }

  protected update(p: Param, lr: number): void {
    const velocity = this.momentum !== 0 ? this.slots(p, 1)[0] : null;
    getBackend().sgdUpdate(p.value, p.grad, velocity, lr, this.momentum, this.nesterov);
  }

  protected ownConfig(): Record<string, unknown> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

/** Options of {@link Adam}. */
export interface AdamConfig extends OptimizerConfig {
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
  readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(config: AdamConfig = {}, owner = 'Adam') {
    super(config, 1e-3, owner, ['beta1', 'beta2', 'epsilon']);
    this.beta1 = checkPositive(owner, 'beta1', config.beta1 ?? 0.9, true);
    this.beta2 = checkPositive(owner, 'beta2', config.beta2 ?? 0.999, true);
    this.epsilon = checkPositive(owner, 'epsilon', config.epsilon ?? 1e-7, true);
    if (this.beta1 >= 1 || this.beta2 >= 1) throw new Error(`${owner}: beta1 and beta2 must be below 1, got ${this.beta1}, ${this.beta2}`);
  }

  protected update(p: Param, lr: number): void {
    const [m, v] = this.slots(p, 2);
    getBackend().adamUpdate(p.value, p.grad, m, v, lr, this.beta1, this.beta2, this.epsilon, this.iterations);
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Options of {@link RMSprop}. */
export interface RMSpropConfig extends OptimizerConfig {
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

  constructor(config: RMSpropConfig = {}) {
    super(config, 1e-3, 'RMSprop', ['rho', 'epsilon']);
    this.rho = checkPositive('RMSprop', 'rho', config.rho ?? 0.9, true);
    this.epsilon = checkPositive('RMSprop', 'epsilon', config.epsilon ?? 1e-7, true);
  }

  protected update(p: Param, lr: number): void {
    const [meanSquare] = this.slots(p, 1);
    getBackend().rmspropUpdate(p.value, p.grad, meanSquare, lr, this.rho, this.epsilon);
  }

  protected ownConfig(): Record<string, unknown> {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}

/** Options of {@link AdamW}: Adam's, with `weightDecay` defaulting to 0.004. */
export type AdamWConfig = AdamConfig;

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter), Keras 3's AdamW: before each Adam
 * update `w ← w − w·weightDecay·lr`, on every trainable weight (biases included, as Keras'
 * default). Defaults: learningRate 1e-3, weightDecay 0.004, beta1 0.9, beta2 0.999, epsilon 1e-7.
 *
 * @example
 * new optimizers.AdamW({ learningRate: 1e-3, weightDecay: 0.01 });
 */
export class AdamW extends Adam {
  override readonly className: string = 'AdamW';

  constructor(config: AdamWConfig = {}) {
    if (config.weightDecay === null) throw new Error('AdamW: weightDecay must be a number, got null');
    super({ ...config, weightDecay: config.weightDecay ?? 0.004 }, 'AdamW');
  }
}

/** Builds an optimizer from a name ('sgd', 'adam', 'adamw', 'rmsprop') with Keras defaults, or passes one through. */
export function getOptimizer(spec: string | Optimizer): Optimizer {
  if (spec instanceof Optimizer) return spec;
  const key = typeof spec === 'string' ? camelCase(spec).toLowerCase() : '';
  if (key === 'sgd') return new SGD();
  if (key === 'adam') return new Adam();
  if (key === 'rmsprop') return new RMSprop();
  if (key === 'adamw') return new AdamW();
  throw new Error(`compile: unknown optimizer ${JSON.stringify(spec)}; known: sgd, adam, adamw, rmsprop (or an Optimizer instance)`);
}
