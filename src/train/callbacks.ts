import { getOwn } from '../util/own-map.js';
import { checkEarlyStoppingConfig, checkHooks } from './callback-checks.js';
/** Metric values of an epoch or batch, Keras keys: `loss`, `precision`, `val_loss`, … */
export type Logs = Record<string, number>;

/** Hooks `fit` calls; implement any subset. Methods may be async. */
export interface Callback {
  /** Set by fit before training starts. */
  setModel?(model: { stopTraining: boolean }): void;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingConfig {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  baseline?: number;
  restoreBestWeights?: boolean;
}

/** What EarlyStopping needs of a model: the stop flag and weight snapshots. */
export interface StoppableModel {
  stopTraining: boolean;
  getWeightValues(): Float32Array[];
  setWeightValues(values: Float32Array[]): void;
}

/**
 * Stops training when a monitored value has stopped improving for `patience` epochs, as Keras.
 *
 * @example
 * await model.fit(x, y, { epochs: 50, callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 3 })] });
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  readonly baseline: number | undefined;
  private readonly sign: 1 | -1;
  private model: StoppableModel | null = null;
  private best = Infinity;
  private wait = 0;
  private bestWeights: Float32Array[] | null = null;
  /** Epoch (0-based) at which training stopped, or -1. */
  stoppedEpoch = -1;

  constructor(config: EarlyStoppingConfig = {}) {
    checkEarlyStoppingConfig(config);
    this.monitor = config.monitor ?? 'val_loss';
    this.minDelta = Math.abs(config.minDelta ?? 0);
    this.patience = config.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new Error(`EarlyStopping: patience must be a non-negative integer, got ${config.patience}`);
    this.restoreBestWeights = config.restoreBestWeights ?? false;
    this.baseline = config.baseline;
    const mode = config.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new Error(`EarlyStopping: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
    const max = mode === 'max' || (mode === 'auto' && /acc|precision|recall|auc/.test(this.monitor));
    this.sign = max ? -1 : 1;
  }

  setModel(model: { stopTraining: boolean }): void {
    this.model = model as StoppableModel;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.best = this.baseline === undefined ? Infinity : this.sign * this.baseline;
    this.bestWeights = null;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const value = getOwn(logs, this.monitor);
    if (value === undefined) {
      throw new Error(`EarlyStopping: monitored '${this.monitor}' is not in the logs; available: ${Object.keys(logs).join(', ')}`);
    }
    const v = this.sign * value;
    this.wait++;
    if (v < this.best - this.minDelta) {
      this.best = v;
      this.wait = 0;
      if (this.restoreBestWeights && this.model) this.bestWeights = this.model.getWeightValues();
      return;
    }
    // Keras 3: `wait >= patience` stops; the best weights come back at train end, stopped or not.
    if (this.wait >= this.patience && epoch > 0 && this.model) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.model) this.model.setWeightValues(this.bestWeights);
  }
}

/** A callback made of plain functions, for `{ onEpochEnd: (epoch, logs) => … }` style hooks. */
export class LambdaCallback implements Callback {
  constructor(hooks: Callback) {
    checkHooks(hooks);
    // Copied by name, never with Object.assign: an own '__proto__' key (from JSON) would replace the prototype.
    for (const key of Object.keys(hooks) as (keyof Callback)[]) Object.defineProperty(this, key, { value: hooks[key], enumerable: true, writable: true });
  }
}
