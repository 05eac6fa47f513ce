// Checks on classes and targets: imbalance, one-class-validation, constant-predictions, and the
// loss of a constant predictor that not-learning compares the training loss with.
import { num, type Diagnostic } from './types.js';

/**
 * imbalance: with two classes, a class below this share of the training samples, with neither
 * classWeight nor sampleWeight. At 30 % a model that always answers the majority already scores
 * 70 % accuracy, so accuracy stops telling learning from guessing. With k classes the threshold
 * is the same fraction of an even share: 0.3 · 2/k (6 % for ten classes).
 */
export const IMBALANCE_SHARE = 0.3;
/**
 * constant-predictions: every validation prediction in one class for this many consecutive
 * epochs (or in the last epoch of the fit). One epoch alone is common early in training while
 * BatchNormalization's moving statistics catch up.
 */
export const CONSTANT_EPOCHS = 2;

/** How the loss reads targets. Class checks apply to the first three. */
export type TargetKind = 'binary' | 'onehot' | 'sparse' | 'regression' | 'other';

/** The target kind of a loss by name, for a model with `units` outputs. */
export function targetKind(lossName: string, units: number): TargetKind {
  if (lossName === 'binaryCrossentropy') return units === 1 ? 'binary' : 'other';
  if (lossName === 'categoricalCrossentropy') return 'onehot';
  if (lossName === 'sparseCategoricalCrossentropy') return 'sparse';
  if (lossName === 'meanSquaredError') return 'regression';
  return 'other';
}

function argmax(v: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (v[from + c] > v[from + best]) best = c;
  return best;
}

/** Class of every sample in a flat `[batch, units]` array (`threshold` for one unit). */
export function classesOf(kind: TargetKind, values: Float32Array, batch: number, units: number, threshold: number): Int32Array {
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    if (kind === 'sparse' && values.length === batch) out[i] = Math.round(values[i]);
    else if (units === 1) out[i] = values[i] > threshold ? 1 : 0;
    else out[i] = argmax(values, i * units, units);
  }
  return out;
}

/** Class counts and the sums a constant predictor's loss needs, accumulated over batches. */
export class TargetStats {
  /** Samples seen. */
  n = 0;
  /** Samples per class (by hard label). */
  readonly counts: number[] = [];
  /** Σ w·y per unit (binary, one-hot, regression) or Σ w per class (sparse). */
  private readonly wy: number[] = [];
  /** Σ w·y² per unit (regression). */
  private readonly wy2: number[] = [];
  private sumW = 0;

  constructor(readonly kind: TargetKind, readonly units: number) {}

  /** Adds a batch of targets `[batch, units]` (sparse: `[batch]`) with optional sample weights. */
  add(y: Float32Array, w: Float32Array | undefined, batch: number): void {
    const per = batch ? y.length / batch : 0;
    if (this.kind !== 'regression' && this.kind !== 'other') {
      for (const c of classesOf(this.kind, y, batch, per, 0.5)) this.counts[c] = (this.counts[c] ?? 0) + 1;
    }
    for (let i = 0; i < batch; i++) {
      const wi = w ? w[i] : 1;
      this.sumW += wi;
      if (this.kind === 'sparse') {
        const c = Math.round(y[i]);
        this.wy[c] = (this.wy[c] ?? 0) + wi;
        continue;
      }
      for (let u = 0; u < per; u++) {
        const v = y[i * per + u];
        this.wy[u] = (this.wy[u] ?? 0) + wi * v;
        this.wy2[u] = (this.wy2[u] ?? 0) + wi * v * v;
      }
    }
    this.n += batch;
  }

  /**
   * The loss of the best constant prediction (the class frequencies, or the mean target), with
   * the loss' weighting (Σ l_i·w_i / n); NaN for losses it does not know.
   */
  baselineLoss(): number {
    const n = this.n;
    if (n === 0 || this.sumW <= 0) return NaN;
    const clip = (q: number): number => Math.min(1 - 1e-7, Math.max(1e-7, q));
    if (this.kind === 'binary') {
      const pos = this.wy[0] ?? 0;
      const q = clip(pos / this.sumW);
      return -(pos * Math.log(q) + (this.sumW - pos) * Math.log(1 - q)) / n;
    }
    if (this.kind === 'onehot' || this.kind === 'sparse') {
      const total = this.wy.reduce((a, b) => a + (b ?? 0), 0);
      let loss = 0;
      for (const s of this.wy) if (s) loss -= s * Math.log(clip(s / total));
      return loss / n;
    }
    if (this.kind === 'regression') {
      let loss = 0;
      for (let u = 0; u < this.wy.length; u++) loss += this.wy2[u] - (this.wy[u] * this.wy[u]) / this.sumW;
      return loss / (n * Math.max(1, this.wy.length));
    }
    return NaN;
  }

  /** Share of each class by hard label. */
  shares(): number[] {
    return Array.from(this.counts, (c) => (c ?? 0) / Math.max(1, this.n));
  }
}

function className(names: readonly string[] | undefined, c: number): string {
  return names?.[c] !== undefined ? `class ${c} ('${names[c]}')` : `class ${c}`;
}

/** imbalance: see {@link IMBALANCE_SHARE}. */
export function checkImbalance(stats: TargetStats, epoch: number, weighted: boolean, names?: readonly string[]): Diagnostic | null {
  if (weighted || stats.n === 0 || (stats.kind !== 'binary' && stats.kind !== 'onehot' && stats.kind !== 'sparse')) return null;
  const shares = stats.shares();
  const k = Math.max(2, shares.length);
  let worst = 0;
  for (let c = 1; c < k; c++) if ((shares[c] ?? 0) < (shares[worst] ?? 0)) worst = c;
  const share = shares[worst] ?? 0;
  const threshold = (IMBALANCE_SHARE * 2) / k;
  if (share >= threshold) return null;
  const major = shares.indexOf(Math.max(...shares.map((s) => s ?? 0)));
  return {
    code: 'imbalance',
    epoch,
    message:
      `${className(names, worst)} is ${num(100 * share)} % of the ${stats.n} training samples (under ${num(100 * threshold)} %), and fit has no classWeight: ` +
      `always answering ${className(names, major)} already scores accuracy ${num(shares[major] ?? 0)}. Watch precision and recall of the minority class ` +
      `(or AUC) rather than accuracy, and consider classWeight: 'balanced'.`,
  };
}

/** one-class-validation: the validation targets hold one class only. */
export function checkOneClassValidation(stats: TargetStats, epoch: number, source: string, names?: readonly string[]): Diagnostic | null {
  if (stats.n === 0 || (stats.kind !== 'binary' && stats.kind !== 'onehot' && stats.kind !== 'sparse')) return null;
  const present = stats.counts.map((c, i) => (c ? i : -1)).filter((i) => i >= 0);
  if (present.length !== 1) return null;
  return {
    code: 'one-class-validation',
    epoch,
    message:
      `the validation data (${source}) holds only ${className(names, present[0])}: all ${stats.n} samples. Its precision, recall and accuracy say nothing about the other class. ` +
      `Shuffle the arrays before fit (validationSplit takes the last samples before shuffling), or split with trainTestSplit (stratified).`,
  };
}

/** Counts the predicted class of every validation sample in an epoch. */
export class PredictionStats {
  n = 0;
  counts: number[] = [];

  constructor(readonly kind: TargetKind, readonly threshold: number) {}

  add(yPred: Float32Array, batch: number, units: number): void {
    for (const c of classesOf(this.kind === 'sparse' ? 'onehot' : this.kind, yPred, batch, units, this.threshold)) this.counts[c] = (this.counts[c] ?? 0) + 1;
    this.n += batch;
  }

  /** The one class every prediction fell in, or -1. */
  constantClass(): number {
    const present = this.counts.map((c, i) => (c ? i : -1)).filter((i) => i >= 0);
    return this.n > 0 && present.length === 1 ? present[0] : -1;
  }
}

/** constant-predictions: see {@link CONSTANT_EPOCHS}; `run` is how many epochs in a row ended constant. */
export function checkConstantPredictions(
  preds: PredictionStats, truth: TargetStats, epoch: number, run: number, last: boolean, names?: readonly string[],
): Diagnostic | null {
  const c = preds.constantClass();
  if (c < 0 || (run < CONSTANT_EPOCHS && !last)) return null;
  const share = (truth.counts[c] ?? 0) / Math.max(1, truth.n);
  const binary = preds.kind === 'binary';
  return {
    code: 'constant-predictions',
    epoch,
    message:
      `every one of the ${preds.n} validation predictions is ${className(names, c)}${binary ? ` (all on one side of the threshold ${preds.threshold})` : ''} ` +
      `for ${run} epoch${run === 1 ? '' : 's'}; that class is ${num(100 * share)} % of the validation samples, so its precision is ${num(share)}, the share itself, ` +
      `and ${binary && c === 1 ? 'recall is 1' : 'the other classes are never found'}. The model is guessing: see the learning-rate and bn-statistics diagnostics, if any.`,
  };
}
