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

function fmt(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function checkOptions(name: string, opts: object | undefined, known: readonly string[]): void {
  if (opts === undefined) return;
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) throw new Error(`${name}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
}

function checkThreshold(name: string, threshold: number): number {
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`${name}: threshold must be in [0, 1], got ${fmt(threshold)}`);
  return threshold;
}

/**
 * Keras compares float32 predictions with a float32 threshold. Comparing with the float64
 * threshold would make a prediction of 0.3 (float32 0.30000001) positive at threshold 0.3.
 */
const asFloat32 = Math.fround;

/**
 * Validates one batch. `trueLengths` lists the lengths yTrue may have; returns true when yTrue
 * holds `batch` class indices rather than `[batch, units]` values.
 */
function checkBatch(
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
function argmax(a: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[offset + j] > a[offset + best]) best = j;
  return best;
}

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

/**
 * A streaming weighted mean `Σ value / Σ weight`, 0 before anything was seen: the state of
 * BinaryAccuracy, Accuracy and BatchAveragedPrecision.
 */
abstract class MeanMetric implements Metric {
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

/**
 * Streaming binary accuracy, Keras semantics: per sample the fraction of units where
 * `yTrue == (p > threshold ? 1 : 0)` (exact equality, so soft labels never match), then the
 * sampleWeight-weighted mean over samples: `Σ w_i·v_i / Σ w_i`.
 * Defaults: `threshold = 0.5`, `name = 'binary_accuracy'` (`getMetric('accuracy', 1)` names it
 * `'accuracy'`).
 *
 * @example
 * const a = new BinaryAccuracy();
 * a.update(new Float32Array([1, 0, 1, 0]), new Float32Array([0.9, 0.6, 0.5, 0.1]), 4, 1);
 * a.result(); // 0.5
 */
export class BinaryAccuracy extends MeanMetric {
  readonly threshold: number;

  constructor(config: { threshold?: number; name?: string } = {}) {
    super('BinaryAccuracy', 'binary_accuracy', config, ['threshold', 'name']);
    this.threshold = checkThreshold(this.name, config.threshold ?? 0.5);
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight);
    for (let b = 0; b < batch; b++) {
      let correct = 0;
      for (let u = 0; u < units; u++) {
        const i = b * units + u;
        if (yTrue[i] === (yPred[i] > asFloat32(this.threshold) ? 1 : 0)) correct++;
      }
      const w = sampleWeight ? sampleWeight[b] : 1;
      this.sum += (w * correct) / units;
      this.weight += w;
    }
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, threshold: this.threshold };
  }
}

/**
 * Streaming categorical accuracy for softmax outputs: a sample is correct when
 * `argmax(yPred)` equals `argmax(yTrue)` (yTrue `[batch, units]`, one-hot) or equals the class
 * index (yTrue `[batch]`, as Keras' sparse_categorical_accuracy). Ties go to the first index.
 * Weighted mean over samples. Default `name = 'accuracy'`.
 *
 * @example
 * const a = new Accuracy();
 * a.update(new Float32Array([2, 0]), new Float32Array([0.1, 0.2, 0.7, 0.3, 0.6, 0.1]), 2, 3);
 * a.result(); // 0.5
 */
export class Accuracy extends MeanMetric {
  constructor(config: { name?: string } = {}) {
    super('Accuracy', 'accuracy', config);
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    const indices = checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight, true);
    for (let b = 0; b < batch; b++) {
      const t = indices ? yTrue[b] : argmax(yTrue, b * units, units);
      const w = sampleWeight ? sampleWeight[b] : 1;
      if (argmax(yPred, b * units, units) === t) this.sum += w;
      this.weight += w;
    }
  }
}

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

/**
 * Streaming confusion matrix, rows = true class, columns = predicted class, weighted by
 * sampleWeight. With a 1-unit sigmoid output (numClasses must be 2) the prediction is
 * `p > threshold ? 1 : 0` and yTrue must be 0 or 1; with `units === numClasses` the prediction
 * is argmax(yPred) and yTrue is one-hot `[batch, units]` (argmax) or `[batch]` class indices.
 * `result()` is the accuracy read from the matrix (trace / total, 0 when empty).
 * Defaults: `numClasses = 2`, `threshold = 0.5`, `name = 'confusion_matrix'`.
 *
 * @example
 * const cm = new ConfusionMatrix();
 * cm.update(new Float32Array([0, 1, 1]), new Float32Array([0.2, 0.9, 0.4]), 3, 1);
 * cm.matrix(); // [[1, 0], [1, 1]]
 * console.log(cm.toString());
 */
export class ConfusionMatrix implements Metric {
  readonly name: string;
  readonly numClasses: number;
  readonly threshold: number;
  private readonly counts: Float64Array;

  constructor(config: { numClasses?: number; threshold?: number; name?: string } = {}) {
    checkOptions('ConfusionMatrix', config, ['numClasses', 'threshold', 'name']);
    this.name = config.name ?? 'confusion_matrix';
    const n = config.numClasses ?? 2;
    if (!Number.isInteger(n) || n < 2) throw new Error(`${this.name}: numClasses must be an integer ≥ 2, got ${n}`);
    this.numClasses = n;
    this.threshold = checkThreshold(this.name, config.threshold ?? 0.5);
    this.counts = new Float64Array(n * n);
  }

  /** The weighted counts, `matrix()[trueClass][predictedClass]` (a copy). */
  matrix(): number[][] {
    const n = this.numClasses;
    return Array.from({ length: n }, (_, r) => Array.from(this.counts.subarray(r * n, (r + 1) * n)));
  }

  /** Σ of all weighted counts. */
  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  reset(): void {
    this.counts.fill(0);
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    const n = this.numClasses;
    if (units === 1) {
      if (n !== 2) throw new Error(`${this.name}: a 1-unit output gives 2 classes, but numClasses is ${n}`);
    } else if (units !== n) {
      throw new Error(`${this.name}: yPred has ${units} units per sample, expected 1 or numClasses = ${n}`);
    }
    const indices = checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight, true);
    for (let b = 0; b < batch; b++) {
      let t: number;
      let p: number;
      if (units === 1) {
        t = yTrue[b];
        if (t !== 0 && t !== 1) throw new Error(`${this.name}: yTrue[${b}] = ${t}, expected a binary label 0 or 1`);
        p = yPred[b] > asFloat32(this.threshold) ? 1 : 0;
      } else {
        t = indices ? yTrue[b] : argmax(yTrue, b * units, units);
        p = argmax(yPred, b * units, units);
      }
      this.counts[t * n + p] += sampleWeight ? sampleWeight[b] : 1;
    }
  }

  result(): number {
    const n = this.numClasses;
    let trace = 0;
    for (let k = 0; k < n; k++) trace += this.counts[k * n + k];
    const total = this.total;
    return total !== 0 ? trace / total : 0;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, numClasses: this.numClasses, threshold: this.threshold };
  }

  /**
   * A small right-aligned table, e.g.
   * ```
   *          pred 0  pred 1
   * true 0        1       0
   * true 1        1       1
   * ```
   */
  toString(): string {
    const n = this.numClasses;
    const cell = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(3));
    const head = Array.from({ length: n }, (_, c) => `pred ${c}`);
    const rows = this.matrix().map((r) => r.map(cell));
    const labels = Array.from({ length: n }, (_, r) => `true ${r}`);
    const labelWidth = Math.max(...labels.map((s) => s.length));
    const width = Math.max(...head.map((s) => s.length), ...rows.flat().map((s) => s.length));
    const line = (label: string, cells: string[]): string =>
      [label.padEnd(labelWidth), ...cells.map((s) => s.padStart(width))].join('  ');
    return [line('', head), ...rows.map((r, i) => line(labels[i], r))].join('\n');
  }
}

/** Rounds half to even, like numpy/TensorFlow `round`. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * For demonstration only: the misleading batch-wise precision that Keras removed in 2.0 and
 * that the seed's hand-written Keras metric computed. Per batch
 * `v = Σ round(clip(y·p, 0, 1)) / (Σ round(clip(p, 0, 1)) + 1e-7)` (round half-to-even, so
 * p = 0.5 rounds to 0; a batch with no predicted positives gives 0), then the unweighted
 * mean of v over batches. This is not TP/(TP+FP) over the epoch; use {@link Precision}.
 * Computed in float64 (Keras' float32 would drop the 1e-7 next to counts ≥ 1). Sample weights
 * are rejected: the batch average has no meaningful weighting.
 * Default `name = 'batch_averaged_precision'`.
 *
 * @example
 * const m = new BatchAveragedPrecision();
 * m.update(new Float32Array([1, 0]), new Float32Array([0.9, 0.8]), 2, 1); // batch value 0.5
 * m.update(new Float32Array([1]), new Float32Array([0.9]), 1, 1); // batch value 1
 * m.result(); // ≈ 0.75, while streaming precision is 2/3
 */
export class BatchAveragedPrecision extends MeanMetric {
  constructor(config: { name?: string } = {}) {
    super('BatchAveragedPrecision', 'batch_averaged_precision', config);
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    if (sampleWeight !== undefined) {
      throw new Error(`${this.name}: sample weights are not supported by the batch-averaged precision; use Precision`);
    }
    checkBatch(this.name, yTrue, yPred, batch, units, undefined);
    const clip01 = (x: number): number => Math.min(Math.max(x, 0), 1);
    let tp = 0;
    let pp = 0;
    for (let i = 0; i < yPred.length; i++) {
      tp += roundHalfEven(clip01(yTrue[i] * yPred[i]));
      pp += roundHalfEven(clip01(yPred[i]));
    }
    this.sum += tp / (pp + 1e-7);
    this.weight += 1;
  }
}

/** Every name {@link getMetric} accepts. */
export const METRIC_NAMES: readonly string[] = [
  'accuracy',
  'acc',
  'binary_accuracy',
  'categorical_accuracy',
  'precision',
  'recall',
  'auc',
];

/**
 * Resolves a Keras metric name to a fresh {@link Metric} for an output with `outputUnits`
 * units; a Metric object is returned as is. `'accuracy'`/`'acc'` become {@link BinaryAccuracy}
 * when `outputUnits === 1` and categorical {@link Accuracy} otherwise, named after the
 * identifier as Keras does (`'acc'` logs as `acc`). Display names: `'precision'`, `'recall'`,
 * `'accuracy'`, `'binary_accuracy'`, `'categorical_accuracy'`, `'auc'`. Unknown names throw,
 * listing the known ones.
 *
 * @example
 * getMetric('accuracy', 1); // BinaryAccuracy named 'accuracy'
 * getMetric('accuracy', 10); // Accuracy (categorical) named 'accuracy'
 */
export function getMetric(name: string | Metric, outputUnits: number): Metric {
  if (typeof name !== 'string') {
    if (name && typeof name.update === 'function' && typeof name.result === 'function') return name;
    throw new Error(`getMetric: expected a metric name or a Metric object, got ${String(name)}`);
  }
  if (!Number.isInteger(outputUnits) || outputUnits < 1) {
    throw new Error(`getMetric: outputUnits must be a positive integer, got ${outputUnits}`);
  }
  switch (name) {
    case 'accuracy':
    case 'acc':
      return outputUnits === 1 ? new BinaryAccuracy({ name }) : new Accuracy({ name });
    case 'binary_accuracy':
      return new BinaryAccuracy();
    case 'categorical_accuracy':
      return new Accuracy({ name });
    case 'precision':
      return new Precision();
    case 'recall':
      return new Recall();
    case 'auc':
      return new AUC();
    default:
      throw new Error(`getMetric: unknown metric '${name}' (known: ${METRIC_NAMES.join(', ')})`);
  }
}
