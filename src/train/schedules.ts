import { checkOptionKeys } from '../util/options.js';
// Learning-rate schedules: functions of the optimizer's step count (Keras `iterations`, 0 at the
// first update), evaluated once per update before it. Formulas as keras/src/optimizers/schedules.

/**
 * A learning rate that depends on the update step, accepted as `learningRate` by every optimizer.
 *
 * @example
 * const lr = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5 });
 * lr.at(100); // 0.05
 */
export abstract class LearningRateSchedule {
  /** Keras class name, e.g. `'ExponentialDecay'`. */
  abstract readonly className: string;
  /** The learning rate for update number `step` (0-based). */
  abstract at(step: number): number;
  /** Keras' snake_case config, as `keras.optimizers.schedules.serialize` writes it. */
  abstract getConfig(): Record<string, unknown>;
}

function checkKeys(owner: string, config: object, allowed: readonly string[]): void {
  if (typeof config !== 'object' || config === null) throw new Error(`${owner}: expected a config object, got ${String(config)}`);
  checkOptionKeys(owner, config, allowed);
}

function checkNumber(owner: string, key: string, v: unknown, { min = -Infinity, minExclusive = false } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minExclusive && v === min)) {
    throw new Error(`${owner}: ${key} must be a finite number ${minExclusive ? '>' : '≥'} ${min}, got ${String(v)}`);
  }
  return v;
}

/** Options of {@link ExponentialDecay}. */
export interface ExponentialDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole periods of `decaySteps` (default false). */
  staircase?: boolean;
}

/**
 * `lr(step) = initialLearningRate · decayRate^(step / decaySteps)`; with `staircase` the exponent
 * is `floor(step / decaySteps)`.
 *
 * @example
 * new optimizers.SGD({ learningRate: new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 1000, decayRate: 0.96 }) });
 */
export class ExponentialDecay extends LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;

  constructor(config: ExponentialDecayConfig) {
    super();
    const owner = 'ExponentialDecay';
    checkKeys(owner, config, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
    this.initialLearningRate = checkNumber(owner, 'initialLearningRate', config.initialLearningRate, { min: 0, minExclusive: true });
    this.decaySteps = checkNumber(owner, 'decaySteps', config.decaySteps, { min: 0, minExclusive: true });
    this.decayRate = checkNumber(owner, 'decayRate', config.decayRate, { min: 0, minExclusive: true });
    if (config.staircase !== undefined && typeof config.staircase !== 'boolean') throw new Error(`${owner}: staircase must be a boolean, got ${String(config.staircase)}`);
    this.staircase = config.staircase ?? false;
  }

  at(step: number): number {
    let p = step / this.decaySteps;
    if (this.staircase) p = Math.floor(p);
    return this.initialLearningRate * this.decayRate ** p;
  }

  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase, name: 'ExponentialDecay' };
  }
}

/** Options of {@link PiecewiseConstantDecay}. */
export interface PiecewiseConstantDecayConfig {
  /** Increasing step boundaries. */
  boundaries: number[];
  /** One more value than boundaries. */
  values: number[];
}

/**
 * `values[0]` while `step ≤ boundaries[0]`, `values[i]` while `boundaries[i−1] < step ≤ boundaries[i]`,
 * `values[n]` once `step > boundaries[n−1]` (Keras' inclusive upper ends).
 *
 * @example
 * new PiecewiseConstantDecay({ boundaries: [100, 200], values: [0.1, 0.01, 0.001] }).at(100); // 0.1
 */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  readonly boundaries: readonly number[];
  readonly values: readonly number[];

  constructor(config: PiecewiseConstantDecayConfig) {
    super();
    const owner = 'PiecewiseConstantDecay';
    checkKeys(owner, config, ['boundaries', 'values']);
    const { boundaries, values } = config;
    if (!Array.isArray(boundaries) || boundaries.length === 0) throw new Error(`${owner}: boundaries must be a non-empty array, got ${JSON.stringify(boundaries)}`);
    if (!Array.isArray(values) || values.length !== boundaries.length + 1) {
      throw new Error(`${owner}: values must have one more entry than boundaries (${boundaries.length} + 1), got ${JSON.stringify(values)}`);
    }
    boundaries.forEach((b, i) => {
      checkNumber(owner, `boundaries[${i}]`, b);
      if (i > 0 && !(b > boundaries[i - 1])) throw new Error(`${owner}: boundaries must increase, got ${JSON.stringify(boundaries)}`);
    });
    values.forEach((v, i) => checkNumber(owner, `values[${i}]`, v, { min: 0 }));
    this.boundaries = Object.freeze([...boundaries]);
    this.values = Object.freeze([...values]);
  }

  at(step: number): number {
    const i = this.boundaries.findIndex((b) => step <= b);
    return this.values[i < 0 ? this.boundaries.length : i];
  }

  getConfig(): Record<string, unknown> {
    return { boundaries: [...this.boundaries], values: [...this.values], name: 'PiecewiseConstant' };
  }
}

/** Options of {@link CosineDecay}. */
export interface CosineDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  /** Floor of the decay as a fraction of the decay's starting rate (default 0). */
  alpha?: number;
  /** Rate reached at the end of the warm-up; no warm-up when absent (default). */
  warmupTarget?: number;
  /** Length of the linear warm-up in steps (default 0). */
  warmupSteps?: number;
}

/**
 * Cosine decay with optional linear warm-up, Keras 3. Without `warmupTarget`:
 * `s = min(step, decaySteps)`, `lr = initial · ((1 − α)·½(1 + cos(π·s/decaySteps)) + α)`.
 * With it: `s = min(step, warmupSteps + decaySteps)`; while `s < warmupSteps`,
 * `lr = initial + (warmupTarget − initial)·s/warmupSteps`; after, the decay above from
 * `warmupTarget` over `s − warmupSteps`.
 *
 * @example
 * new CosineDecay({ initialLearningRate: 0, decaySteps: 900, warmupTarget: 0.1, warmupSteps: 100 }).at(50); // 0.05
 */
export class CosineDecay extends LearningRateSchedule {
  readonly className = 'CosineDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly warmupTarget: number | null;
  readonly warmupSteps: number;

  constructor(config: CosineDecayConfig) {
    super();
    const owner = 'CosineDecay';
    checkKeys(owner, config, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps']);
    this.initialLearningRate = checkNumber(owner, 'initialLearningRate', config.initialLearningRate, { min: 0 });
    this.decaySteps = checkNumber(owner, 'decaySteps', config.decaySteps, { min: 0, minExclusive: true });
    this.alpha = checkNumber(owner, 'alpha', config.alpha ?? 0, { min: 0 });
    this.warmupTarget = config.warmupTarget === undefined || config.warmupTarget === null ? null : checkNumber(owner, 'warmupTarget', config.warmupTarget, { min: 0 });
    this.warmupSteps = checkNumber(owner, 'warmupSteps', config.warmupSteps ?? 0, { min: 0 });
    if (this.warmupTarget !== null && this.warmupSteps === 0) throw new Error(`${owner}: warmupTarget ${this.warmupTarget} needs warmupSteps > 0`);
    if (this.warmupTarget === null && this.warmupSteps > 0) throw new Error(`${owner}: warmupSteps ${this.warmupSteps} needs a warmupTarget`);
    if (this.initialLearningRate === 0 && this.warmupTarget === null) throw new Error(`${owner}: initialLearningRate 0 without warm-up never trains`);
  }

  private decay(s: number, from: number): number {
    const cosine = 0.5 * (1 + Math.cos(Math.PI * (s / this.decaySteps)));
    return from * ((1 - this.alpha) * cosine + this.alpha);
  }

  at(step: number): number {
    if (this.warmupTarget === null) return this.decay(Math.min(step, this.decaySteps), this.initialLearningRate);
    const s = Math.min(step, this.decaySteps + this.warmupSteps);
    if (s < this.warmupSteps) return (this.warmupTarget - this.initialLearningRate) * (s / this.warmupSteps) + this.initialLearningRate;
    return this.decay(s - this.warmupSteps, this.warmupTarget);
  }

  getConfig(): Record<string, unknown> {
    return {
      initial_learning_rate: this.initialLearningRate,
      decay_steps: this.decaySteps,
      alpha: this.alpha,
      name: 'CosineDecay',
      warmup_target: this.warmupTarget,
      warmup_steps: this.warmupSteps,
    };
  }
}

/**
 * Rebuilds a schedule from Keras' serialised form `{ class_name, config }` (snake_case or
 * camelCase keys). Throws naming the class for anything else.
 */
export function scheduleFromKeras(o: unknown): LearningRateSchedule {
  const obj = o as { class_name?: unknown; config?: Record<string, unknown> };
  if (typeof obj !== 'object' || obj === null || typeof obj.class_name !== 'string' || typeof obj.config !== 'object' || obj.config === null) {
    throw new Error(`learning-rate schedule ${JSON.stringify(o)} is not { class_name, config }`);
  }
  const cfg: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj.config)) {
    if (k === 'name') continue;
    cfg[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  switch (obj.class_name) {
    case 'ExponentialDecay':
      return new ExponentialDecay(cfg as unknown as ExponentialDecayConfig);
    case 'PiecewiseConstantDecay':
      return new PiecewiseConstantDecay(cfg as unknown as PiecewiseConstantDecayConfig);
    case 'CosineDecay':
      if (cfg.warmupTarget === null) delete cfg.warmupTarget;
      return new CosineDecay(cfg as unknown as CosineDecayConfig);
    default:
      throw new Error(`learning-rate schedule ${obj.class_name} is not supported (known: ExponentialDecay, PiecewiseConstantDecay, CosineDecay)`);
  }
}
