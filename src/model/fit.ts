// The training loop of every model (Sequential and the functional Model): argument checks (all
// before any weight changes), the epoch and batch loops, validation, callbacks and the doctor.
import type { Logs } from '../train/callbacks.js';
import type { Layer } from '../layers/layer.js';
import type { Loss } from '../train/losses.js';
import type { Optimizer } from '../train/optimizers.js';
import { ProgressLine } from '../util/progress.js';
import { Random } from '../util/random.js';
import { writeOut, yieldToHost } from '../util/host.js';
import { wrap, type Shape, type Tensor } from '../tensor.js';
import { createDoctor, type Doctor } from '../train/doctor/index.js';
import { balancedFromCounts, checkFitOptionTypes } from '../train/label-checks.js';
import type { LayersModel } from './layers-model.js';
import {
  FIT_KEYS,
  History,
  checkCount,
  checkOptions,
  classWeightTable,
  gatherRows,
  isDataset,
  labelsOf,
  sampleWeights,
  takeRows,
  weightsFromTable,
  type BatchDataset,
  type DataBatch,
  type FitArgs,
  type MultiDataBatch,
} from './data-args.js';
import type { ModelData } from './model-io.js';

/** What the fit loop needs from the model beyond its public members (LayersModel's private steps). */
export interface FitHost {
  readonly model: LayersModel;
  readonly rng: Random;
  requireCompiled(op: string): { optimizer: Optimizer; loss: Loss };
  /** x and y as one tensor per input and per output (from a tensor, a list or a dict by name). */
  lists(op: string, x: unknown, y: unknown): { xs: Tensor[]; ys: Tensor[] };
  /** A dataset's batch as lists. */
  batch(op: string, batch: DataBatch | MultiDataBatch): { xs: Tensor[]; ys: Tensor[] };
  /** Validates every input against the model's input shapes; returns the sample count. */
  checkX(op: string, xs: readonly Tensor[]): number;
  /** Validates every y against x's sample count and the output units. */
  checkY(op: string, ys: readonly Tensor[], n: number): void;
  ensureInitialized(rng: Random): void;
  /** One optimizer step on a batch; null when the doctor stopped training. */
  step(xs: readonly Tensor[], ys: readonly Float32Array[], sampleWeight: Float32Array | undefined, rng: Random, doctor: Doctor | null): { loss: number; losses: number[]; yPreds: Tensor[] } | null;
  collectLogs(loss: number, losses: readonly number[], prefix: string): Logs;
  evaluate(data: { xs: Tensor[]; ys: Tensor[] } | BatchDataset, batchSize: number, prefix: string, doctor: Doctor | null): Promise<Logs>;
  /** Inference through the first layers only, copied out of the arena (the doctor's probes). */
  probe(prefix: readonly Layer[], x: Tensor): Tensor;
  clearTrainArena(): void;
}

/** model.fit: `fit(x, y, args)` or `fit(dataset, args)`; x and y one tensor, a list or a dict per input/output. */
export async function fitModel(host: FitHost, xOrData: ModelData | BatchDataset, yOrArgs?: ModelData | FitArgs, maybeArgs?: FitArgs): Promise<History> {
  const op = 'fit';
  host.requireCompiled(op);
  const model = host.model;
  const sparse = !!model.loss?.name.startsWith('sparse');
  const outUnits = model.outputShapes[0][model.outputShapes[0].length - 1];
  const several = model.outputNames.length > 1;
  const dataMode = isDataset(xOrData);
  const args = (dataMode ? (yOrArgs as FitArgs | undefined) : maybeArgs) ?? {};
  checkOptions(op, args, FIT_KEYS);
  checkFitOptionTypes(op, args);
  const epochs = checkCount(op, 'epochs', args.epochs ?? 1);
  const initialEpoch = checkCount(op, 'initialEpoch', args.initialEpoch ?? 0, 0);
  const batchSize = checkCount(op, 'batchSize', args.batchSize ?? 32);
  const verbose = args.verbose ?? 1;
  if (args.seed !== undefined && !Number.isFinite(args.seed)) throw new Error(`${op}: seed must be a finite number, got ${args.seed}`);
  const split = args.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1)) throw new Error(`${op}: validationSplit must be in [0, 1), got ${split}`);

  // Validate everything before touching weights or optimizer state.
  let train: { xs: Tensor[]; ys: Tensor[]; w?: Float32Array } | null = null;
  let val: { xs: Tensor[]; ys: Tensor[] } | BatchDataset | null = null;
  if (several && (args.sampleWeight !== undefined || args.classWeight !== undefined)) {
    throw new Error(`${op}: sampleWeight and classWeight are not supported for a model with several outputs (${model.outputNames.join(', ')})`);
  }
  if (dataMode) {
    if (split > 0) throw new Error(`${op}: validationSplit is not supported with a dataset; pass validationData or use subset 'both'`);
    if (args.sampleWeight) throw new Error(`${op}: sampleWeight is not supported with a dataset`);
  } else {
    const { xs, ys } = host.lists(op, xOrData, yOrArgs);
    const n = host.checkX(op, xs);
    host.checkY(op, ys, n);
    let w = sampleWeights(op, ys[0], args.classWeight, args.sampleWeight, { sparse, units: outUnits });
    if (split > 0) {
      const nVal = Math.floor(n * split);
      const nTrain = n - nVal;
      if (nTrain === 0 || nVal === 0) throw new Error(`${op}: validationSplit ${split} of ${n} samples leaves ${nTrain} for training and ${nVal} for validation`);
      val = { xs: xs.map((x) => takeRows(x, nTrain, n)), ys: ys.map((y) => takeRows(y, nTrain, n)) };
      train = { xs: xs.map((x) => takeRows(x, 0, nTrain)), ys: ys.map((y) => takeRows(y, 0, nTrain)), w: w?.slice(0, nTrain) };
      const classes = new Set(labelsOf(val.ys[0], sparse));
      if (classes.size < 2 && args.diagnose === false && !several) {
        console.warn(`fit: the validation split (the last ${nVal} samples, taken before shuffling) holds only class ${[...classes].join(', ')}; its precision and recall are meaningless. Shuffle the data first.`);
      }
    } else {
      train = { xs, ys, w };
    }
    w = undefined;
  }
  if (args.validationData !== undefined) {
    const vd = args.validationData;
    if (isDataset(vd)) val = vd;
    else {
      if (!Array.isArray(vd) || vd.length !== 2) throw new Error(`${op}: validationData must be [x, y] or a dataset`);
      const lists = host.lists(op, vd[0], vd[1]);
      host.checkY(op, lists.ys, host.checkX(op, lists.xs));
      val = lists;
    }
  }
  let classTable: Map<number, number> | null = null;
  if (dataMode && args.classWeight !== undefined) {
    const ds = xOrData as BatchDataset;
    if (args.classWeight === 'balanced') {
      classTable = balancedFromCounts(op, ds.classCounts, ds.classNames);
    } else {
      classTable = classWeightTable(op, args.classWeight, new Int32Array(0), outUnits);
    }
  }

  if (args.diagnose !== undefined && typeof args.diagnose !== 'boolean') throw new Error(`${op}: diagnose must be true or false, got ${String(args.diagnose)}`);

  const rng = args.seed !== undefined ? new Random(args.seed) : host.rng;
  host.ensureInitialized(rng);
  const history = new History();
  // The doctor reads one input and one output; a model with several runs without it.
  const multi = several || model.inputNames.length > 1;
  const doctor = args.diagnose === false || multi ? null : createDoctor(model, args, { epochs, verbose, classNames: dataMode ? (xOrData as BatchDataset).classNames : undefined });
  const callbacks = args.callbacks ?? [];
  model.stopTraining = false;
  for (const cb of callbacks) cb.setModel?.(model);
  for (const cb of callbacks) await cb.onTrainBegin?.();

  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    doctor?.beginEpoch(epoch);
    if (verbose) writeOut(`Epoch ${epoch + 1}/${epochs}\n`);
    for (const ms of model.outputMetrics) for (const m of ms) m.reset();
    let lossSum = 0;
    const lossSums = model.outputNames.map(() => 0);
    let seen = 0;
    let batchIndex = 0;
    const numBatches = dataMode ? (xOrData as BatchDataset).numBatches : Math.ceil(train!.xs[0].shape[0]! / batchSize);
    const progress = verbose ? new ProgressLine(numBatches) : null;
    const epochLogs = () => host.collectLogs(seen ? lossSum / seen : NaN, lossSums.map((l) => (seen ? l / seen : NaN)), '');
    const runBatch = async (xs: Tensor[], ys: Tensor[], wb: Float32Array | undefined): Promise<void> => {
      for (const cb of callbacks) await cb.onBatchBegin?.(batchIndex);
      const stepped = host.step(xs, ys.map((y) => y.values), wb, rng, doctor);
      if (!stepped) return;
      const { loss, losses, yPreds } = stepped;
      doctor?.afterBatch(xs[0], ys[0], wb, loss);
      const b = xs[0].shape[0]!;
      lossSum += loss * b;
      losses.forEach((l, i) => (lossSums[i] += l * b));
      seen += b;
      model.outputMetrics.forEach((ms, i) => {
        for (const m of ms) m.update(ys[i].values, yPreds[i].values, b, yPreds[i].size / Math.max(b, 1));
      });
      const logs = epochLogs();
      progress?.update(batchIndex + 1, logs);
      for (const cb of callbacks) await cb.onBatchEnd?.(batchIndex, { ...logs, batch: batchIndex, size: b });
      batchIndex++;
    };
    if (dataMode) {
      for await (const batch of (xOrData as BatchDataset).batches({ epoch })) {
        const { xs, ys } = host.batch(op, batch);
        host.checkY(op, ys, host.checkX(op, xs));
        const wb = classTable ? weightsFromTable(ys[0], classTable, sparse) : undefined;
        await runBatch(xs, ys, wb);
        if (doctor?.stopped) break;
      }
    } else {
      const { xs, ys, w } = train!;
      const n = xs[0].shape[0]!;
      const order = Int32Array.from({ length: n }, (_, i) => i);
      if (args.shuffle ?? true) rng.shuffle(order);
      const gather = (t: Tensor, from: number, to: number) =>
        wrap(gatherRows(t.values, n ? t.size / n : 0, order, from, to), [to - from, ...(t.shape as number[]).slice(1)] as unknown as Shape);
      for (let from = 0; from < n; from += batchSize) {
        const to = Math.min(n, from + batchSize);
        const wb = w ? Float32Array.from(order.subarray(from, to), (i) => w[i]) : undefined;
        await runBatch(xs.map((x) => gather(x, from, to)), ys.map((y) => gather(y, from, to)), wb);
        if (doctor?.stopped) break;
        // Let timers and I/O run between batches (progress, prefetching, Ctrl-C).
        await yieldToHost();
      }
    }
    const logs = epochLogs();
    if (val) Object.assign(logs, await host.evaluate(val, batchSize, 'val_', doctor));
    progress?.finish(batchIndex, logs);
    doctor?.endEpoch(logs, host.probe);
    if (doctor?.stopped) model.stopTraining = true;
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    // After the callbacks, as Keras' History: ReduceLROnPlateau adds `learning_rate` to the logs.
    history.record(epoch, logs);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.();
  host.clearTrainArena();
  history.diagnostics.push(...(doctor?.diagnostics ?? []));
  return history;
}
