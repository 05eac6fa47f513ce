// Streaming area under the ROC or PR curve over a fixed threshold grid.
import { checkBatch, checkOptions, type Metric } from './metric.js';

/**
 * Streaming area under the ROC or PR curve, Keras semantics. Confusion counts are kept at
 * `numThresholds` thresholds `[−1e-7, 1/(n−1), 2/(n−1), …, (n−2)/(n−1), 1 + 1e-7]`
 * (prediction positive iff `p > t` in float32, label positive iff non-zero, weighted by
 * sampleWeight).
 * ROC: trapezoid rule over (FPR, TPR). PR: Keras' default `summation_method='interpolation'`,
 * i.e. the Davis & Goadrich interpolation of precision between thresholds (Keras
 * `interpolate_pr_auc`), reproduced exactly. The value is exact for the given thresholds, and
 * an approximation of the true AUC only as fine as the threshold grid: two scores in the same
 * `1/(n−1)` bucket count as tied.
 * Defaults: `numThresholds = 200`, `curve = 'ROC'`, `name = 'auc'`.
 *
 * @example
 * const auc = new AUC();
 * auc.update(new Float32Array([0, 0, 1, 1]), new Float32Array([0.1, 0.4, 0.35, 0.8]), 4, 1);
 * auc.result(); // 0.75
 */
export class AUC implements Metric {
  readonly name: string;
  readonly numThresholds: number;
  readonly curve: 'ROC' | 'PR';
  /** The thresholds, ascending. */
  readonly thresholds: readonly number[];
  private readonly cuts: Float32Array;
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly tn: Float64Array;
  private readonly fn: Float64Array;

  constructor(config: { numThresholds?: number; curve?: 'ROC' | 'PR'; name?: string } = {}) {
    checkOptions('AUC', config, ['numThresholds', 'curve', 'name']);
    this.name = config.name ?? 'auc';
    const n = config.numThresholds ?? 200;
    if (!Number.isInteger(n) || n < 2) throw new Error(`${this.name}: numThresholds must be an integer ≥ 2, got ${n}`);
    const curve = config.curve ?? 'ROC';
    if (curve !== 'ROC' && curve !== 'PR') throw new Error(`${this.name}: curve must be 'ROC' or 'PR', got '${String(curve)}'`);
    this.numThresholds = n;
    this.curve = curve;
    const t = [-1e-7];
    for (let i = 1; i < n - 1; i++) t.push(i / (n - 1));
    t.push(1 + 1e-7);
    this.thresholds = Object.freeze(t);
    this.cuts = new Float32Array(t);
    this.tp = new Float64Array(n);
    this.fp = new Float64Array(n);
    this.tn = new Float64Array(n);
    this.fn = new Float64Array(n);
  }

  /** Weighted true positives at each threshold. */
  get truePositives(): number[] {
    return Array.from(this.tp);
  }
  /** Weighted false positives at each threshold. */
  get falsePositives(): number[] {
    return Array.from(this.fp);
  }
  /** Weighted true negatives at each threshold. */
  get trueNegatives(): number[] {
    return Array.from(this.tn);
  }
  /** Weighted false negatives at each threshold. */
  get falseNegatives(): number[] {
    return Array.from(this.fn);
  }

  reset(): void {
    this.tp.fill(0);
    this.fp.fill(0);
    this.tn.fill(0);
    this.fn.fill(0);
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight);
    const t = this.cuts;
    const n = this.numThresholds;
    for (let i = 0; i < yPred.length; i++) {
      const w = sampleWeight ? sampleWeight[Math.floor(i / units)] : 1;
      const p = yPred[i];
      // Thresholds ascend, so p > t[k] holds exactly for k below the first threshold ≥ p.
      let above = 0;
      while (above < n && p > t[above]) above++;
      if (yTrue[i] !== 0) {
        for (let k = 0; k < above; k++) this.tp[k] += w;
        for (let k = above; k < n; k++) this.fn[k] += w;
      } else {
        for (let k = 0; k < above; k++) this.fp[k] += w;
        for (let k = above; k < n; k++) this.tn[k] += w;
      }
    }
  }

  result(): number {
    const n = this.numThresholds;
    const { tp, fp, tn, fn } = this;
    const div = (a: number, b: number): number => (b === 0 ? 0 : a / b);
    let sum = 0;
    if (this.curve === 'ROC') {
      for (let k = 0; k < n - 1; k++) {
        const x0 = div(fp[k], fp[k] + tn[k]);
        const x1 = div(fp[k + 1], fp[k + 1] + tn[k + 1]);
        const y0 = div(tp[k], tp[k] + fn[k]);
        const y1 = div(tp[k + 1], tp[k + 1] + fn[k + 1]);
        sum += (x0 - x1) * ((y0 + y1) / 2);
      }
      return sum;
    }
    for (let k = 0; k < n - 1; k++) {
      const dtp = tp[k] - tp[k + 1];
      const p0 = tp[k] + fp[k];
      const p1 = tp[k + 1] + fp[k + 1];
      const slope = div(dtp, Math.max(p0 - p1, 0));
      const intercept = tp[k + 1] - slope * p1;
      const ratio = p0 > 0 && p1 > 0 ? div(p0, Math.max(p1, 0)) : 1;
      sum += div(slope * (dtp + intercept * Math.log(ratio)), Math.max(tp[k + 1] + fn[k + 1], 0));
    }
    return sum;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, numThresholds: this.numThresholds, curve: this.curve };
  }
}

