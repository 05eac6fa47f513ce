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

type Factory = (name: string, units: number) => Metric;

/** One factory under each of its spellings. */
const spelled = (make: Factory, ...names: string[]): [string, Factory][] => names.map((n) => [n, make]);

/** Metric factories by identifier: `name` is the identifier the user gave (Keras names the log key after it). */
const FACTORIES: Readonly<Record<string, Factory>> = Object.fromEntries([
  ...spelled((name, units) => (units === 1 ? new BinaryAccuracy({ name }) : new Accuracy({ name })), 'accuracy', 'acc'),
  ...spelled((name) => new BinaryAccuracy({ name }), 'binary_accuracy', 'binaryAccuracy'),
  ...spelled((name) => new Accuracy({ name }), 'categorical_accuracy', 'categoricalAccuracy', 'sparse_categorical_accuracy', 'sparseCategoricalAccuracy'),
  ...spelled((name) => new TopKCategoricalAccuracy({ name }), 'top_k_categorical_accuracy', 'topKCategoricalAccuracy', 'sparse_top_k_categorical_accuracy', 'sparseTopKCategoricalAccuracy'),
  ...spelled(() => new Precision(), 'precision'),
  ...spelled(() => new Recall(), 'recall'),
  ...spelled(() => new AUC(), 'auc'),
  ...spelled((name) => new MeanAbsoluteError({ name }), 'mae', 'MAE', 'mean_absolute_error', 'meanAbsoluteError'),
  ...spelled((name) => new MeanSquaredError({ name }), 'mse', 'MSE', 'mean_squared_error', 'meanSquaredError'),
]);

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
