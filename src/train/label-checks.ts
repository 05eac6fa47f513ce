// Checks of labels, class weights and fit's option types, run over the whole dataset or batch
// before any state changes (weights, optimizer slots, BatchNormalization moving statistics):
// the losses check labels too, but only after the forward pass has updated the moving stats.
import { hasOwn, valuesInOrder } from '../util/own-map.js';

/** Per-class loss weights: `{ 0: 1, 1: 3 }`, or `'balanced'` = n_samples / (n_classes · count). */
export type ClassWeight = Record<number, number> | 'balanced';

/**
 * Largest class weight accepted. Weights multiply the loss gradient of float32 arithmetic:
 * `{ 0: 3e38, 1: 3e38 }` turns every gradient into Infinity. Only the ratios and the product
 * with the learning rate matter, so a weight this large is a mistake, not a setting.
 */
export const MAX_CLASS_WEIGHT = 1e6;

/** Number of classes of a model with `units` outputs: 2 for one sigmoid unit, else `units`. */
export function numClasses(units: number): number {
  return units > 1 ? units : 2;
}

/**
 * Throws naming `op`, the first bad sample and how many are bad when a sparse label is not an
 * integer class index in `[0, units)`.
 */
export function checkSparseLabels(op: string, y: Float32Array, units: number, what = 'y'): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < y.length; i++) {
    const t = y[i];
    if (!(Number.isInteger(t) && t >= 0 && t < units)) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad) {
    throw new Error(`${op}: ${what}[${first}] = ${y[first]} is not a class index in [0, ${units - 1}] (the model has ${units} outputs; ${bad} of ${y.length} labels are out of range); nothing was trained`);
  }
}

/**
 * The class → weight table of a `{ class: weight }` object. Keys must be class indices of the
 * model (Keras raises on unknown classes), weights finite numbers in `[0, MAX_CLASS_WEIGHT]`.
 */
export function classWeightFromObject(op: string, classWeight: unknown, units: number): Map<number, number> {
  if (typeof classWeight !== 'object' || classWeight === null || Array.isArray(classWeight)) {
    throw new Error(`${op}: classWeight must be an object { class: weight } or 'balanced', got ${JSON.stringify(classWeight)}`);
  }
  const proto = Object.getPrototypeOf(classWeight);
  if (proto !== Object.prototype && proto !== null) {
    throw new Error(`${op}: classWeight must be a plain object { class: weight } (a '__proto__' key replaces its prototype instead of naming a class)`);
  }
  const classes = numClasses(units);
  const table = new Map<number, number>();
  for (const k of Object.keys(classWeight)) {
    const v = (classWeight as Record<string, unknown>)[k];
    const cls = Number(k);
    if (!/^\d+$/.test(k) || !Number.isSafeInteger(cls) || cls >= classes) {
      throw new Error(`${op}: classWeight has class ${JSON.stringify(k)}, the model has classes 0 to ${classes - 1}`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_CLASS_WEIGHT) {
      throw new Error(`${op}: classWeight for class ${k} must be a number in [0, ${MAX_CLASS_WEIGHT}], got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
    }
    table.set(cls, v);
  }
  return table;
}

/**
 * `'balanced'` class weights of a dataset, n / (k · count_c), with the counts read by class
 * name in `classNames` order (class index order): never from the key order of `classCounts`,
 * which JavaScript sorts numerically for folders named `1`, `2`, `10`.
 */
export function balancedFromCounts(op: string, classCounts: Readonly<Record<string, number>> | undefined, classNames: readonly string[] | undefined): Map<number, number> {
  if (!classCounts || !Array.isArray(classNames) || classNames.length === 0) {
    throw new Error(`${op}: classWeight 'balanced' needs a dataset with classNames and classCounts`);
  }
  const counts = valuesInOrder(classCounts, classNames, `${op}: classWeight 'balanced': dataset.classCounts`);
  counts.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0) throw new Error(`${op}: dataset.classCounts[${JSON.stringify(classNames[i])}] = ${c} is not a count`);
  });
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error(`${op}: classWeight 'balanced': the dataset has no samples`);
  return new Map(counts.map((c, i) => [i, total / (counts.length * Math.max(c, 1))]));
}

const FIT_TYPES: Record<string, (v: unknown) => boolean> = {
  shuffle: (v) => typeof v === 'boolean',
  verbose: (v) => v === 0 || v === 1,
  callbacks: (v) => Array.isArray(v) && v.every((cb) => typeof cb === 'object' && cb !== null),
  classWeight: (v) => v === 'balanced' || (typeof v === 'object' && v !== null && !Array.isArray(v)),
};

const FIT_EXPECTED: Record<string, string> = {
  shuffle: 'true or false',
  verbose: '0 or 1',
  callbacks: 'an array of callback objects',
  classWeight: "an object { class: weight } or 'balanced'",
};

/** Throws naming `op`, the option and its value when an option of `fit` has the wrong type. */
export function checkFitOptionTypes(op: string, args: object): void {
  for (const key of Object.keys(FIT_TYPES)) {
    if (!hasOwn(args, key)) continue;
    const v = (args as Record<string, unknown>)[key];
    if (v !== undefined && !FIT_TYPES[key](v)) {
      throw new Error(`${op}: ${key} must be ${FIT_EXPECTED[key]}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
    }
  }
}
