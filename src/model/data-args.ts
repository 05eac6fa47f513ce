// The argument side of Sequential's fit / evaluate / predict: option types, validation,
// class and sample weights, and row batching.
import type { Callback, Logs } from '../train/callbacks.js';
import type { LossSpec, MetricsSpec, ModelData } from './model-io.js';
import type { Optimizer } from '../train/optimizers.js';
import type { Diagnostic } from '../train/doctor/index.js';
import { Tensor, type Shape } from '../tensor.js';
import { classWeightFromObject, type ClassWeight } from '../train/label-checks.js';
import { firstNonFinite, nonFiniteError } from '../util/finite.js';

/** A batch as a streaming dataset yields it. */
export interface DataBatch {
  x: Tensor;
  y: Tensor;
}

/** A batch for a model with several inputs or outputs: each a tensor, a list in input/output order or a dict by name. */
export interface MultiDataBatch {
  xs: ModelData;
  ys: ModelData;
}

/** What `fit`, `evaluate` and `predict` accept besides in-memory tensors (see `imageDatasetFromDirectory`). */
export interface BatchDataset {
  readonly size: number;
  readonly numBatches: number;
  readonly classCounts?: Record<string, number>;
  readonly classNames?: string[];
  batches(opts?: { epoch?: number }): AsyncIterable<DataBatch | MultiDataBatch>;
}

export type { ClassWeight } from '../train/label-checks.js';

/** Options of {@link Sequential.compile}. */
export interface CompileArgs {
  optimizer: string | Optimizer;
  /** One loss for every output, a list in output order, or a dict by output name. */
  loss: LossSpec;
  /** Each output's weight in the total loss (a list or a dict by output name); default 1 each. */
  lossWeights?: readonly number[] | Readonly<Record<string, number>>;
  /** One list for every output, a list of lists in output order, or a dict by output name. */
  metrics?: MetricsSpec;
}

/** Options of {@link Sequential.fit}. */
export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the data, taken from the end before shuffling (as Keras), held out for validation. */
  validationSplit?: number;
  /** `[x, y]` (each a tensor, a list or a dict per input/output) or a dataset. */
  validationData?: readonly [ModelData, ModelData] | BatchDataset;
  classWeight?: ClassWeight;
  sampleWeight?: Tensor | Float32Array;
  callbacks?: Callback[];
  /** 0 silent, 1 a progress line per epoch (default). */
  verbose?: 0 | 1;
  /** Seeds weight initialization (if not yet done), shuffling and dropout masks. */
  seed?: number;
  initialEpoch?: number;
  /** The training doctor (src/train/doctor): diagnostics in `history.diagnostics`, printed when verbose. Default true. */
  diagnose?: boolean;
}

/** The value `fit` resolves to. */
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  /** What the training doctor found (empty when nothing is wrong, or with `diagnose: false`). */
  readonly diagnostics: Diagnostic[] = [];

  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

export const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'classWeight', 'sampleWeight', 'callbacks', 'verbose', 'seed', 'initialEpoch', 'diagnose'];

export { checkOptionKeys as checkOptions } from '../util/options.js';

export function checkCount(op: string, key: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${op}: ${key} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/** Throws naming `what` and the first non-finite value, if any. */
export function checkFinite(op: string, what: string, values: Float32Array): void {
  const at = firstNonFinite(values);
  if (at >= 0) throw nonFiniteError(op, what, values, at);
}

export function isDataset(x: unknown): x is BatchDataset {
  return typeof x === 'object' && x !== null && typeof (x as BatchDataset).batches === 'function';
}

/** Copies the rows `indices[from..to)` of a [n, ...] array into a new [to − from, ...] array. */
export function gatherRows(values: Float32Array, rowSize: number, indices: Int32Array, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * rowSize);
  for (let i = from; i < to; i++) {
    const src = indices[i] * rowSize;
    out.set(values.subarray(src, src + rowSize), (i - from) * rowSize);
  }
  return out;
}

// Rows [from, to) as a view: inference and evaluation only read their inputs, and a fresh copy
// per batch costs page faults.
export function takeRows(t: Tensor, from: number, to: number): Tensor {
  const rowSize = t.shape[0] ? t.size / t.shape[0] : 0;
  return new Tensor(t.values.subarray(from * rowSize, to * rowSize), [to - from, ...(t.shape as number[]).slice(1)] as unknown as Shape);
}

/** Class index of every sample: threshold 0.5 for one unit, argmax for one-hot, the value for sparse labels. */
export function labelsOf(y: Tensor, sparse: boolean): Int32Array {
  const n = y.shape[0]!;
  const per = n ? y.size / n : 0;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (per === 1) {
      const v = y.values[i];
      labels[i] = sparse ? Math.round(v) : v > 0.5 ? 1 : 0;
    } else {
      let best = 0;
      for (let c = 1; c < per; c++) if (y.values[i * per + c] > y.values[i * per + best]) best = c;
      labels[i] = best;
    }
  }
  return labels;
}

/** Weight per class: 'balanced' from the label counts (as Keras), else the user's table checked against `units` classes. */
export function classWeightTable(op: string, classWeight: ClassWeight, labels: Int32Array, units: number): Map<number, number> {
  const table = new Map<number, number>();
  if (classWeight === 'balanced') {
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const [cls, count] of counts) table.set(cls, labels.length / (counts.size * count));
    return table;
  }
  return classWeightFromObject(op, classWeight, units);
}

/** Per-sample weights from class weights (by label) and explicit sample weights. */
export function sampleWeights(
  op: string,
  y: Tensor,
  classWeight: ClassWeight | undefined,
  sampleWeight: Tensor | Float32Array | undefined,
  labels: { sparse: boolean; units: number },
): Float32Array | undefined {
  const n = y.shape[0]!;
  let w: Float32Array | undefined;
  if (sampleWeight !== undefined) {
    const values = sampleWeight instanceof Tensor ? sampleWeight.values : sampleWeight;
    if (values.length !== n) throw new Error(`${op}: sampleWeight has ${values.length} entries but there are ${n} samples`);
    checkFinite(op, 'sampleWeight', values);
    w = Float32Array.from(values);
  }
  if (classWeight === undefined) return w;
  const classes = labelsOf(y, labels.sparse);
  const weights = classWeightTable(op, classWeight, classes, labels.units);
  w ??= new Float32Array(n).fill(1);
  for (let i = 0; i < n; i++) w[i] *= weights.get(classes[i]) ?? 1;
  return w;
}

/** Per-sample weights of a batch from a class weight table. */
export function weightsFromTable(y: Tensor, table: Map<number, number>, sparse: boolean): Float32Array {
  return Float32Array.from(labelsOf(y, sparse), (l) => table.get(l) ?? 1);
}

/** A copy of `t` that outlives the arena it was computed in. */
export function copyTensor(t: Tensor): Tensor {
  return new Tensor(t.values.slice(), [...(t.shape as readonly number[])] as unknown as Shape);
}
