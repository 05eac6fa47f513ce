// Streaming regression metrics: the per-sample mean over units of |p − y| or (p − y)², averaged
// over samples with their weights (Keras' MeanMetricWrapper around the loss function).
import { checkBatch, MeanMetric } from './metric.js';

abstract class MeanError extends MeanMetric {
  protected abstract elem(d: number): number;

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight);
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let u = 0; u < units; u++) s += this.elem(yPred[b * units + u] - yTrue[b * units + u]);
      const w = sampleWeight ? sampleWeight[b] : 1;
      this.sum += (w * s) / units;
      this.weight += w;
    }
  }
}

/**
 * Streaming mean absolute error: `Σ_i w_i·mean_j |p_ij − y_ij| / Σ_i w_i`. Default `name = 'mean_absolute_error'`
 * (`getMetric('mae', …)` names it `'mae'`, as Keras names a metric after its identifier).
 *
 * @example
 * const m = new MeanAbsoluteError();
 * m.update(new Float32Array([1, 0]), new Float32Array([0.5, 0.25]), 2, 1);
 * m.result(); // 0.375
 */
export class MeanAbsoluteError extends MeanError {
  constructor(config: { name?: string } = {}) {
    super('MeanAbsoluteError', 'mean_absolute_error', config);
  }

  protected elem(d: number): number {
    return Math.abs(d);
  }
}

/**
 * Streaming mean squared error: `Σ_i w_i·mean_j (p_ij − y_ij)² / Σ_i w_i`. Default `name = 'mean_squared_error'`.
 *
 * @example
 * const m = new MeanSquaredError();
 * m.update(new Float32Array([1, 0]), new Float32Array([0.5, 0.25]), 2, 1);
 * m.result(); // 0.15625
 */
export class MeanSquaredError extends MeanError {
  constructor(config: { name?: string } = {}) {
    super('MeanSquaredError', 'mean_squared_error', config);
  }

  protected elem(d: number): number {
    return d * d;
  }
}
