// Streaming precision and recall: TP / (TP + FP) and TP / (TP + FN) over every element.
import { asFloat32, checkBatch, checkOptions, checkThreshold, type Metric } from './metric.js';

/**
 * TP / (TP + X) over every element of `[batch, units]`, where X is false positives (precision)
 * or false negatives (recall). A prediction is positive iff `p > threshold` (strictly, compared in
 * float32 like Keras), a label iff it is non-zero; counts are weighted by sampleWeight and
 * accumulate until `reset`. The result is 0 when TP + X is 0.
 */
abstract class PositiveRatio implements Metric {
  readonly name: string;
  readonly threshold: number;
  protected tp = 0;
  /** False positives (precision) or false negatives (recall). */
  protected miss = 0;

  constructor(className: string, defaultName: string, config: { threshold?: number; name?: string }) {
    checkOptions(className, config, ['threshold', 'name']);
    this.name = config.name ?? defaultName;
    this.threshold = checkThreshold(this.name, config.threshold ?? 0.5);
  }

  /** Whether a non-true-positive element with this label and prediction counts in the denominator. */
  protected abstract isMiss(labelPositive: boolean, predictedPositive: boolean): boolean;

  /** Weighted count of positive labels predicted positive. */
  get truePositives(): number {
    return this.tp;
  }

  reset(): void {
    this.tp = 0;
    this.miss = 0;
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight);
    const t = asFloat32(this.threshold);
    for (let i = 0; i < yPred.length; i++) {
      const predicted = yPred[i] > t;
      const label = yTrue[i] !== 0;
      const w = sampleWeight ? sampleWeight[Math.floor(i / units)] : 1;
      if (predicted && label) this.tp += w;
      else if (this.isMiss(label, predicted)) this.miss += w;
    }
  }

  result(): number {
    const d = this.tp + this.miss;
    return d > 0 ? this.tp / d : 0;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, threshold: this.threshold };
  }
}

/**
 * Streaming precision `TP / (TP + FP)` over every element of `[batch, units]`, Keras
 * semantics: a prediction is positive iff `p > threshold` (strictly, so p = 0.5 is negative
 * at the default threshold), a label is positive iff it is non-zero; counts are weighted by
 * sampleWeight and accumulate until {@link reset}. 0 when nothing was predicted positive.
 * The comparison is in float32 like Keras (p = 0.3 is negative at threshold 0.3).
 * Defaults: `threshold = 0.5`, `name = 'precision'`.
 *
 * @example
 * const p = new Precision();
 * p.update(new Float32Array([1, 0, 1]), new Float32Array([0.9, 0.8, 0.5]), 3, 1);
 * p.truePositives; // 1 (0.5 is not > 0.5)
 * p.result(); // 0.5
 */
export class Precision extends PositiveRatio {
  constructor(config: { threshold?: number; name?: string } = {}) {
    super('Precision', 'precision', config);
  }

  protected isMiss(labelPositive: boolean, predictedPositive: boolean): boolean {
    return predictedPositive && !labelPositive;
  }

  /** Weighted count of negative labels predicted positive. */
  get falsePositives(): number {
    return this.miss;
  }
}

/**
 * Streaming recall `TP / (TP + FN)`, same conventions as {@link Precision}; 0 when there were
 * no positive labels. Defaults: `threshold = 0.5`, `name = 'recall'`.
 *
 * @example
 * const r = new Recall();
 * r.update(new Float32Array([1, 1, 0]), new Float32Array([0.9, 0.2, 0.8]), 3, 1);
 * r.result(); // 0.5
 */
export class Recall extends PositiveRatio {
  constructor(config: { threshold?: number; name?: string } = {}) {
    super('Recall', 'recall', config);
  }

  protected isMiss(labelPositive: boolean, predictedPositive: boolean): boolean {
    return labelPositive && !predictedPositive;
  }

  /** Weighted count of positive labels predicted negative. */
  get falseNegatives(): number {
    return this.miss;
  }
}

