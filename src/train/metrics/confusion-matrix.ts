// Streaming confusion matrix, rows = true class, columns = predicted class.
import { argmax, asFloat32, checkBatch, checkOptions, checkThreshold, type Metric } from './metric.js';

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

