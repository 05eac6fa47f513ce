// Validation and clipping shared by every loss (internal; not re-exported from the package).
import type { Loss } from './losses.js';

/** Keras `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 − EPSILON]`. */
export const EPSILON = 1e-7;

export function fmt(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

function checkFinite(name: string, what: string, a: Float32Array, allowInfinite = false): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (Number.isNaN(v) || (!allowInfinite && !Number.isFinite(v))) {
      throw new Error(`${name}: ${what}[${i}] is ${fmt(v)}`);
    }
  }
}

/** Validates shapes and values shared by every loss. `trueLength` is what yTrue must hold. */
export function validate(
  name: string,
  yTrue: Float32Array,
  yPred: Float32Array,
  batch: number,
  units: number,
  trueLength: number,
  sampleWeight: Float32Array | undefined,
): void {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${name}: batch must be a positive integer, got ${batch}`);
  if (!Number.isInteger(units) || units < 1) throw new Error(`${name}: units must be a positive integer, got ${units}`);
  if (yPred.length !== batch * units) {
    throw new Error(`${name}: yPred has ${yPred.length} values, expected batch·units = ${batch}·${units} = ${batch * units}`);
  }
  if (yTrue.length !== trueLength) {
    throw new Error(`${name}: yTrue has ${yTrue.length} values, expected ${trueLength} (batch ${batch}, units ${units})`);
  }
  if (sampleWeight !== undefined) {
    if (sampleWeight.length !== batch) {
      throw new Error(`${name}: sampleWeight has ${sampleWeight.length} values, expected batch = ${batch}`);
    }
    checkFinite(name, 'sampleWeight', sampleWeight);
  }
  checkFinite(name, 'yTrue', yTrue);
  // Logits may legitimately overflow to ±Infinity in float32; only NaN is always a bug upstream.
  checkFinite(name, 'yPred', yPred, true);
}

export const clipP = (p: number): number => (p < EPSILON ? EPSILON : p > 1 - EPSILON ? 1 - EPSILON : p);
/** tf.clip_by_value passes the gradient where min ≤ x ≤ max and blocks it outside. */
export const clipPasses = (p: number): boolean => p >= EPSILON && p <= 1 - EPSILON;

export { checkOptionKeys as checkOptions } from '../util/options.js';

/**
 * One loss whose per-sample value is the mean over units of `elem(y, p)`: fills dyPred with
 * `elem'(y, p) · w / (batch · units)` and returns `Σ_i mean_u(elem) · w_i / batch`.
 */
export function elementwiseLoss(
  name: string,
  config: Record<string, unknown>,
  prepare: (yTrue: Float32Array) => (y: number, p: number, out: { value: number; grad: number }) => void,
): Loss {
  return {
    name,
    getConfig: () => ({ name, ...config }),
    compute(yTrue, yPred, batch, units, sampleWeight) {
      validate(name, yTrue, yPred, batch, units, batch * units, sampleWeight);
      const elem = prepare(yTrue);
      const dyPred = new Float32Array(yPred.length);
      const out = { value: 0, grad: 0 };
      let total = 0;
      for (let b = 0; b < batch; b++) {
        const w = sampleWeight ? sampleWeight[b] : 1;
        const scale = w / (batch * units);
        let rowSum = 0;
        for (let u = 0; u < units; u++) {
          const i = b * units + u;
          elem(yTrue[i], yPred[i], out);
          rowSum += out.value;
          dyPred[i] = out.grad * scale;
        }
        total += (rowSum / units) * w;
      }
      return { loss: total / batch, dyPred };
    },
  };
}
