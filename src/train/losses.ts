// Losses over flat row-major `[batch, units]` Float32Arrays. Every loss is computed in float64
// and returns the batch loss exactly as Keras reports it (reduction "sum_over_batch_size":
// sum_i(loss_i · w_i) / batch) together with its exact derivative with respect to yPred.

import { binaryFocalCrossentropy, hinge, huber, meanAbsoluteError } from './extra-losses.js';
import { checkOptions, clipP, clipPasses, elementwiseLoss, fmt, validate } from './loss-checks.js';
export { EPSILON } from './loss-checks.js';
export { binaryFocalCrossentropy, hinge, huber, meanAbsoluteError, type BinaryFocalCrossentropyConfig } from './extra-losses.js';

/**
 * What {@link Loss.compute} returns.
 *
 * @example
 * const { loss, dyPred } = binaryCrossentropy().compute(yTrue, yPred, 2, 1);
 */
export interface LossResult {
  /** The batch loss as Keras reports it: `sum_i(loss_i · w_i) / batch`. */
  loss: number;
  /** d loss / d yPred, `[batch, units]` like yPred, including the 1/batch factor and the weights. */
  dyPred: Float32Array;
}

/**
 * A loss function. `yTrue` and `yPred` are row-major `[batch, units]` (for
 * {@link sparseCategoricalCrossentropy}, `yTrue` is `[batch]` class indices); `sampleWeight`
 * is `[batch]`.
 *
 * @example
 * const bce = getLoss('binary_crossentropy');
 * const { loss } = bce.compute(new Float32Array([1, 0]), new Float32Array([0.9, 0.2]), 2, 1);
 * // loss = (−log 0.9 − log 0.8) / 2 = 0.16425
 */
export interface Loss {
  /** camelCase Keras name, e.g. `'binaryCrossentropy'`. */
  readonly name: string;
  /** The batch loss and its gradient with respect to yPred; throws on bad shapes or NaN. */
  compute(yTrue: Float32Array, yPred: Float32Array, batch: number, units: number, sampleWeight?: Float32Array): LossResult;
  /** Serialisable options, `{ name, ...options }`. */
  getConfig(): Record<string, unknown>;
}

/**
 * Binary crossentropy, Keras semantics. Without logits p is clipped to `[1e-7, 1 − 1e-7]`
 * (gradient 0 where clipped), `l = −(y·log p + (1−y)·log(1−p))`; with `fromLogits` the stable
 * form `max(z,0) − z·y + log(1 + e^−|z|)`. Averaged over the last axis, then
 * `sum_i(l_i · w_i) / batch`. bce(y=1, p=0) = −log(1e-7) = 16.118.
 *
 * Shapes: yTrue, yPred `[batch, units]`; sampleWeight `[batch]`. Default `fromLogits: false`.
 *
 * @example
 * const bce = binaryCrossentropy();
 * bce.compute(new Float32Array([1]), new Float32Array([0]), 1, 1).loss; // 16.118
 */
export function binaryCrossentropy(opts?: { fromLogits?: boolean }): Loss {
  const name = 'binaryCrossentropy';
  checkOptions(name, opts, ['fromLogits']);
  const fromLogits = opts?.fromLogits ?? false;
  return elementwiseLoss(name, { fromLogits }, () => (y, z, out) => {
    if (fromLogits) {
      out.value = Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      const s = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      out.grad = s - y;
    } else {
      const p = clipP(z);
      out.value = -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
      out.grad = clipPasses(z) ? -y / p + (1 - y) / (1 - p) : 0;
    }
  });
}

/** log Σ_j exp(z[o + j]) over one row of `units` logits, shifted by the row max for stability. */
function logSumExp(z: Float32Array, o: number, units: number): number {
  let max = -Infinity;
  for (let u = 0; u < units; u++) max = Math.max(max, z[o + u]);
  let sumExp = 0;
  for (let u = 0; u < units; u++) sumExp += Math.exp(z[o + u] - max);
  return max + Math.log(sumExp);
}

/**
 * A crossentropy over whole rows: `row(b, o, scale)` writes dyPred for row b (offset o) with the
 * factor `scale = w_b / batch` and returns its loss l_b; the batch loss is `Σ_b l_b · w_b / batch`.
 * With `sparse`, yTrue holds `batch` class indices, checked before any row.
 */
function rowLoss(
  name: string,
  fromLogits: boolean,
  sparse: boolean,
  start: (yTrue: Float32Array, yPred: Float32Array, units: number, dyPred: Float32Array) => (b: number, o: number, scale: number) => number,
): Loss {
  return {
    name,
    getConfig: () => ({ name, fromLogits }),
    compute(yTrue, yPred, batch, units, sampleWeight) {
      validate(name, yTrue, yPred, batch, units, sparse ? batch : batch * units, sampleWeight);
      if (sparse) {
        for (let b = 0; b < batch; b++) {
          const t = yTrue[b];
          if (!Number.isInteger(t) || t < 0 || t >= units) {
            throw new Error(`${name}: yTrue[${b}] = ${t} is not a class index in [0, ${units - 1}]`);
          }
        }
      }
      const dyPred = new Float32Array(yPred.length);
      const row = start(yTrue, yPred, units, dyPred);
      let total = 0;
      for (let b = 0; b < batch; b++) {
        const w = sampleWeight ? sampleWeight[b] : 1;
        total += row(b, b * units, w / batch) * w;
      }
      return { loss: total / batch, dyPred };
    },
  };
}

/**
 * Categorical crossentropy, Keras semantics. Without logits each row of yPred is divided by
 * its sum, clipped to `[1e-7, 1 − 1e-7]`, and `l = −Σ_j y_j·log q_j`; with `fromLogits`,
 * `l = −Σ_j y_j·log softmax(z)_j`. Reduced as `sum_i(l_i · w_i) / batch`.
 *
 * Shapes: yTrue (one-hot or soft labels), yPred `[batch, units]`; sampleWeight `[batch]`.
 * Rows of yPred must have a positive sum when `fromLogits` is false.
 *
 * @example
 * const cce = categoricalCrossentropy();
 * cce.compute(new Float32Array([0, 1, 0]), new Float32Array([0.05, 0.95, 0]), 1, 3).loss; // −log 0.95 = 0.0513
 */
export function categoricalCrossentropy(opts?: { fromLogits?: boolean }): Loss {
  const name = 'categoricalCrossentropy';
  checkOptions(name, opts, ['fromLogits']);
  const fromLogits = opts?.fromLogits ?? false;
  return rowLoss(name, fromLogits, false, (yTrue, yPred, units, dyPred) => {
    const g = new Float64Array(units);
    return (b, o, scale) => {
      let l = 0;
      if (fromLogits) {
        const lse = logSumExp(yPred, o, units);
        let ySum = 0;
        for (let u = 0; u < units; u++) {
          l -= yTrue[o + u] * (yPred[o + u] - lse);
          ySum += yTrue[o + u];
        }
        for (let u = 0; u < units; u++) {
          dyPred[o + u] = (Math.exp(yPred[o + u] - lse) * ySum - yTrue[o + u]) * scale;
        }
      } else {
        let s = 0;
        for (let u = 0; u < units; u++) s += yPred[o + u];
        if (!(s > 0) || !Number.isFinite(s)) {
          throw new Error(`${name}: row ${b} of yPred sums to ${fmt(s)}; probabilities must have a positive finite sum`);
        }
        // q = p / s, c = clip(q); dl/dq_j = g_j; dq_j/dp_k = (δ_jk − q_j) / s.
        let gq = 0;
        for (let u = 0; u < units; u++) {
          const q = yPred[o + u] / s;
          const c = clipP(q);
          l -= yTrue[o + u] * Math.log(c);
          g[u] = clipPasses(q) ? -yTrue[o + u] / c : 0;
          gq += g[u] * q;
        }
        for (let u = 0; u < units; u++) dyPred[o + u] = ((g[u] - gq) / s) * scale;
      }
      return l;
    };
  });
}

/**
 * Sparse categorical crossentropy, Keras semantics. yTrue holds `batch` integer class indices
 * in `[0, units)`. Without logits Keras clips p to `[1e-7, 1 − 1e-7]` first and then takes
 * log-softmax of log p, i.e. `l = −log c_t + log Σ_j c_j` with `c = clip(p)` (note: clip
 * then normalise, the reverse order of {@link categoricalCrossentropy}); with `fromLogits`,
 * `l = −log softmax(z)_t`. Reduced as `sum_i(l_i · w_i) / batch`.
 *
 * Shapes: yTrue `[batch]`, yPred `[batch, units]`; sampleWeight `[batch]`.
 *
 * @example
 * const scce = sparseCategoricalCrossentropy();
 * scce.compute(new Float32Array([1]), new Float32Array([0.1, 0.8, 0.1]), 1, 3).loss; // −log 0.8 = 0.2231
 */
export function sparseCategoricalCrossentropy(opts?: { fromLogits?: boolean }): Loss {
  const name = 'sparseCategoricalCrossentropy';
  checkOptions(name, opts, ['fromLogits']);
  const fromLogits = opts?.fromLogits ?? false;
  return rowLoss(name, fromLogits, true, (yTrue, yPred, units, dyPred) => (b, o, scale) => {
    const t = yTrue[b];
    let l: number;
    if (fromLogits) {
      const lse = logSumExp(yPred, o, units);
      l = lse - yPred[o + t];
      for (let u = 0; u < units; u++) {
        dyPred[o + u] = (Math.exp(yPred[o + u] - lse) - (u === t ? 1 : 0)) * scale;
      }
    } else {
      let s = 0;
      for (let u = 0; u < units; u++) s += clipP(yPred[o + u]);
      l = -Math.log(clipP(yPred[o + t])) + Math.log(s);
      for (let u = 0; u < units; u++) {
        const p = yPred[o + u];
        const dc = 1 / s - (u === t ? 1 / clipP(p) : 0);
        dyPred[o + u] = clipPasses(p) ? dc * scale : 0;
      }
    }
    return l;
  });
}

/**
 * Mean squared error: `l_i = mean_j (y_ij − p_ij)²`, reduced as `sum_i(l_i · w_i) / batch`.
 *
 * Shapes: yTrue, yPred `[batch, units]`; sampleWeight `[batch]`.
 *
 * @example
 * meanSquaredError().compute(new Float32Array([1, 0]), new Float32Array([0.5, 0.5]), 1, 2).loss; // 0.25
 */
export function meanSquaredError(): Loss {
  return elementwiseLoss('meanSquaredError', {}, () => (y, p, out) => {
    const d = p - y;
    out.value = d * d;
    out.grad = 2 * d;
  });
}

const LOSS_FACTORIES: Readonly<Record<string, () => Loss>> = {
  binaryCrossentropy: () => binaryCrossentropy(),
  binary_crossentropy: () => binaryCrossentropy(),
  categoricalCrossentropy: () => categoricalCrossentropy(),
  categorical_crossentropy: () => categoricalCrossentropy(),
  sparseCategoricalCrossentropy: () => sparseCategoricalCrossentropy(),
  sparse_categorical_crossentropy: () => sparseCategoricalCrossentropy(),
  meanSquaredError: () => meanSquaredError(),
  mean_squared_error: () => meanSquaredError(),
  mse: () => meanSquaredError(),
  MSE: () => meanSquaredError(),
  meanAbsoluteError: () => meanAbsoluteError(),
  mean_absolute_error: () => meanAbsoluteError(),
  mae: () => meanAbsoluteError(),
  MAE: () => meanAbsoluteError(),
  huber: () => huber(),
  hinge: () => hinge(),
  binaryFocalCrossentropy: () => binaryFocalCrossentropy(),
  binary_focal_crossentropy: () => binaryFocalCrossentropy(),
};

/** Every name {@link getLoss} accepts. */
export const LOSS_NAMES: readonly string[] = Object.keys(LOSS_FACTORIES);

/**
 * Resolves a Keras loss name (camelCase or snake_case, plus `'mse'`) to a fresh {@link Loss};
 * a Loss object is returned as is. Unknown names throw, listing the known ones.
 *
 * @example
 * getLoss('binary_crossentropy').name; // 'binaryCrossentropy'
 * getLoss('mse').name; // 'meanSquaredError'
 */
export function getLoss(nameOrLoss: string | Loss): Loss {
  if (typeof nameOrLoss !== 'string') {
    if (nameOrLoss && typeof nameOrLoss.compute === 'function') return nameOrLoss;
    throw new Error(`getLoss: expected a loss name or a Loss object, got ${String(nameOrLoss)}`);
  }
  const factory = Object.hasOwn(LOSS_FACTORIES, nameOrLoss) ? LOSS_FACTORIES[nameOrLoss] : undefined;
  if (!factory) throw new Error(`getLoss: unknown loss '${nameOrLoss}' (known: ${LOSS_NAMES.join(', ')})`);
  return factory();
}
