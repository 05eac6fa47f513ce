// The batch-averaged precision Keras removed in 2.0, kept for demonstration.
import { MeanMetric, checkBatch } from './metric.js';

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

