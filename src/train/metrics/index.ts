// Streaming metrics, one family per file; getMetric resolves Keras and TF.js metric names.
import { Accuracy, BinaryAccuracy, TopKCategoricalAccuracy } from './accuracy.js';
import { AUC } from './auc.js';
import type { Metric } from './metric.js';
import { Precision, Recall } from './precision-recall.js';
import { MeanAbsoluteError, MeanSquaredError } from './regression.js';

export type { Metric } from './metric.js';
export { Accuracy, BinaryAccuracy, TopKCategoricalAccuracy } from './accuracy.js';
export { AUC } from './auc.js';
export { BatchAveragedPrecision } from './batch-averaged-precision.js';
export { ConfusionMatrix } from './confusion-matrix.js';
export { Precision, Recall } from './precision-recall.js';
export { MeanAbsoluteError, MeanSquaredError } from './regression.js';

/** Metric factories by identifier: `name` is the identifier the user gave (Keras names the log key after it). */
const FACTORIES: Readonly<Record<string, (name: string, units: number) => Metric>> = {
  accuracy: (name, units) => (units === 1 ? new BinaryAccuracy({ name }) : new Accuracy({ name })),
  acc: (name, units) => (units === 1 ? new BinaryAccuracy({ name }) : new Accuracy({ name })),
  binary_accuracy: (name) => new BinaryAccuracy({ name }),
  binaryAccuracy: (name) => new BinaryAccuracy({ name }),
  categorical_accuracy: (name) => new Accuracy({ name }),
  categoricalAccuracy: (name) => new Accuracy({ name }),
  sparse_categorical_accuracy: (name) => new Accuracy({ name }),
  sparseCategoricalAccuracy: (name) => new Accuracy({ name }),
  top_k_categorical_accuracy: (name) => new TopKCategoricalAccuracy({ name }),
  topKCategoricalAccuracy: (name) => new TopKCategoricalAccuracy({ name }),
  sparse_top_k_categorical_accuracy: (name) => new TopKCategoricalAccuracy({ name }),
  sparseTopKCategoricalAccuracy: (name) => new TopKCategoricalAccuracy({ name }),
  precision: () => new Precision(),
  recall: () => new Recall(),
  auc: () => new AUC(),
  mae: (name) => new MeanAbsoluteError({ name }),
  MAE: (name) => new MeanAbsoluteError({ name }),
  mean_absolute_error: (name) => new MeanAbsoluteError({ name }),
  meanAbsoluteError: (name) => new MeanAbsoluteError({ name }),
  mse: (name) => new MeanSquaredError({ name }),
  MSE: (name) => new MeanSquaredError({ name }),
  mean_squared_error: (name) => new MeanSquaredError({ name }),
  meanSquaredError: (name) => new MeanSquaredError({ name }),
};

/** Every name {@link getMetric} accepts: Keras' snake_case and TF.js' camelCase spellings. */
export const METRIC_NAMES: readonly string[] = Object.keys(FACTORIES);

/**
 * Resolves a Keras or TF.js metric name to a fresh {@link Metric} for an output with
 * `outputUnits` units; a Metric object is returned as is. `'accuracy'`/`'acc'` become
 * {@link BinaryAccuracy} when `outputUnits === 1` and categorical {@link Accuracy} otherwise.
 * Metrics are named after the identifier as Keras does (`'acc'` logs as `acc`, `'mae'` as `mae`,
 * `'binaryAccuracy'` as `binaryAccuracy`), except precision, recall and auc, which keep those
 * names. The sparse spellings are the same classes (they take `[batch]` class indices).
 * Unknown names throw, listing the known ones.
 *
 * @example
 * getMetric('accuracy', 1); // BinaryAccuracy named 'accuracy'
 * getMetric('topKCategoricalAccuracy', 10); // TopKCategoricalAccuracy (k = 5)
 */
export function getMetric(name: string | Metric, outputUnits: number): Metric {
  if (typeof name !== 'string') {
    if (name && typeof name.update === 'function' && typeof name.result === 'function') return name;
    throw new Error(`getMetric: expected a metric name or a Metric object, got ${String(name)}`);
  }
  if (!Number.isInteger(outputUnits) || outputUnits < 1) {
    throw new Error(`getMetric: outputUnits must be a positive integer, got ${outputUnits}`);
  }
  const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (!factory) throw new Error(`getMetric: unknown metric '${name}' (known: ${METRIC_NAMES.join(', ')})`);
  return factory(name, outputUnits);
}
