// Streaming accuracies: binary (thresholded) and categorical (argmax).
import { MeanMetric, argmax, asFloat32, checkBatch, checkThreshold } from './metric.js';

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
 * Streaming top-k categorical accuracy, Keras semantics (tf.math.in_top_k): a sample is correct
 * when fewer than `k` classes score strictly higher than the true class (so ties at the k-th
 * place count as in) and the true class' score is finite. yTrue is one-hot `[batch, units]`
 * (argmax) or `[batch]` class indices (Keras' sparse_top_k_categorical_accuracy). Weighted mean
 * over samples. Defaults: `k = 5`, `name = 'top_k_categorical_accuracy'`.
 *
 * @example
 * const m = new TopKCategoricalAccuracy({ k: 2 });
 * m.update(new Float32Array([0, 2]), new Float32Array([0.5, 0.3, 0.2, 0.1, 0.2, 0.7]), 2, 3);
 * m.result(); // 1 (class 0 is first; class 2 is first)
 */
export class TopKCategoricalAccuracy extends MeanMetric {
  readonly k: number;

  constructor(config: { k?: number; name?: string } = {}) {
    super('TopKCategoricalAccuracy', 'top_k_categorical_accuracy', config, ['k', 'name']);
    this.k = config.k ?? 5;
    if (!Number.isInteger(this.k) || this.k < 1) throw new Error(`${this.name}: k must be a positive integer, got ${config.k}`);
  }

  update(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): void {
    const indices = checkBatch(this.name, yTrue, yPred, batch, units, sampleWeight, true);
    for (let b = 0; b < batch; b++) {
      const o = b * units;
      const t = indices ? yTrue[b] : argmax(yTrue, o, units);
      const target = yPred[o + t];
      let higher = 0;
      for (let u = 0; u < units; u++) if (yPred[o + u] > target) higher++;
      const w = sampleWeight ? sampleWeight[b] : 1;
      if (Number.isFinite(target) && higher < this.k) this.sum += w;
      this.weight += w;
    }
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, k: this.k };
  }
}
