// Stateful streaming metrics over flat row-major `[batch, units]` Float32Arrays, Keras
// semantics: counts accumulate over every `update` until `reset` (the model resets them at
// the start of each epoch, and separately for validation), and `result` reads the counts.

/**
 * A streaming metric. `yTrue` and `yPred` are row-major `[batch, units]` (categorical metrics
 * also take `yTrue` as `[batch]` class indices); `sampleWeight` is `[batch]` and weights every
 * count of its sample.
 *
 * @example
 * const m = getMetric('precision', 1);
 * m.update(new Float32Array([1, 0]), new Float32Array([0.9, 0.7]), 2, 1);
 * m.result(); // 0.5
 * m.reset();
 */
export interface Metric {
  /** Display name, as Keras prints it in logs (`'precision'`, `'accuracy'`, `'auc'`, ...). */
  readonly name: string;
  /** Clears the accumulated state. */
  reset(): void;
  /** Accumulates one batch; throws on bad shapes or NaN. */
  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void;
  /** The metric over everything accumulated since the last reset. */
  result(): number;
  /** Serialisable options, `{ name, ...options }`. */
  getConfig(): Record<string, unknown>;
}

export function fmt(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

import { checkOptionKeys as checkOptions } from '../../util/options.js';

export { checkOptions };

export function checkThreshold(name: string, threshold: number): number {
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`${name}: threshold must be in [0, 1], got ${fmt(threshold)}`);
  return threshold;
}

/**
 * Keras compares float32 predictions with a float32 threshold. Comparing with the float64
 * threshold would make a prediction of 0.3 (float32 0.30000001) positive at threshold 0.3.
 */
export const asFloat32 = Math.fround;

/**
 * Validates one batch. `trueLengths` lists the lengths yTrue may have; returns true when yTrue
 * holds `batch` class indices rather than `[batch, units]` values.
 */
export function checkBatch(
  name: string,
  yTrue: Float32Array,
  yPred: Float32Array,
  batch: number,
  units: number,
  sampleWeight: Float32Array | undefined,
  allowIndices = false,
): boolean {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${name}: batch must be a positive integer, got ${batch}`);
  if (!Number.isInteger(units) || units < 1) throw new Error(`${name}: units must be a positive integer, got ${units}`);
  if (yPred.length !== batch * units) {
    throw new Error(`${name}: yPred has ${yPred.length} values, expected batch·units = ${batch}·${units} = ${batch * units}`);
  }
  const indices = allowIndices && units > 1 && yTrue.length === batch;
  if (!indices && yTrue.length !== batch * units) {
    const expected = allowIndices ? `${batch * units} (batch·units) or ${batch} class indices` : `${batch * units} (batch·units)`;
    throw new Error(`${name}: yTrue has ${yTrue.length} values, expected ${expected}`);
  }
  for (let i = 0; i < yPred.length; i++) {
    if (Number.isNaN(yPred[i])) throw new Error(`${name}: yPred[${i}] is NaN`);
  }
  for (let i = 0; i < yTrue.length; i++) {
    if (!Number.isFinite(yTrue[i])) throw new Error(`${name}: yTrue[${i}] is ${fmt(yTrue[i])}`);
  }
  if (sampleWeight !== undefined) {
    if (sampleWeight.length !== batch) {
      throw new Error(`${name}: sampleWeight has ${sampleWeight.length} values, expected batch = ${batch}`);
    }
    for (let i = 0; i < batch; i++) {
      if (!Number.isFinite(sampleWeight[i])) throw new Error(`${name}: sampleWeight[${i}] is ${fmt(sampleWeight[i])}`);
    }
  }
  if (indices) {
    for (let b = 0; b < batch; b++) {
      const t = yTrue[b];
      if (!Number.isInteger(t) || t < 0 || t >= units) {
        throw new Error(`${name}: yTrue[${b}] = ${t} is not a class index in [0, ${units - 1}]`);
      }
    }
  }
  return indices;
}

/** Index of the largest value in `a[offset, offset + n)`; the first one on ties, like argmax in Keras. */
export function argmax(a: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[offset + j] > a[offset + best]) best = j;
  return best;
}

/**
 * A streaming weighted mean `Σ value / Σ weight`, 0 before anything was seen: the state of
 * BinaryAccuracy, Accuracy and BatchAveragedPrecision.
 */
export abstract class MeanMetric implements Metric {
  readonly name: string;
  protected sum = 0;
  protected weight = 0;

  constructor(className: string, defaultName: string, config: { name?: string }, allowed: readonly string[] = ['name']) {
    checkOptions(className, config, allowed);
    this.name = config.name ?? defaultName;
  }

  /** Σ of the values accumulated. */
  get total(): number {
    return this.sum;
  }

  /** Σ of the weights accumulated. */
  get count(): number {
    return this.weight;
  }

  reset(): void {
    this.sum = 0;
    this.weight = 0;
  }

  abstract update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void;

  result(): number {
    return this.weight !== 0 ? this.sum / this.weight : 0;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name };
  }
}

