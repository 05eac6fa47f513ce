// Callbacks that change the optimizer's learning rate between epochs, as keras/src/callbacks
// (reduce_lr_on_plateau.py, learning_rate_scheduler.py). Both write the rate in use into the
// epoch's logs as `learning_rate`.
import { checkOptionKeys as checkKeys } from '../util/options.js';
import type { Callback, Logs } from './callbacks.js';
import type { Optimizer } from './optimizers.js';
import { writeOut } from '../util/host.js';

/** What these callbacks need of a model. */
interface ModelWithOptimizer {
  stopTraining: boolean;
  optimizer: Optimizer | null;
}

function optimizerOf(owner: string, model: ModelWithOptimizer | null): Optimizer {
  if (!model?.optimizer) throw new Error(`${owner}: the model has no optimizer; compile it before fit`);
  return model.optimizer;
}


/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauConfig {
  monitor?: string;
  factor?: number;
  patience?: number;
  verbose?: 0 | 1;
  mode?: 'auto' | 'min' | 'max';
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

/**
 * Multiplies the learning rate by `factor` when `monitor` has not improved by more than
 * `minDelta` for `patience` epochs, Keras 3 semantics: improvement is `v < best − minDelta`
 * (mode min; `'auto'` is max only when the name contains `acc`); after a reduction
 * `lr = max(lr·factor, minLr)` (only while `lr > minLr`) and `cooldown` epochs pass with `wait`
 * held at 0. Defaults: monitor 'val_loss', factor 0.1, patience 10, minDelta 1e-4, cooldown 0,
 * minLr 0. The optimizer's learning rate must be a constant, not a schedule (as in Keras).
 *
 * @example
 * await model.fit(x, y, { epochs: 50, callbacks: [new ReduceLROnPlateau({ factor: 0.5, patience: 3 })] });
 */
export class ReduceLROnPlateau implements Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: 0 | 1;
  readonly mode: 'auto' | 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private model: ModelWithOptimizer | null = null;
  private best = Infinity;
  private sign: 1 | -1 = 1;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(config: ReduceLROnPlateauConfig = {}) {
    const owner = 'ReduceLROnPlateau';
    checkKeys(owner, config, ['monitor', 'factor', 'patience', 'verbose', 'mode', 'minDelta', 'cooldown', 'minLr']);
    this.monitor = config.monitor ?? 'val_loss';
    this.factor = config.factor ?? 0.1;
    if (!(this.factor > 0 && this.factor < 1)) throw new Error(`${owner}: factor must be in (0, 1) (it multiplies the learning rate), got ${config.factor}`);
    this.patience = config.patience ?? 10;
    this.cooldown = config.cooldown ?? 0;
    for (const [key, v] of [['patience', this.patience], ['cooldown', this.cooldown]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`${owner}: ${key} must be a non-negative integer, got ${v}`);
    }
    this.minDelta = config.minDelta ?? 1e-4;
    this.minLr = config.minLr ?? 0;
    for (const [key, v] of [['minDelta', this.minDelta], ['minLr', this.minLr]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new Error(`${owner}: ${key} must be a non-negative finite number, got ${v}`);
    }
    this.verbose = config.verbose ?? 0;
    this.mode = config.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(this.mode)) throw new Error(`${owner}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(this.mode)}`);
  }

  setModel(model: { stopTraining: boolean }): void {
    this.model = model as ModelWithOptimizer;
  }

  onTrainBegin(): void {
    const max = this.mode === 'max' || (this.mode === 'auto' && this.monitor.includes('acc'));
    this.sign = max ? -1 : 1;
    this.best = Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const optimizer = optimizerOf('ReduceLROnPlateau', this.model);
    logs.learning_rate = optimizer.learningRate;
    const value = logs[this.monitor];
    if (value === undefined) {
      throw new Error(`ReduceLROnPlateau: monitored '${this.monitor}' is not in the logs; available: ${Object.keys(logs).join(', ')}`);
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    // Both sides carry the sign, so min mode is v < best − δ and max mode v > best + δ.
    const v = this.sign * value;
    if (v < this.best - this.minDelta) {
      this.best = v;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = optimizer.learningRate;
        if (old > this.minLr) {
          const lr = Math.max(old * this.factor, this.minLr);
          optimizer.learningRate = lr;
          if (this.verbose) writeOut(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${lr}.\n`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/**
 * Sets the learning rate at the start of every epoch to `schedule(epoch, currentLr)` (epoch
 * 0-based), Keras semantics; the rate used is written into the epoch's logs as `learning_rate`.
 *
 * @example
 * new LearningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * Math.exp(-0.1)));
 */
export class LearningRateScheduler implements Callback {
  private model: ModelWithOptimizer | null = null;

  constructor(
    readonly schedule: (epoch: number, lr: number) => number,
    readonly verbose: 0 | 1 = 0,
  ) {
    if (typeof schedule !== 'function') throw new Error(`LearningRateScheduler: schedule must be a function (epoch, lr) => lr, got ${String(schedule)}`);
  }

  setModel(model: { stopTraining: boolean }): void {
    this.model = model as ModelWithOptimizer;
  }

  onEpochBegin(epoch: number): void {
    const optimizer = optimizerOf('LearningRateScheduler', this.model);
    const lr = this.schedule(epoch, optimizer.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) {
      throw new Error(`LearningRateScheduler: schedule(${epoch}, ${optimizer.learningRate}) returned ${String(lr)}; it must return a positive finite number`);
    }
    optimizer.learningRate = lr;
    if (this.verbose) writeOut(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.\n`);
  }

  onEpochEnd(_epoch: number, logs: Logs): void {
    logs.learning_rate = optimizerOf('LearningRateScheduler', this.model).learningRate;
  }
}
