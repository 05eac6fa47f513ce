// A model's several inputs and outputs: data given as one tensor, a list in input/output order or
// a dict by input/output name (as Keras accepts), and compile's per-output losses, loss weights
// and metrics, read into one list per output.
import { Tensor, wrap } from '../tensor.js';
import type { Logs } from '../train/callbacks.js';
import { getLoss, type Loss } from '../train/losses.js';
import { getMetric, type Metric } from '../train/metrics/index.js';
import { checkFinite, type DataBatch, type MultiDataBatch } from './data-args.js';
import { formatShape } from '../layers/layer.js';
import { checkSparseLabels } from '../train/label-checks.js';
import { getBackend } from '../backend/index.js';
import { firstNonFinite, nonFiniteError } from '../util/finite.js';

/** What fit, evaluate, predict and trainOnBatch take for x or y: one tensor, a list, or a dict by input/output name. */
export type ModelData = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

/** A loss for every output: one for all, a list in output order, or a dict by output name. */
export type LossSpec = string | Loss | readonly (string | Loss)[] | Readonly<Record<string, string | Loss>>;

/** Metrics for every output: one list for all, a list of lists in output order, or a dict by output name. */
export type MetricsSpec = readonly (string | Metric)[] | readonly (readonly (string | Metric)[])[] | Readonly<Record<string, string | Metric | readonly (string | Metric)[]>>;

/** The model's inputs or outputs, as the checks name them. */
export interface Ports {
  /** 'input' or 'output'. */
  readonly kind: 'input' | 'output';
  readonly names: readonly string[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tensor);

/**
 * `v` as one tensor per port, in port order; throws naming the op, the ports and what came instead.
 *
 * @example
 * portList('fit', 'x', { b: xb, a: xa }, { kind: 'input', names: ['a', 'b'] }); // [xa, xb]
 */
export function portList(op: string, what: string, v: unknown, ports: Ports): Tensor[] {
  const { kind, names } = ports;
  const several = `the model has ${names.length} ${kind}s (${names.map((n) => `'${n}'`).join(', ')})`;
  let list: unknown[];
  if (v instanceof Tensor) {
    if (names.length !== 1) throw new Error(`${op}: ${what} is one tensor but ${several}; pass a list or a dict by ${kind} name`);
    list = [v];
  } else if (Array.isArray(v)) {
    const bad = v.find((t) => !(t instanceof Tensor));
    if (bad !== undefined) throw new Error(`${op}: ${what} must be a Tensor, a list or a dict of Tensors, got a list holding ${bad === null ? 'null' : typeof bad === 'object' ? (bad.constructor?.name ?? 'an object') : typeof bad}`);
    if (v.length !== names.length) throw new Error(`${op}: ${what} is a list of ${v.length} but ${several}`);
    list = v;
  } else if (isPlainObject(v)) {
    const unknown = Object.keys(v).filter((k) => !names.includes(k));
    if (unknown.length) throw new Error(`${op}: ${what} names ${unknown.map((k) => `'${k}'`).join(', ')}, not among the ${kind}s (${names.map((n) => `'${n}'`).join(', ')})`);
    const missing = names.filter((n) => !(n in v));
    if (missing.length) throw new Error(`${op}: ${what} has no tensor for ${kind} ${missing.map((n) => `'${n}'`).join(', ')}`);
    list = names.map((n) => v[n]);
  } else {
    throw new Error(`${op}: ${what} must be a Tensor, a list or a dict of Tensors, got ${String(v)}`);
  }
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`${op}: ${what} for ${kind} '${names[i]}' must be a Tensor, got ${String(t)}`);
  });
  return list as Tensor[];
}

/** A dataset batch as lists: `{ x, y }` or `{ xs, ys }`, each one tensor, a list or a dict. */
export function batchLists(op: string, batch: DataBatch | MultiDataBatch, inputs: Ports, outputs: Ports): { xs: Tensor[]; ys: Tensor[] } {
  const b = batch as unknown as Record<string, unknown>;
  if (!b || typeof b !== 'object') throw new Error(`${op}: the dataset yielded ${String(batch)}, expected { xs, ys } or { x, y }`);
  const x = 'xs' in b ? b.xs : b.x;
  const y = 'ys' in b ? b.ys : b.y;
  return { xs: portList(op, 'the batch\'s xs', x, inputs), ys: portList(op, 'the batch\'s ys', y, outputs) };
}

/** One value per output from one for all, a list in output order or a dict by output name. */
function perOutput<T>(what: string, spec: unknown, names: readonly string[], isOne: (v: unknown) => boolean): unknown[] {
  if (isOne(spec)) return names.map(() => spec);
  if (Array.isArray(spec)) {
    if (spec.length !== names.length) throw new Error(`compile: ${what} is a list of ${spec.length}, the model has ${names.length} outputs (${names.join(', ')})`);
    return spec;
  }
  if (isPlainObject(spec)) {
    const unknown = Object.keys(spec).filter((k) => !names.includes(k));
    if (unknown.length) throw new Error(`compile: ${what} names ${unknown.map((k) => `'${k}'`).join(', ')}, not among the outputs (${names.join(', ')})`);
    return names.map((n) => (spec as Record<string, T>)[n]);
  }
  throw new Error(`compile: ${what} must be given once, as a list per output or as a dict by output name, got ${String(spec)}`);
}

/** compile's losses, loss weights and metrics, one entry per output. */
export interface OutputSpecs {
  losses: Loss[];
  weights: number[];
  metrics: Metric[][];
}

/**
 * Reads compile's `loss`, `lossWeights` and `metrics` for outputs named `names` with `units`
 * last-axis sizes. Every output needs a loss; a metric object given once for several outputs is refused
 * (its state would mix them).
 */
export function outputSpecs(names: readonly string[], units: readonly number[], loss: unknown, lossWeights: unknown, metrics: unknown): OutputSpecs {
  const isLoss = (v: unknown) => typeof v === 'string' || (typeof v === 'object' && v !== null && typeof (v as Loss).compute === 'function');
  const losses = perOutput('loss', loss, names, isLoss).map((l, i) => {
    if (l === undefined) throw new Error(`compile: no loss for output '${names[i]}'`);
    return getLoss(l as string | Loss);
  });
  const weights = lossWeights === undefined ? names.map(() => 1) : perOutput('lossWeights', lossWeights, names, (v) => typeof v === 'number' && names.length === 1).map((w, i) => {
    const v = w === undefined ? 1 : w;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`compile: lossWeights for output '${names[i]}' must be a finite number, got ${String(w)}`);
    return v;
  });
  let lists: unknown[];
  if (metrics === undefined) lists = names.map(() => []);
  else if (Array.isArray(metrics) && !metrics.some(Array.isArray)) lists = names.map(() => metrics);
  else lists = perOutput('metrics', metrics, names, () => false);
  const seen = new Set<unknown>();
  const perOut = lists.map((list, i) => {
    const items = list === undefined ? [] : Array.isArray(list) ? list : [list];
    return items.map((m: unknown) => {
      if (typeof m !== 'string') {
        if (seen.has(m)) throw new Error(`compile: the same metric object is given for several outputs ('${names[i]}' among them); give each output its own, or a name`);
        seen.add(m);
      }
      return getMetric(m as string | Metric, units[i]);
    });
  });
  return { losses, weights, metrics: perOut };
}

/** Validates every input against its sample shape (naming the input when there are several) and, with `finite`, its values; returns the sample count. */
export function checkInputs(op: string, xs: readonly Tensor[], shapes: readonly (readonly number[])[], names: readonly string[], finite = true): number {
  const label = (i: number) => inputLabel(names, i);
  xs.forEach((x, i) => {
    const expected = shapes[i];
    if (x.rank !== expected.length + 1 || expected.some((d, k) => x.shape[k + 1] !== d)) {
      throw new Error(`${op}: ${label(i)} has shape [${x.shape.join(', ')}], the model expects ${formatShape(expected)}`);
    }
    if (x.shape[0] !== xs[0].shape[0]) throw new Error(`${op}: ${label(i)} has ${x.shape[0]} samples but ${label(0)} has ${xs[0].shape[0]}`);
    if (finite) checkFinite(op, label(i), x.values);
  });
  return xs[0].shape[0]!;
}

/**
 * Whether the backend tests a batch's values where it holds them for a step (the cpu backend's
 * engine, on all its threads): then trainOnBatch and predict leave that test to
 * {@link heldInputs} instead of a loop over the caller's arrays first.
 */
export function testsHeld(): boolean {
  return getBackend().firstNonFinite !== undefined;
}

/**
 * xs for a step, each x's values held for it (`hold(x, true)`: the first layers read the batch
 * forward and backward, so the gpu backend uploads it once and the cpu backend copies a large one
 * into its engine's memory once) and, with `op`, tested for NaN and ±Infinity (where the
 * backend holds them when it can, else in x), naming the input among `names`. `from`: x's first
 * sample in what the caller gave, counted into the flat index an error names.
 */
export function heldInputs(xs: readonly Tensor[], names: readonly string[], op?: string, from = 0): Tensor[] {
  const backend = getBackend();
  return xs.map((x, i) => {
    const held = backend.hold(x.values, true);
    if (op !== undefined) {
      const at = backend.firstNonFinite ? backend.firstNonFinite(held) : firstNonFinite(x.values);
      if (at >= 0) throw nonFiniteError(op, inputLabel(names, i), x.values, at, x.shape[0] ? from * (x.size / x.shape[0]) : 0);
    }
    return wrap(held, x.shape);
  });
}

/** Validates `weights` (Keras order) against the model's params: count, shapes, finite values. */
export function checkWeightTensors(op: string, params: readonly { name: string; shape: readonly number[] }[], weights: unknown): void {
  if (!Array.isArray(weights) || weights.length !== params.length) {
    throw new Error(`${op}: the model has ${params.length} weights, got ${Array.isArray(weights) ? weights.length : String(weights)}`);
  }
  params.forEach((p, i) => {
    const w: unknown = weights[i];
    if (!(w instanceof Tensor) || w.shape.join() !== p.shape.join()) {
      throw new Error(`${op}: weight ${i} (${p.name}) has shape [${p.shape.join(', ')}], got ${w instanceof Tensor ? `[${w.shape.join(', ')}]` : String(w)}`);
    }
    checkFinite(op, `weight ${i} (${p.name})`, w.values);
  });
}

/** How errors name input i of a model with inputs `names`. */
export function inputLabel(names: readonly string[], i: number): string {
  return names.length === 1 ? 'x' : `x for input '${names[i]}'`;
}

/** Validates every output's y against the sample count `n` and the output's units (one class index per sample for a sparse loss). */
export function checkTargets(op: string, ys: readonly Tensor[], n: number, shapes: readonly (readonly number[])[], names: readonly string[], losses: readonly Loss[]): void {
  ys.forEach((y, i) => {
    const label = names.length === 1 ? 'y' : `y for output '${names[i]}'`;
    if (n === 0) throw new Error(`${op}: x has 0 samples (shape [${(y.shape as number[]).join(', ')}] for ${label}); there is nothing to ${op === 'evaluate' ? 'evaluate' : 'train on'}`);
    if (y.rank === 0 || y.shape[0] !== n) {
      throw new Error(`${op}: ${label} has ${y.rank === 0 ? 'no batch axis' : `${y.shape[0]} samples`} (shape [${y.shape.join(', ')}]) but x has ${n}`);
    }
    const shape = shapes[i];
    const units = shape[shape.length - 1];
    const perSample = y.size / n;
    const sparse = losses[i]?.name.startsWith('sparse');
    if (sparse ? perSample !== 1 : perSample !== units) {
      throw new Error(`${op}: ${label} has shape [${y.shape.join(', ')}], the model outputs ${formatShape(shape)}${sparse ? ' and the sparse loss wants one class index per sample' : ''}`);
    }
    checkFinite(op, label, y.values);
    if (sparse) checkSparseLabels(op, y.values, units);
  });
}

/** Each output's batch loss, weighted into the total; each output's gradient scaled by its weight (in place). */
export function weightedLoss(
  losses: readonly Loss[], weights: readonly number[], ys: readonly Float32Array[], yPreds: readonly Tensor[], sampleWeight?: Float32Array,
): { loss: number; losses: number[]; dys: Tensor[] } {
  let loss = 0;
  const each: number[] = [];
  const dys = yPreds.map((yPred, i) => {
    const batch = yPred.shape[0]!;
    const result = losses[i].compute(ys[i], yPred.values, batch, yPred.size / Math.max(batch, 1), sampleWeight);
    const w = weights[i];
    if (w !== 1) for (let k = 0; k < result.dyPred.length; k++) result.dyPred[k] *= w;
    each.push(result.loss);
    loss += w * result.loss;
    return wrap(result.dyPred, yPred.shape);
  });
  return { loss, losses: each, dys };
}

/** The logs as Keras names them: `loss`, then with several outputs `<output>_loss` and `<output>_<metric>`; with one, `<metric>`. */
export function outputLogs(loss: number, losses: readonly number[], prefix: string, names: readonly string[], metrics: readonly (readonly Metric[])[]): Logs {
  const logs: Logs = { [`${prefix}loss`]: loss };
  const several = names.length > 1;
  if (several) names.forEach((name, i) => (logs[`${prefix}${name}_loss`] = losses[i]));
  metrics.forEach((ms, i) => {
    for (const m of ms) logs[`${prefix}${several ? `${names[i]}_` : ''}${m.name}`] = m.result();
  });
  return logs;
}

/** Adds a batch of `n` samples to every output's metrics. */
export function updateOutputMetrics(metrics: readonly (readonly Metric[])[], ys: readonly Tensor[], yPreds: readonly Tensor[], n: number): void {
  metrics.forEach((ms, i) => {
    for (const m of ms) m.update(ys[i].values, yPreds[i].values, n, yPreds[i].size / Math.max(n, 1));
  });
}
