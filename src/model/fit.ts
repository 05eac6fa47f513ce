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
  type FitArgs,
} from './data-args.js';

/** What the fit loop needs from the model beyond its public members (LayersModel's private steps). */
export interface FitHost {
  readonly model: LayersModel;
  readonly rng: Random;
  requireCompiled(op: string): { optimizer: Optimizer; loss: Loss };
  /** Validates x against the model's input shape; returns the sample count. */
  checkX(op: string, x: Tensor): number;
  /** Validates y against x's sample count and the output units. */
  checkY(op: string, y: Tensor, n: number): void;
  ensureInitialized(rng: Random): void;
  /** One optimizer step on a batch; null when the doctor stopped training. */
  step(x: Tensor, y: Float32Array, sampleWeight: Float32Array | undefined, rng: Random, doctor: Doctor | null): { loss: number; yPred: Tensor } | null;
  collectLogs(loss: number, prefix: string): Logs;
  evaluate(data: { x: Tensor; y: Tensor } | BatchDataset, batchSize: number, prefix: string, doctor: Doctor | null): Promise<Logs>;
  /** Inference through the first layers only, copied out of the arena (the doctor's probes). */
  probe(prefix: readonly Layer[], x: Tensor): Tensor;
  clearTrainArena(): void;
}

/** model.fit: `fit(x, y, args)` or `fit(dataset, args)`. */
export async function fitModel(host: FitHost, xOrData: Tensor | BatchDataset, yOrArgs?: Tensor | FitArgs, maybeArgs?: FitArgs): Promise<History> {
  const op = 'fit';
  host.requireCompiled(op);
  const model = host.model;
  const sparse = !!model.loss?.name.startsWith('sparse');
  const outUnits = model.outputShape[model.outputShape.length - 1];
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
  let train: { x: Tensor; y: Tensor; w?: Float32Array } | null = null;
  let val: { x: Tensor; y: Tensor } | BatchDataset | null = null;
  if (dataMode) {
    if (split > 0) throw new Error(`${op}: validationSplit is not supported with a dataset; pass validationData or use subset 'both'`);
    if (args.sampleWeight) throw new Error(`${op}: sampleWeight is not supported with a dataset`);
  } else {
    const x = xOrData as Tensor;
    const y = yOrArgs as Tensor;
    const n = host.checkX(op, x);
    host.checkY(op, y, n);
    let w = sampleWeights(op, y, args.classWeight, args.sampleWeight, { sparse, units: outUnits });
    if (split > 0) {
      const nVal = Math.floor(n * split);
      const nTrain = n - nVal;
      if (nTrain === 0 || nVal === 0) throw new Error(`${op}: validationSplit ${split} of ${n} samples leaves ${nTrain} for training and ${nVal} for validation`);
      val = { x: takeRows(x, nTrain, n), y: takeRows(y, nTrain, n) };
      train = { x: takeRows(x, 0, nTrain), y: takeRows(y, 0, nTrain), w: w?.slice(0, nTrain) };
      const classes = new Set(labelsOf(val.y, sparse));
      if (classes.size < 2 && args.diagnose === false) {
        console.warn(`fit: the validation split (the last ${nVal} samples, taken before shuffling) holds only class ${[...classes].join(', ')}; its precision and recall are meaningless. Shuffle the data first.`);
      }
    } else {
      train = { x, y, w };
    }
    w = undefined;
  }
  if (args.validationData !== undefined) {
    const vd = args.validationData;
    if (isDataset(vd)) val = vd;
    else {
      if (!Array.isArray(vd) || vd.length !== 2) throw new Error(`${op}: validationData must be [x, y] or a dataset`);
      host.checkY(op, vd[1], host.checkX(op, vd[0]));
      val = { x: vd[0], y: vd[1] };
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
  const doctor = args.diagnose === false ? null : createDoctor(model, args, { epochs, verbose, classNames: dataMode ? (xOrData as BatchDataset).classNames : undefined });
  const callbacks = args.callbacks ?? [];
  model.stopTraining = false;
  for (const cb of callbacks) cb.setModel?.(model);
  for (const cb of callbacks) await cb.onTrainBegin?.();

  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    doctor?.beginEpoch(epoch);
    if (verbose) writeOut(`Epoch ${epoch + 1}/${epochs}\n`);
    for (const m of model.metrics) m.reset();
    let lossSum = 0;
    let seen = 0;
    let batchIndex = 0;
    const numBatches = dataMode ? (xOrData as BatchDataset).numBatches : Math.ceil(train!.x.shape[0]! / batchSize);
    const progress = verbose ? new ProgressLine(numBatches) : null;
    const runBatch = async (xb: Tensor, yb: Tensor, wb: Float32Array | undefined): Promise<void> => {
      for (const cb of callbacks) await cb.onBatchBegin?.(batchIndex);
      const stepped = host.step(xb, yb.values, wb, rng, doctor);
      if (!stepped) return;
      const { loss, yPred } = stepped;
      doctor?.afterBatch(xb, yb, wb, loss);
      const b = xb.shape[0]!;
      lossSum += loss * b;
      seen += b;
      const units = yPred.size / Math.max(b, 1);
      for (const m of model.metrics) m.update(yb.values, yPred.values, b, units);
      const logs = host.collectLogs(lossSum / seen, '');
      progress?.update(batchIndex + 1, logs);
      for (const cb of callbacks) await cb.onBatchEnd?.(batchIndex, { ...logs, batch: batchIndex, size: b });
      batchIndex++;
    };
    if (dataMode) {
      for await (const batch of (xOrData as BatchDataset).batches({ epoch })) {
        host.checkY(op, batch.y, host.checkX(op, batch.x));
        const wb = classTable ? weightsFromTable(batch.y, classTable, sparse) : undefined;
        await runBatch(batch.x, batch.y, wb);
        if (doctor?.stopped) break;
      }
    } else {
      const { x, y, w } = train!;
      const n = x.shape[0]!;
      const order = Int32Array.from({ length: n }, (_, i) => i);
      if (args.shuffle ?? true) rng.shuffle(order);
      const xRow = n ? x.size / n : 0;
      const yRow = n ? y.size / n : 0;
      for (let from = 0; from < n; from += batchSize) {
        const to = Math.min(n, from + batchSize);
        const xb = wrap(gatherRows(x.values, xRow, order, from, to), [to - from, ...(x.shape as number[]).slice(1)] as unknown as Shape);
        const yb = wrap(gatherRows(y.values, yRow, order, from, to), [to - from, ...(y.shape as number[]).slice(1)] as unknown as Shape);
        const wb = w ? Float32Array.from(order.subarray(from, to), (i) => w[i]) : undefined;
        await runBatch(xb, yb, wb);
        if (doctor?.stopped) break;
        // Let timers and I/O run between batches (progress, prefetching, Ctrl-C).
        await yieldToHost();
      }
    }
    const logs = host.collectLogs(seen ? lossSum / seen : NaN, '');
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
