import { checkOptionKeys } from '../util/options.js';
import type { Callback, Logs } from '../train/callbacks.js';
import type { Sequential } from '../model/sequential.js';
import { layerToKeras } from './layer-config.js';
import { firstNonFinite, saveModel } from './save.js';
import { getOwn } from '../util/own-map.js';

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointConfig {
  /**
   * Directory to save into; may hold Keras-style fields filled per epoch: `{epoch}` (1-based, as
   * Keras prints it), `{epoch:02d}`, or any log value such as `{val_loss:.4f}`.
   */
  filepath: string;
  /** Log value compared between epochs when `saveBestOnly` is on. Default `'val_loss'`. */
  monitor?: string;
  /** Save only when `monitor` improves on the best value so far. Default false (save every epoch). */
  saveBestOnly?: boolean;
  /** `'min'`, `'max'`, or `'auto'` (default: max for accuracy, precision, recall, auc; min otherwise). */
  mode?: 'auto' | 'min' | 'max';
  /** 1 prints a line per epoch saying whether and where the model was saved. Default 0. */
  verbose?: 0 | 1;
}

const KEYS = ['filepath', 'monitor', 'saveBestOnly', 'mode', 'verbose'];

/**
 * Saves the model during `fit` at the end of every epoch, or only when the monitored value
 * improved (Keras' ModelCheckpoint). Each save is atomic (see `saveModel`): an interrupted or
 * failed save leaves the previous checkpoint intact, and the error propagates out of `fit`.
 * The optimizer state is not saved (as in TF.js): training resumed from a checkpoint starts
 * with fresh momentum / Adam moments.
 *
 * @example
 * await model.fit(x, y, { epochs: 20, validationSplit: 0.2, callbacks: [new ModelCheckpoint({ filepath: 'ckpt/best', saveBestOnly: true })] });
 * const best = await loadModel('ckpt/best');
 */
export class ModelCheckpoint implements Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly verbose: 0 | 1;
  private readonly sign: 1 | -1;
  private model: Sequential | null = null;
  private bestSigned = Infinity;
  /** Path of the last checkpoint written, or null. */
  lastSaved: string | null = null;

  constructor(config: ModelCheckpointConfig) {
    if (!config || typeof config !== 'object') throw new Error('ModelCheckpoint: expected { filepath, ... }');
    checkOptionKeys('ModelCheckpoint', config, KEYS);
    if (typeof config.filepath !== 'string' || config.filepath === '') throw new Error(`ModelCheckpoint: filepath must be a non-empty string, got ${JSON.stringify(config.filepath)}`);
    this.filepath = config.filepath;
    this.monitor = config.monitor ?? 'val_loss';
    this.saveBestOnly = config.saveBestOnly ?? false;
    this.verbose = config.verbose ?? 0;
    const mode = config.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new Error(`ModelCheckpoint: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
    const max = mode === 'max' || (mode === 'auto' && /acc|precision|recall|auc/.test(this.monitor));
    this.sign = max ? -1 : 1;
  }

  /** Best monitored value seen so far (Infinity or -Infinity before the first save). */
  get best(): number {
    return this.sign * this.bestSigned;
  }

  setModel(model: { stopTraining: boolean }): void {
    this.model = model as Sequential;
  }

  /** The checkpoint path for an epoch (0-based) and its logs. */
  formatPath(epoch: number, logs: Logs): string {
    return this.filepath.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_, key: string, spec: string | undefined) => {
      const value = key === 'epoch' ? epoch + 1 : getOwn(logs, key);
      if (value === undefined) throw new Error(`ModelCheckpoint: filepath field '{${key}}' is not in the logs; available: epoch, ${Object.keys(logs).join(', ')}`);
      return formatValue(value, spec);
    });
  }

  /** Fails before the first epoch when a layer of the model cannot be saved (rather than after it). */
  onTrainBegin(): void {
    const model = this.model;
    if (!model) return;
    model.layers.forEach((l, i) => {
      try {
        layerToKeras(l, i === 0);
      } catch (e) {
        throw new Error(`ModelCheckpoint: the model cannot be saved, so no checkpoint could be written: ${(e as Error).message}`, { cause: e });
      }
    });
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (!this.model) throw new Error('ModelCheckpoint: no model; pass the callback to fit()');
    const path = this.formatPath(epoch, logs);
    // A diverged model would replace a good checkpoint with one loadModel refuses: keep the old one.
    const bad = firstNonFinite(this.model);
    if (bad) {
      const lr = this.model.optimizer?.learningRate;
      console.warn(`ModelCheckpoint: epoch ${epoch + 1}: weight '${bad.name}' of layer '${bad.name.split('/')[0]}' holds ${bad.value} (training diverged${lr !== undefined ? ` at learning rate ${lr}` : ''}); checkpoint not saved, '${this.lastSaved ?? path}' kept as it was`);
      return;
    }
    if (!this.saveBestOnly) {
      await saveModel(this.model, path);
      this.lastSaved = path;
      if (this.verbose) console.log(`Epoch ${epoch + 1}: saving model to ${path}`);
      return;
    }
    const value = getOwn(logs, this.monitor);
    if (value === undefined) {
      throw new Error(`ModelCheckpoint: monitored '${this.monitor}' is not in the logs; available: ${Object.keys(logs).join(', ')}`);
    }
    const signed = this.sign * value;
    if (signed < this.bestSigned) {
      const previous = this.best;
      // Save first: a failed save must not count as the new best.
      await saveModel(this.model, path);
      this.bestSigned = signed;
      this.lastSaved = path;
      if (this.verbose) console.log(`Epoch ${epoch + 1}: ${this.monitor} improved from ${fmt(previous)} to ${fmt(value)}, saving model to ${path}`);
    } else if (this.verbose) {
      console.log(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${fmt(this.best)}`);
    }
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(5) : String(v);
}

/** Python format specs used in Keras file paths: `02d`, `.4f`, or none. */
function formatValue(value: number, spec: string | undefined): string {
  if (!spec) return String(value);
  const m = /^(0?)(\d*)(?:\.(\d+))?([df])$/.exec(spec);
  if (!m) throw new Error(`ModelCheckpoint: unsupported format spec ':${spec}' in filepath (use e.g. 02d or .4f)`);
  const [, zero, width, precision, type] = m;
  const text = type === 'd' ? String(Math.round(value)) : value.toFixed(precision ? Number(precision) : 6);
  return width ? text.padStart(Number(width), zero ? '0' : ' ') : text;
}
