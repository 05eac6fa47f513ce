import { OutputArena } from '../backend/arena.js';
import type { Callback, Logs } from '../train/callbacks.js';
import { getBackend } from '../backend/index.js';
import { FusionPlans, planFusion, type FusionMode, type FusionUnit } from './fusion.js';
import { saveModel } from '../io/save.js';
import { formatShape, Layer, type Param } from '../layers/layer.js';
import { getLoss, type Loss } from '../train/losses.js';
import { getMetric, type Metric } from '../train/metrics/index.js';
import { getOptimizer, type Optimizer } from '../train/optimizers.js';
import { regularizationLoss } from '../train/regularizers.js';
import { ProgressLine, formatLogs } from '../util/progress.js';
import { getGlobalRandom, Random } from '../util/random.js';
import { writeOut, yieldToHost } from '../util/host.js';
import { Tensor, wrap, type Shape } from '../tensor.js';
import { createDoctor, type Doctor, type Diagnostic } from '../train/doctor/index.js';
import { checkWeightValues, renameErrors } from '../util/errors.js';
import { balancedFromCounts, checkFitOptionTypes, checkSparseLabels, classWeightFromObject, type ClassWeight } from '../train/label-checks.js';

/** A batch as a streaming dataset yields it. */
export interface DataBatch {
  x: Tensor;
  y: Tensor;
}

/** What `fit`, `evaluate` and `predict` accept besides in-memory tensors (see `imageDatasetFromDirectory`). */
export interface BatchDataset {
  readonly size: number;
  readonly numBatches: number;
  readonly classCounts?: Record<string, number>;
  readonly classNames?: string[];
  batches(opts?: { epoch?: number }): AsyncIterable<DataBatch>;
}

export type { ClassWeight } from '../train/label-checks.js';

/** Options of {@link Sequential.compile}. */
export interface CompileArgs {
  optimizer: string | Optimizer;
  loss: string | Loss;
  metrics?: (string | Metric)[];
}

/** Options of {@link Sequential.fit}. */
export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the data, taken from the end before shuffling (as Keras), held out for validation. */
  validationSplit?: number;
  validationData?: [Tensor, Tensor] | BatchDataset;
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

const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'classWeight', 'sampleWeight', 'callbacks', 'verbose', 'seed', 'initialEpoch', 'diagnose'];

function checkOptions(op: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new Error(`${op}: unknown option '${key}'; known: ${allowed.join(', ')}`);
  }
}

function checkCount(op: string, key: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${op}: ${key} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/** Throws naming `what` and the first non-finite value, if any. */
function checkFinite(op: string, what: string, values: Float32Array): void {
  // v·0 is 0 for finite v and NaN for ±Infinity and NaN: four running sums stay 0 unless some
  // value is not finite (~4× faster than Number.isFinite per value on a 4 MB batch); then find it.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = values.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += values[i] * 0;
    s1 += values[i + 1] * 0;
    s2 += values[i + 2] * 0;
    s3 += values[i + 3] * 0;
  }
  for (; i < n; i++) s0 += values[i] * 0;
  if (s0 + s1 + s2 + s3 === 0) return;
  for (let j = 0; j < n; j++) {
    if (!Number.isFinite(values[j])) throw new Error(`${op}: ${what} contains ${values[j]} at flat index ${j}; inputs must be finite`);
  }
}

function isDataset(x: unknown): x is BatchDataset {
  return typeof x === 'object' && x !== null && typeof (x as BatchDataset).batches === 'function';
}

/** Copies the rows `indices[from..to)` of a [n, ...] array into a new [to − from, ...] array. */
function gatherRows(values: Float32Array, rowSize: number, indices: Int32Array, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * rowSize);
  for (let i = from; i < to; i++) {
    const src = indices[i] * rowSize;
    out.set(values.subarray(src, src + rowSize), (i - from) * rowSize);
  }
  return out;
}

// Rows [from, to) as a view (no copy: inference and evaluation only read their inputs, and a
// fresh 4 MB copy per batch costs ~1,000 page faults here).
function takeRows(t: Tensor, from: number, to: number): Tensor {
  const rowSize = t.shape[0] ? t.size / t.shape[0] : 0;
  return new Tensor(t.values.subarray(from * rowSize, to * rowSize), [to - from, ...(t.shape as number[]).slice(1)] as unknown as Shape);
}

/**
 * A linear stack of layers with Keras' `add` / `compile` / `fit` / `evaluate` / `predict`.
 *
 * @example
 * const model = new Sequential();
 * model.add(new layers.Dense({ units: 1, activation: 'sigmoid', inputShape: [4] }));
 * model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
 * const history = await model.fit(x, y, { epochs: 5, batchSize: 32 });
 */
export class Sequential {
  readonly name: string;
  readonly layers: Layer[] = [];
  /** Set by callbacks (EarlyStopping) to end `fit` after the current epoch. */
  stopTraining = false;
  optimizer: Optimizer | null = null;
  loss: Loss | null = null;
  metrics: Metric[] = [];
  private rng: Random = getGlobalRandom();
  /**
   * Buffers of the arrays one training step (forward, backward, update) or one inference forward
   * computes: the next step reuses them instead of paging in fresh memory (src/backend/arena.ts).
   * Emptied when fit, evaluate and predict return; trainOnBatch keeps its buffers for the next call.
   */
  private trainArena = new OutputArena();
  private inferArena = new OutputArena();
  private plans = new FusionPlans();

  constructor(config: { name?: string; layers?: Layer[] } = {}) {
    this.name = config.name ?? 'sequential';
    for (const layer of config.layers ?? []) this.add(layer);
  }

  /** Sample shape the model takes, without the batch axis. */
  get inputShape(): readonly number[] {
    const first = this.layers[0];
    if (!first?.inputShape) throw new Error(`Sequential '${this.name}': the model has no layers yet`);
    return first.inputShape;
  }

  /** Sample shape the model returns, without the batch axis. */
  get outputShape(): readonly number[] {
    const last = this.layers[this.layers.length - 1];
    if (!last?.outputShape) throw new Error(`Sequential '${this.name}': the model has no layers yet`);
    return last.outputShape;
  }

  /**
   * Appends a layer, inferring its input shape from the previous layer and building it. A
   * mismatch throws here, naming the layer and both shapes; the model is left as it was.
   */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new Error(`Sequential.add: expected a layer, got ${String(layer)}`);
    if (this.layers.includes(layer)) throw new Error(`Sequential.add: layer '${layer.name}' is already in the model`);
    if (this.layers.some((l) => l.name === layer.name)) throw new Error(`Sequential.add: a layer named '${layer.name}' is already in the model`);
    const prev = this.layers[this.layers.length - 1];
    let inputShape: readonly number[];
    if (!prev) {
      if (!layer.configInputShape) {
        throw new Error(`Sequential.add: the first layer, ${layer.className} '${layer.name}', needs an inputShape (e.g. inputShape: [100, 100, 3])`);
      }
      inputShape = layer.configInputShape;
    } else {
      inputShape = prev.outputShape!;
      if (layer.configInputShape && layer.configInputShape.join() !== inputShape.join()) {
        throw new Error(
          `Sequential.add: ${layer.className} '${layer.name}' declares inputShape ${formatShape(layer.configInputShape)} but the previous layer '${prev.name}' outputs ${formatShape(inputShape)}`,
        );
      }
    }
    try {
      layer.build(inputShape);
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(`Sequential.add: ${msg}${prev ? ` (previous layer '${prev.name}' outputs ${formatShape(inputShape)})` : ''}`);
    }
    this.layers.push(layer);
  }

  /** Every weight, in Keras order. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  private trainableParams(): Param[] {
    return this.params().filter((p) => p.trainable);
  }

  /** Draws initial weights for layers that have none yet. */
  private ensureInitialized(rng: Random = this.rng): void {
    for (const layer of this.layers) layer.initializeWeights(rng);
  }

  /** Sets the loss, optimizer and metrics for training. Unknown names throw. */
  compile(args: CompileArgs): void {
    if (!args || typeof args !== 'object') throw new Error('compile: expected { optimizer, loss, metrics }');
    checkOptions('compile', args, ['optimizer', 'loss', 'metrics']);
    if (this.layers.length === 0) throw new Error(`compile: the model '${this.name}' has no layers`);
    const units = this.outputShape[this.outputShape.length - 1];
    // The lookups name themselves (getLoss: …); the user called compile.
    const { optimizer, loss, metrics } = renameErrors('compile', () => ({
      optimizer: getOptimizer(args.optimizer),
      loss: getLoss(args.loss),
      metrics: (args.metrics ?? []).map((m) => getMetric(m, units)),
    }));
    this.optimizer = optimizer;
    this.loss = loss;
    this.metrics = metrics;
  }

  private requireCompiled(op: string): { optimizer: Optimizer; loss: Loss } {
    if (!this.optimizer || !this.loss) throw new Error(`${op}: call compile({ optimizer, loss }) before ${op}`);
    return { optimizer: this.optimizer, loss: this.loss };
  }

  /** Validates x against the model's input shape; returns the sample count. */
  private checkX(op: string, x: Tensor): number {
    if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a Tensor, got ${String(x)}`);
    const expected = this.inputShape;
    if (x.rank !== expected.length + 1 || expected.some((d, i) => x.shape[i + 1] !== d)) {
      throw new Error(`${op}: x has shape [${x.shape.join(', ')}], the model expects ${formatShape(expected)}`);
    }
    checkFinite(op, 'x', x.values);
    return x.shape[0]!;
  }

  /** Validates y against x's sample count and the output units. */
  private checkY(op: string, y: Tensor, n: number): void {
    if (!(y instanceof Tensor)) throw new Error(`${op}: y must be a Tensor, got ${String(y)}`);
    if (n === 0) throw new Error(`${op}: x has 0 samples (shape [${(y.shape as number[]).join(', ')}] for y); there is nothing to ${op === 'evaluate' ? 'evaluate' : 'train on'}`);
    if (y.rank === 0 || y.shape[0] !== n) {
      throw new Error(`${op}: y has ${y.rank === 0 ? 'no batch axis' : `${y.shape[0]} samples`} (shape [${y.shape.join(', ')}]) but x has ${n}`);
    }
    const units = this.outputShape[this.outputShape.length - 1];
    const perSample = n ? y.size / n : 0;
    const sparse = this.loss?.name.startsWith('sparse');
    const ok = sparse ? perSample === 1 : perSample === units;
    if (!ok) {
      throw new Error(`${op}: y has shape [${y.shape.join(', ')}], the model outputs ${formatShape(this.outputShape)}${sparse ? ' and the sparse loss wants one class index per sample' : ''}`);
    }
    checkFinite(op, 'y', y.values);
    if (sparse) checkSparseLabels(op, y.values, units);
  }

  /**
   * The units a pass runs on the active backend: which runs of layers go as one fused call
   * (`op`, e.g. 'conv.conv2dMaxPoolTrain') and which layers run their own forward (`op` null).
   * See src/model/fusion.ts.
   *
   * @example
   * model.fusionPlan('inference').map((u) => [u.layers.map((l) => l.name), u.op]);
   */
  fusionPlan(mode: FusionMode = 'training'): readonly FusionUnit[] {
    return this.plans.get(this.layers, getBackend(), mode);
  }

  /** Inference forward through the first layers only (the doctor's probes), planned like a whole model. */
  private forwardPrefix(layers: readonly Layer[], x: Tensor): Tensor {
    const ctx = { training: false, rng: this.rng };
    return planFusion(layers, getBackend(), 'inference').reduce((h, unit) => unit.forward(h, ctx), x);
  }

  /** Inference forward through the inference plan. Training runs in step(). */
  private forward(x: Tensor, rng: Random): Tensor {
    const ctx = { training: false, rng };
    return this.fusionPlan('inference').reduce((h, unit) => unit.forward(h, ctx), x);
  }

  /** One optimizer step on a batch; returns the batch loss and predictions, or null when the doctor stopped training. */
  private step(x: Tensor, y: Float32Array, sampleWeight: Float32Array | undefined, rng: Random, doctor?: Doctor | null): { loss: number; yPred: Tensor } | null {
    const { optimizer, loss } = this.requireCompiled('fit');
    const params = this.trainableParams();
    // yPred stays valid until the next step of this arena (the caller updates metrics with it).
    const steps = this.fusionPlan('training');
    return this.trainArena.run(() => {
      for (const p of params) p.grad.fill(0);
      doctor?.beginStep();
      let yPred = x;
      for (const unit of steps) {
        yPred = unit.forward(yPred, { training: true, rng });
        doctor?.afterUnit(unit.layers, yPred);
      }
      if (doctor && !doctor.outputFinite(yPred)) return null;
      const batch = yPred.shape[0]!;
      const units = yPred.size / Math.max(batch, 1);
      const result = loss.compute(y, yPred.values, batch, units, sampleWeight);
      if (doctor && !doctor.lossFinite(result.loss)) return null;
      let dy: Tensor | null = wrap(result.dyPred, yPred.shape);
      for (let i = steps.length - 1; i >= 0 && dy; i--) dy = steps[i].backward(dy, i > 0);
      // Keras adds the weight penalties (before this step's update) to the loss it reports.
      const penalty = regularizationLoss(params, true);
      optimizer.apply(params);
      doctor?.afterUpdate();
      return { loss: result.loss + penalty, yPred };
    });
  }

  /** Per-sample weights from class weights (by label) and explicit sample weights. */
  private sampleWeights(op: string, y: Tensor, classWeight: ClassWeight | undefined, sampleWeight: Tensor | Float32Array | undefined): Float32Array | undefined {
    const n = y.shape[0]!;
    let w: Float32Array | undefined;
    if (sampleWeight !== undefined) {
      const values = sampleWeight instanceof Tensor ? sampleWeight.values : sampleWeight;
      if (values.length !== n) throw new Error(`${op}: sampleWeight has ${values.length} entries but there are ${n} samples`);
      checkFinite(op, 'sampleWeight', values);
      w = Float32Array.from(values);
    }
    if (classWeight === undefined) return w;
    const labels = this.labelsOf(y);
    const weights = this.classWeightTable(op, classWeight, labels, y);
    w ??= new Float32Array(n).fill(1);
    for (let i = 0; i < n; i++) w[i] *= weights.get(labels[i]) ?? 1;
    return w;
  }

  /** Class index of every sample: threshold 0.5 for one unit, argmax for one-hot, the value for sparse labels. */
  private labelsOf(y: Tensor): Int32Array {
    const n = y.shape[0]!;
    const per = n ? y.size / n : 0;
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (per === 1) {
        const v = y.values[i];
        labels[i] = this.loss?.name.startsWith('sparse') ? Math.round(v) : v > 0.5 ? 1 : 0;
      } else {
        let best = 0;
        for (let c = 1; c < per; c++) if (y.values[i * per + c] > y.values[i * per + best]) best = c;
        labels[i] = best;
      }
    }
    return labels;
  }

  private classWeightTable(op: string, classWeight: ClassWeight, labels: Int32Array, y: Tensor): Map<number, number> {
    const table = new Map<number, number>();
    if (classWeight === 'balanced') {
      const counts = new Map<number, number>();
      for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
      for (const [cls, count] of counts) table.set(cls, labels.length / (counts.size * count));
      return table;
    }
    return classWeightFromObject(op, classWeight, this.outputShape[this.outputShape.length - 1]);
  }

  /**
   * Trains the model. Accepts tensors (`fit(x, y, args)`) or a streaming dataset (`fit(ds, args)`).
   * Metrics stream over the whole epoch and are reset per epoch and separately for validation.
   */
  async fit(x: Tensor, y: Tensor, args?: FitArgs): Promise<History>;
  async fit(dataset: BatchDataset, args?: FitArgs): Promise<History>;
  async fit(xOrData: Tensor | BatchDataset, yOrArgs?: Tensor | FitArgs, maybeArgs?: FitArgs): Promise<History> {
    const op = 'fit';
    this.requireCompiled(op);
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
      const n = this.checkX(op, x);
      this.checkY(op, y, n);
      let w = this.sampleWeights(op, y, args.classWeight, args.sampleWeight);
      if (split > 0) {
        const nVal = Math.floor(n * split);
        const nTrain = n - nVal;
        if (nTrain === 0 || nVal === 0) throw new Error(`${op}: validationSplit ${split} of ${n} samples leaves ${nTrain} for training and ${nVal} for validation`);
        val = { x: takeRows(x, nTrain, n), y: takeRows(y, nTrain, n) };
        train = { x: takeRows(x, 0, nTrain), y: takeRows(y, 0, nTrain), w: w?.slice(0, nTrain) };
        const classes = new Set(this.labelsOf(val.y));
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
        this.checkY(op, vd[1], this.checkX(op, vd[0]));
        val = { x: vd[0], y: vd[1] };
      }
    }
    let classWeightTable: Map<number, number> | null = null;
    if (dataMode && args.classWeight !== undefined) {
      const ds = xOrData as BatchDataset;
      if (args.classWeight === 'balanced') {
        classWeightTable = balancedFromCounts(op, ds.classCounts, ds.classNames);
      } else {
        classWeightTable = this.classWeightTable(op, args.classWeight, new Int32Array(0), tensorOfUnits(this.outputShape));
      }
    }

    if (args.diagnose !== undefined && typeof args.diagnose !== 'boolean') throw new Error(`${op}: diagnose must be true or false, got ${String(args.diagnose)}`);

    const rng = args.seed !== undefined ? new Random(args.seed) : this.rng;
    this.ensureInitialized(rng);
    const history = new History();
    const doctor = args.diagnose === false ? null : createDoctor(this, args, { epochs, verbose, classNames: dataMode ? (xOrData as BatchDataset).classNames : undefined });
    const callbacks = args.callbacks ?? [];
    this.stopTraining = false;
    for (const cb of callbacks) cb.setModel?.(this);
    for (const cb of callbacks) await cb.onTrainBegin?.();

    for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      doctor?.beginEpoch(epoch);
      if (verbose) writeOut(`Epoch ${epoch + 1}/${epochs}\n`);
      for (const m of this.metrics) m.reset();
      let lossSum = 0;
      let seen = 0;
      let batchIndex = 0;
      const numBatches = dataMode ? (xOrData as BatchDataset).numBatches : Math.ceil(train!.x.shape[0]! / batchSize);
      const progress = verbose ? new ProgressLine(numBatches) : null;
      const runBatch = async (xb: Tensor, yb: Tensor, wb: Float32Array | undefined): Promise<void> => {
        for (const cb of callbacks) await cb.onBatchBegin?.(batchIndex);
        const stepped = this.step(xb, yb.values, wb, rng, doctor);
        if (!stepped) return;
        const { loss, yPred } = stepped;
        doctor?.afterBatch(xb, yb, wb, loss);
        const b = xb.shape[0]!;
        lossSum += loss * b;
        seen += b;
        const units = yPred.size / Math.max(b, 1);
        for (const m of this.metrics) m.update(yb.values, yPred.values, b, units);
        const logs = this.collectLogs(lossSum / seen, '');
        progress?.update(batchIndex + 1, logs);
        for (const cb of callbacks) await cb.onBatchEnd?.(batchIndex, { ...logs, batch: batchIndex, size: b });
        batchIndex++;
      };
      if (dataMode) {
        for await (const batch of (xOrData as BatchDataset).batches({ epoch })) {
          this.checkY(op, batch.y, this.checkX(op, batch.x));
          const wb = classWeightTable ? this.weightsFromTable(batch.y, classWeightTable) : undefined;
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
      const logs = this.collectLogs(seen ? lossSum / seen : NaN, '');
      if (val) Object.assign(logs, await this.evaluateInternal(val, batchSize, 'val_', doctor));
      progress?.finish(batchIndex, logs);
      doctor?.endEpoch(logs, (prefix, x) => this.inferArena.run(() => copyTensor(this.forwardPrefix(prefix, x))));
      if (doctor?.stopped) this.stopTraining = true;
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
      // After the callbacks, as Keras' History: ReduceLROnPlateau adds `learning_rate` to the logs.
      history.record(epoch, logs);
    }
    for (const cb of callbacks) await cb.onTrainEnd?.();
    this.trainArena.clear();
    history.diagnostics.push(...(doctor?.diagnostics ?? []));
    return history;
  }

  private weightsFromTable(y: Tensor, table: Map<number, number>): Float32Array {
    const labels = this.labelsOf(y);
    return Float32Array.from(labels, (l) => table.get(l) ?? 1);
  }

  private collectLogs(loss: number, prefix: string): Logs {
    const logs: Logs = { [`${prefix}loss`]: loss };
    for (const m of this.metrics) logs[`${prefix}${m.name}`] = m.result();
    return logs;
  }

  private async evaluateInternal(data: { x: Tensor; y: Tensor } | BatchDataset, batchSize: number, prefix: string, doctor?: Doctor | null): Promise<Logs> {
    const { loss } = this.requireCompiled('evaluate');
    for (const m of this.metrics) m.reset();
    let lossSum = 0;
    let seen = 0;
    // Keras' test step adds the weight penalties too, so val_loss is comparable to loss.
    const penalty = regularizationLoss(this.params(), false);
    const consume = (xb: Tensor, yb: Tensor): void => {
      const yPred = this.inferArena.run(() => this.forward(xb, this.rng));
      const b = xb.shape[0]!;
      const units = yPred.size / Math.max(b, 1);
      lossSum += (loss.compute(yb.values, yPred.values, b, units).loss + penalty) * b;
      seen += b;
      for (const m of this.metrics) m.update(yb.values, yPred.values, b, units);
      doctor?.observeValidation(yb, yPred);
    };
    if (isDataset(data)) {
      for await (const batch of data.batches()) consume(batch.x, batch.y);
    } else {
      const n = data.x.shape[0]!;
      for (let from = 0; from < n; from += batchSize) {
        const to = Math.min(n, from + batchSize);
        consume(takeRows(data.x, from, to), takeRows(data.y, from, to));
      }
    }
    return this.collectLogs(seen ? lossSum / seen : NaN, prefix);
  }

  /** Loss and metrics over the data, streamed over all batches. */
  async evaluate(x: Tensor, y: Tensor, args?: { batchSize?: number; verbose?: 0 | 1 }): Promise<Logs>;
  async evaluate(dataset: BatchDataset, args?: { batchSize?: number; verbose?: 0 | 1 }): Promise<Logs>;
  async evaluate(xOrData: Tensor | BatchDataset, yOrArgs?: Tensor | { batchSize?: number; verbose?: 0 | 1 }, maybeArgs?: { batchSize?: number; verbose?: 0 | 1 }): Promise<Logs> {
    const op = 'evaluate';
    this.requireCompiled(op);
    const dataMode = isDataset(xOrData);
    const args = (dataMode ? (yOrArgs as { batchSize?: number }) : maybeArgs) ?? {};
    checkOptions(op, args, ['batchSize', 'verbose']);
    const batchSize = checkCount(op, 'batchSize', args.batchSize ?? 32);
    this.ensureInitialized();
    if (dataMode) return this.evaluateInternal(xOrData as BatchDataset, batchSize, '');
    const x = xOrData as Tensor;
    const y = yOrArgs as Tensor;
    this.checkY(op, y, this.checkX(op, x));
    const logs = await this.evaluateInternal({ x, y }, batchSize, '');
    if ((args as { verbose?: number }).verbose) console.log(formatLogs(logs));
    return logs;
  }

  /** Outputs for every sample, in inference mode, computed batch by batch. */
  async predict(x: Tensor | BatchDataset, args: { batchSize?: number } = {}): Promise<Tensor> {
    const op = 'predict';
    checkOptions(op, args, ['batchSize']);
    const batchSize = checkCount(op, 'batchSize', args.batchSize ?? 32);
    this.ensureInitialized();
    const outRow = this.outputShape.reduce((a, b) => a * b, 1);
    if (isDataset(x)) {
      const parts: Float32Array[] = [];
      for await (const batch of x.batches()) parts.push(this.inferArena.run(() => this.forward(batch.x, this.rng).values.slice()));
      const n = parts.reduce((a, p) => a + p.length, 0) / outRow;
      const out = new Float32Array(n * outRow);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return wrap(out, [n, ...this.outputShape] as unknown as Shape);
    }
    const n = this.checkX(op, x);
    const out = new Float32Array(n * outRow);
    for (let from = 0; from < n; from += batchSize) {
      const to = Math.min(n, from + batchSize);
      out.set(this.inferArena.run(() => this.forward(takeRows(x, from, to), this.rng).values), from * outRow);
    }
    return wrap(out, [n, ...this.outputShape] as unknown as Shape);
  }

  /** One optimizer step on one batch; returns that batch's loss and metrics. */
  async trainOnBatch(x: Tensor, y: Tensor, args: { sampleWeight?: Tensor | Float32Array; classWeight?: ClassWeight } = {}): Promise<Logs> {
    const op = 'trainOnBatch';
    this.requireCompiled(op);
    checkOptions(op, args, ['sampleWeight', 'classWeight']);
    const n = this.checkX(op, x);
    this.checkY(op, y, n);
    const w = this.sampleWeights(op, y, args.classWeight, args.sampleWeight);
    this.ensureInitialized();
    const { loss, yPred } = this.step(x, y.values, w, this.rng)!;
    for (const m of this.metrics) {
      m.reset();
      m.update(y.values, yPred.values, n, yPred.size / Math.max(n, 1));
    }
    return this.collectLogs(loss, '');
  }

  /** Copies of every weight in Keras order (per layer: kernel, bias; BatchNormalization: gamma, beta, movingMean, movingVariance). */
  getWeights(): Tensor[] {
    this.ensureInitialized();
    return this.params().map((p) => new Tensor(p.value.slice(), [...p.shape] as unknown as Shape));
  }

  /** Sets every weight, in `getWeights()` order. Validates all shapes first; on error nothing changes. */
  setWeights(weights: Tensor[]): void {
    const params = this.params();
    if (!Array.isArray(weights) || weights.length !== params.length) {
      throw new Error(`setWeights: the model has ${params.length} weights, got ${Array.isArray(weights) ? weights.length : String(weights)}`);
    }
    params.forEach((p, i) => {
      const w = weights[i];
      if (!(w instanceof Tensor) || w.shape.join() !== p.shape.join()) {
        throw new Error(`setWeights: weight ${i} (${p.name}) has shape [${p.shape.join(', ')}], got ${w instanceof Tensor ? `[${w.shape.join(', ')}]` : String(w)}`);
      }
      checkFinite('setWeights', `weight ${i} (${p.name})`, w.values);
    });
    params.forEach((p, i) => (p.value = weights[i].values.slice()));
    for (const layer of this.layers) layer.markInitialized();
  }

  /** Raw weight arrays (copies), for callbacks that snapshot and restore. */
  getWeightValues(): Float32Array[] {
    return this.params().map((p) => p.value.slice());
  }

  setWeightValues(values: Float32Array[]): void {
    checkWeightValues('setWeightValues', this.params(), values);
    this.params().forEach((p, i) => p.value.set(values[i]));
  }

  /**
   * Saves the model into directory `dir` as `model.json` + `weights.bin` in TensorFlow.js'
   * LayersModel format, atomically (see `saveModel` in src/io). Load it with `loadModel(dir)` or
   * TF.js' `tf.loadLayersModel`. The optimizer state is not saved.
   *
   * @example
   * await model.save('models/cats-vs-dogs');
   */
  async save(dir: string): Promise<void> {
    await saveModel(this, dir);
  }

  /** Number of weights (trainable and not), as the summary's "Total params". */
  countParams(): number {
    return this.layers.reduce((sum, l) => {
      const c = l.countParams();
      return sum + c.trainable + c.nonTrainable;
    }, 0);
  }

  /** The Keras summary table; printed unless `print` is false, and returned. */
  summary(args: { print?: boolean } = {}): string {
    const rows = this.layers.map((l) => {
      const { trainable, nonTrainable } = l.countParams();
      return [`${l.name} (${l.className})`, formatShape(l.outputShape ?? []), (trainable + nonTrainable).toLocaleString('en-US')];
    });
    const widths = [Math.max(29, ...rows.map((r) => r[0].length + 1)), Math.max(26, ...rows.map((r) => r[1].length + 1)), 10];
    const total = widths.reduce((a, b) => a + b, 0) + 3;
    const line = (cells: string[]): string => ' ' + cells.map((c, i) => c.padEnd(widths[i])).join(' ').trimEnd();
    let trainable = 0;
    let nonTrainable = 0;
    for (const l of this.layers) {
      const c = l.countParams();
      trainable += c.trainable;
      nonTrainable += c.nonTrainable;
    }
    const out = [
      `Model: "${this.name}"`,
      '_'.repeat(total),
      line(['Layer (type)', 'Output Shape', 'Param #']),
      '='.repeat(total),
      ...rows.flatMap((r, i) => [line(r), i < rows.length - 1 ? '' : null].filter((s): s is string => s !== null)),
      '='.repeat(total),
      `Total params: ${(trainable + nonTrainable).toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${nonTrainable.toLocaleString('en-US')}`,
      '_'.repeat(total),
    ].join('\n');
    if (args.print ?? true) console.log(out);
    return out;
  }
}

function tensorOfUnits(outputShape: readonly number[]): Tensor {
  const units = outputShape[outputShape.length - 1];
  return new Tensor(new Float32Array(units), [1, units]);
}

function copyTensor(t: Tensor): Tensor {
  return new Tensor(t.values.slice(), [...(t.shape as readonly number[])] as unknown as Shape);
}
