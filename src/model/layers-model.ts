// The model base Sequential and the functional Model share: the training step around their
// forward and backward, fit (src/model/fit.ts), evaluate, predict, weights, save and summary.
import { OutputArena } from '../backend/arena.js';
import { getBackend } from '../backend/index.js';
import type { Logs } from '../train/callbacks.js';
import { saveModel } from '../io/save.js';
import type { Layer, Param } from '../layers/layer.js';
import { endGradientStep, zeroGradients } from '../layers/kernel-layer.js';
import { weightValues } from '../layers/weight.js';
import type { Loss } from '../train/losses.js';
import type { Metric } from '../train/metrics/index.js';
import { getOptimizer, type Optimizer } from '../train/optimizers.js';
import { regularizationLoss } from '../train/regularizers.js';
import { formatLogs } from '../util/progress.js';
import { getGlobalRandom, Random } from '../util/random.js';
import { Tensor, type Shape } from '../tensor.js';
import type { Doctor } from '../train/doctor/index.js';
import { checkWeightValues, renameErrors } from '../util/errors.js';
import type { ClassWeight } from '../train/label-checks.js';
import { fitModel, type FitHost } from './fit.js';
import { batchLists, checkInputs, checkTargets, heldInputs, testsHeld, checkWeightTensors, outputLogs, outputSpecs, portList, updateOutputMetrics, weightedLoss, type ModelData, type Ports } from './model-io.js';
import { findLayer, joinRows, summaryTable } from './summary.js';
import { ModelLayer } from './model-layer.js';
import type { SymbolicTensor } from '../layers/symbolic.js';
import { History, checkCount, checkOptions, copyTensor, isDataset, sampleWeights, takeRows, type BatchDataset, type CompileArgs, type FitArgs } from './data-args.js';

/** What `predict` resolves to: one tensor for a one-output model, a list in output order with several. */
export type Prediction = Tensor | Tensor[];

/**
 * What Sequential and the functional Model share: compile, fit, evaluate, predict, trainOnBatch,
 * weights, save and summary over `layers`. Subclasses say how a batch flows through them
 * (forward in inference and in training, backward) and what the model's input and output are.
 * TF.js' class name; exported as `LayersModel`.
 */
export abstract class LayersModel {
  abstract readonly name: string;
  /** Every layer, in Keras' `model.layers` order. */
  abstract readonly layers: Layer[];
  /** Set by callbacks (EarlyStopping) to end `fit` after the current epoch. */
  stopTraining = false;
  optimizer: Optimizer | null = null;
  /** The loss of the first output (the only one, mostly); `outputLosses` has one per output. */
  loss: Loss | null = null;
  /** The metrics of the first output; `outputMetrics` has them per output. */
  metrics: Metric[] = [];
  /** One loss per output, in output order (set by compile). */
  outputLosses: Loss[] = [];
  /** The weight of each output's loss in the reported (and minimized) loss. */
  lossWeights: number[] = [];
  /** Each output's metrics. */
  outputMetrics: Metric[][] = [];
  protected rng: Random = getGlobalRandom();
  /**
   * Buffers of the arrays one training step (forward, backward, update) or one inference forward
   * computes: the next step reuses them instead of paging in fresh memory (src/backend/arena.ts).
   * Emptied when fit, evaluate and predict return; trainOnBatch keeps its buffers for the next call.
   */
  private trainArena = new OutputArena();
  protected inferArena = new OutputArena();

  /** Sample shape the model takes, without the batch axis. */
  abstract get inputShape(): readonly number[];

  /** Sample shape the model returns, without the batch axis. */
  abstract get outputShape(): readonly number[];

  /** Sample shape of every input, in input order. */
  get inputShapes(): readonly (readonly number[])[] {
    return [this.inputShape];
  }

  /** Sample shape of every output, in output order. */
  get outputShapes(): readonly (readonly number[])[] {
    return [this.outputShape];
  }

  /** The inputs' names (the keys of a dict x), as TF.js' `inputNames`. */
  get inputNames(): string[] {
    return [`${this.layers[0]?.name ?? this.name}_input`];
  }

  /** The outputs' names (the keys of a dict y, and the prefix of per-output logs), as TF.js' `outputNames`. */
  get outputNames(): string[] {
    return [this.layers[this.layers.length - 1]?.name ?? this.name];
  }

  /** Inference forward of a batch, one tensor per input; one per output (the arena of the caller holds them). */
  protected abstract forward(xs: readonly Tensor[], rng: Random): Tensor[];

  /** Training forward of a batch, saving what {@link backward} needs; calls the doctor's per-unit hook. */
  protected abstract trainForward(xs: readonly Tensor[], rng: Random, doctor: Doctor | null | undefined): Tensor[];

  /**
   * Back-propagates the loss gradients (one per output) of the last {@link trainForward}, adding
   * into every trainable weight's grad; returns a gradient per input when `needInputGrads`
   * (the model nested in another), else nulls.
   */
  protected abstract backward(dys: readonly Tensor[], needInputGrads: boolean): (Tensor | null)[];

  /** 'Sequential' or 'Functional': the class_name of the saved topology, and of the layer the model is in another model. */
  abstract readonly topologyClass: string;

  private asLayer: ModelLayer | null = null;

  /**
   * Uses the model as a layer of another model (Keras' nested models): on symbolic tensors, adds
   * one layer named as this model to the outer graph; on Tensors, runs the model at once. A model
   * can be nested once.
   *
   * @example
   * const y = head.apply(base.apply(input({ shape: [28, 28, 1] })));
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor;
  apply(inputs: Tensor | readonly Tensor[]): Tensor;
  apply(inputs: SymbolicTensor | Tensor | readonly (SymbolicTensor | Tensor)[]): SymbolicTensor | Tensor {
    return this.layer().apply(inputs as SymbolicTensor);
  }

  /** The layer this model is inside another model (made once). */
  layer(): ModelLayer {
    return (this.asLayer ??= new ModelLayer(this));
  }

  /**
   * False freezes every layer of the model (Keras' fine-tuning idiom `base.trainable = false`:
   * no updates, BatchNormalization in inference mode); true unfreezes them all. True when any
   * layer with weights is trainable (or the model has no weights).
   */
  get trainable(): boolean {
    const weighted = this.layers.filter((l) => l.params().length > 0);
    return weighted.length === 0 || weighted.some((l) => l.trainable);
  }

  set trainable(value: boolean) {
    if (typeof value !== 'boolean') throw new Error(`${this.topologyClass} '${this.name}': trainable must be true or false, got ${JSON.stringify(value)}`);
    for (const l of this.layers) l.trainable = value;
  }

  /** The forward of the model as a layer of another model. */
  runAsLayer(xs: readonly Tensor[], training: boolean, rng: Random): Tensor[] {
    return training ? this.trainForward(xs, rng, null) : this.forward(xs, rng);
  }

  /** The backward of the model as a layer of another model: a gradient per input when asked. */
  backAsLayer(dy: Tensor, needInputGrads: boolean): (Tensor | null)[] {
    return this.backward([dy], needInputGrads);
  }

  /** Inference forward up to the last of `layers` (the doctor's probes). */
  protected abstract forwardPrefix(layers: readonly Layer[], x: Tensor): Tensor;

  /** The rows of the summary table after the header, one per layer: its cells (a cell may hold several lines). */
  protected abstract summaryRows(): { header: string[]; rows: string[][] };

  /** The model's topology in Keras' LayersModel form, as `model.json` holds it (`class_name`, `config`). */
  abstract toKerasTopology(): { class_name: string; config: Record<string, unknown> };

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

  /**
   * Sets the loss, optimizer and metrics for training. With several outputs, `loss` is one for
   * all, a list in output order or a dict by output name; `lossWeights` weighs each output's
   * loss in the total; `metrics` is one list for all outputs, a list of lists or a dict. Unknown names throw.
   *
   * @example
   * m.compile({ optimizer: 'adam', loss: { label: 'categoricalCrossentropy', box: 'meanSquaredError' }, lossWeights: { box: 0.5 } });
   */
  compile(args: CompileArgs): void {
    if (!args || typeof args !== 'object') throw new Error('compile: expected { optimizer, loss, metrics }');
    checkOptions('compile', args, ['optimizer', 'loss', 'lossWeights', 'metrics']);
    if (this.layers.length === 0) throw new Error(`compile: the model '${this.name}' has no layers`);
    const units = this.outputShapes.map((s) => s[s.length - 1]);
    // The lookups name themselves (getLoss: …); the user called compile.
    const { optimizer, specs } = renameErrors('compile', () => ({
      optimizer: getOptimizer(args.optimizer),
      specs: outputSpecs(this.outputNames, units, args.loss, args.lossWeights, args.metrics),
    }));
    this.optimizer = optimizer;
    this.outputLosses = specs.losses;
    this.lossWeights = specs.weights;
    this.outputMetrics = specs.metrics;
    this.loss = specs.losses[0];
    this.metrics = specs.metrics[0];
  }

  private requireCompiled(op: string): { optimizer: Optimizer; loss: Loss } {
    if (!this.optimizer || !this.loss) throw new Error(`${op}: call compile({ optimizer, loss }) before ${op}`);
    return { optimizer: this.optimizer, loss: this.loss };
  }

  private ports(kind: 'input' | 'output'): Ports {
    return { kind, names: kind === 'input' ? this.inputNames : this.outputNames };
  }

  /** x as one tensor per input; y as one per output (a tensor, a list, or a dict by name). */
  private lists(op: string, x: unknown, y?: unknown): { xs: Tensor[]; ys: Tensor[] } {
    return { xs: portList(op, 'x', x, this.ports('input')), ys: y === undefined ? [] : portList(op, 'y', y, this.ports('output')) };
  }

  /** Validates every input against the model's input shapes (and, with `finite`, its values); returns the sample count. */
  private checkX(op: string, xs: readonly Tensor[], finite = true): number {
    return checkInputs(op, xs, this.inputShapes, this.inputNames, finite);
  }

  /** Validates every output's y against x's sample count and the output's units. */
  private checkY(op: string, ys: readonly Tensor[], n: number): void {
    checkTargets(op, ys, n, this.outputShapes, this.outputNames, this.outputLosses);
  }

  /** Each output's batch loss, weighted into the total; the gradients scaled by the weights. */
  private lossOf(ys: readonly Float32Array[], yPreds: readonly Tensor[], sampleWeight?: Float32Array): { loss: number; losses: number[]; dys: Tensor[] } {
    return weightedLoss(this.outputLosses, this.lossWeights, ys, yPreds, sampleWeight);
  }

  /**
   * One optimizer step on a batch; returns the batch loss (total and per output) and predictions,
   * or null when the doctor stopped training. With `check` (the caller's op), xs' values are
   * tested as the step holds them (see model-io's heldInputs), before any weight changes.
   */
  protected step(
    xs: readonly Tensor[], ys: readonly Float32Array[], sampleWeight: Float32Array | undefined, rng: Random, doctor?: Doctor | null, check?: string,
  ): { loss: number; losses: number[]; yPreds: Tensor[] } | null {
    const { optimizer } = this.requireCompiled('fit');
    const params = this.trainableParams();
    // yPreds stay valid until the next step of this arena (the caller updates metrics with them).
    this.holdWeights(true);
    const backend = getBackend();
    return this.trainArena.run(() => backend.scope(() => {
      const inputs = heldInputs(xs, this.inputNames, check);
      zeroGradients(params);
      let dys: Tensor[], loss: number, losses: number[], yPreds: Tensor[];
      try {
        doctor?.beginStep();
        yPreds = this.trainForward(inputs, rng, doctor);
        if (doctor && !doctor.outputFinite(yPreds[0])) return null;
        ({ loss, losses, dys } = this.lossOf(ys, yPreds, sampleWeight));
        if (doctor && !doctor.lossFinite(loss)) return null;
        this.backward(dys, false);
      } finally {
        endGradientStep(params);
      }
      // Keras adds the weight penalties (before this step's update) to the loss it reports.
      const penalty = regularizationLoss(params, true);
      optimizer.apply(params);
      doctor?.afterUpdate();
      return { loss: loss + penalty, losses, yPreds };
    }));
  }

  /**
   * Hands the weights (and, for training, the gradients) to the active backend's `hold`: the gpu
   * backend keeps them on its device across steps; the CPU backends bring a device copy back.
   */
  protected holdWeights(grads: boolean): void {
    const backend = getBackend();
    for (const p of this.params()) {
      // Assigned only when hold hands back another array: an assignment counts as a change of the
      // weight (src/layers/weight.ts) and would drop what a backend prepared from it.
      const value = weightValues(p);
      const held = backend.hold(value);
      if (held !== value) p.value = held;
      if (grads && p.trainable) p.grad = backend.hold(p.grad);
    }
  }

  /**
   * Trains the model. Accepts tensors (`fit(x, y, args)`) or a streaming dataset (`fit(ds, args)`).
   * Metrics stream over the whole epoch and are reset per epoch and separately for validation.
   */
  async fit(x: ModelData, y: ModelData, args?: FitArgs): Promise<History>;
  async fit(dataset: BatchDataset, args?: FitArgs): Promise<History>;
  async fit(xOrData: ModelData | BatchDataset, yOrArgs?: ModelData | FitArgs, maybeArgs?: FitArgs): Promise<History> {
    return fitModel(this.fitHost(), xOrData, yOrArgs, maybeArgs);
  }

  /** The private steps the fit loop (src/model/fit.ts) drives. */
  private fitHost(): FitHost {
    return {
      model: this,
      rng: this.rng,
      requireCompiled: (op) => this.requireCompiled(op),
      lists: (op, x, y) => this.lists(op, x, y),
      batch: (op, b) => batchLists(op, b, this.ports('input'), this.ports('output')),
      checkX: (op, xs) => this.checkX(op, xs),
      checkY: (op, ys, n) => this.checkY(op, ys, n),
      ensureInitialized: (rng) => this.ensureInitialized(rng),
      step: (xs, ys, w, rng, doctor) => this.step(xs, ys, w, rng, doctor),
      collectLogs: (loss, losses, prefix) => this.collectLogs(loss, losses, prefix),
      evaluate: (data, batchSize, prefix, doctor) => this.evaluateInternal(data, batchSize, prefix, doctor),
      probe: (prefix, x) => this.inferArena.run(() => copyTensor(this.forwardPrefix(prefix, x))),
      clearTrainArena: () => this.trainArena.clear(),
    };
  }

  /** Labels are class indices (a sparse loss) rather than one-hot or 0/1 values. */
  private get sparseLabels(): boolean {
    return !!this.loss?.name.startsWith('sparse');
  }

  private collectLogs(loss: number, losses: readonly number[], prefix: string): Logs {
    return outputLogs(loss, losses, prefix, this.outputNames, this.outputMetrics);
  }

  private updateMetrics(ys: readonly Tensor[], yPreds: readonly Tensor[], n: number): void {
    updateOutputMetrics(this.outputMetrics, ys, yPreds, n);
  }

  private async evaluateInternal(data: { xs: Tensor[]; ys: Tensor[] } | BatchDataset, batchSize: number, prefix: string, doctor?: Doctor | null): Promise<Logs> {
    this.requireCompiled('evaluate');
    getBackend().wake?.();
    for (const ms of this.outputMetrics) for (const m of ms) m.reset();
    let lossSum = 0;
    const lossSums = this.outputNames.map(() => 0);
    let seen = 0;
    // Keras' test step adds the weight penalties too, so val_loss is comparable to loss.
    const penalty = regularizationLoss(this.params(), false);
    // In a scope: the device arrays a batch's forward made are freed when the batch is consumed, not by GC.
    const consume = (xs: Tensor[], ys: Tensor[]): void => this.inferArena.run(() => getBackend().scope(() => {
      const yPreds = this.forward(xs, this.rng);
      const b = xs[0].shape[0]!;
      const { loss, losses } = this.lossOf(ys.map((y) => y.values), yPreds);
      lossSum += (loss + penalty) * b;
      losses.forEach((l, i) => (lossSums[i] += l * b));
      seen += b;
      this.updateMetrics(ys, yPreds, b);
      doctor?.observeValidation(ys[0], yPreds[0]);
    }));
    if (isDataset(data)) {
      for await (const batch of data.batches()) {
        const { xs, ys } = batchLists('evaluate', batch, this.ports('input'), this.ports('output'));
        this.checkY('evaluate', ys, this.checkX('evaluate', xs));
        consume(xs, ys);
      }
    } else {
      const n = data.xs[0].shape[0]!;
      for (let from = 0; from < n; from += batchSize) {
        const to = Math.min(n, from + batchSize);
        consume(data.xs.map((x) => takeRows(x, from, to)), data.ys.map((y) => takeRows(y, from, to)));
      }
    }
    return this.collectLogs(seen ? lossSum / seen : NaN, lossSums.map((l) => (seen ? l / seen : NaN)), prefix);
  }

  /** Loss and metrics over the data, streamed over all batches (x and y: a tensor, a list or a dict per input/output). */
  async evaluate(x: ModelData, y: ModelData, args?: { batchSize?: number; verbose?: 0 | 1 }): Promise<Logs>;
  async evaluate(dataset: BatchDataset, args?: { batchSize?: number; verbose?: 0 | 1 }): Promise<Logs>;
  async evaluate(xOrData: ModelData | BatchDataset, yOrArgs?: ModelData | { batchSize?: number; verbose?: 0 | 1 }, maybeArgs?: { batchSize?: number; verbose?: 0 | 1 }): Promise<Logs> {
    const op = 'evaluate';
    this.requireCompiled(op);
    const dataMode = isDataset(xOrData);
    const args = (dataMode ? (yOrArgs as { batchSize?: number }) : maybeArgs) ?? {};
    checkOptions(op, args, ['batchSize', 'verbose']);
    const batchSize = checkCount(op, 'batchSize', args.batchSize ?? 32);
    this.ensureInitialized();
    if (dataMode) return this.evaluateInternal(xOrData as BatchDataset, batchSize, '');
    const { xs, ys } = this.lists(op, xOrData, yOrArgs);
    this.checkY(op, ys, this.checkX(op, xs));
    const logs = await this.evaluateInternal({ xs, ys }, batchSize, '');
    if ((args as { verbose?: number }).verbose) console.log(formatLogs(logs));
    return logs;
  }

  /**
   * Outputs for every sample, in inference mode, computed batch by batch: one tensor for a
   * model with one output, a list in output order with several (TF.js' `predict`).
   *
   * @example
   * const [label, box] = (await m.predict([images, sizes])) as Tensor[];
   */
  async predict(x: ModelData | BatchDataset, args: { batchSize?: number } = {}): Promise<Prediction> {
    const outs = await this.predictOutputs(x, args);
    return (outs.length === 1 ? outs[0] : outs) as Prediction;
  }

  /** Every output's predictions, as a list in output order (one entry for a one-output model). */
  async predictOutputs(x: ModelData | BatchDataset, args: { batchSize?: number } = {}): Promise<Tensor[]> {
    const op = 'predict';
    checkOptions(op, args, ['batchSize']);
    const batchSize = checkCount(op, 'batchSize', args.batchSize ?? 32);
    this.ensureInitialized();
    getBackend().wake?.();
    const rows = this.outputShapes.map((s) => s.reduce((a, b) => a * b, 1));
    const parts: Float32Array[][] = rows.map(() => []);
    // Where the backend tests a batch as it holds it, each batch is tested there, not x up front.
    const held = testsHeld();
    // A batch's device arrays are freed once its outputs are copied out (a scope), not by GC.
    const keep = (xs: Tensor[], from: number) => this.inferArena.run(() => getBackend().scope(() => {
      this.forward(held ? heldInputs(xs, this.inputNames, op, from) : xs, this.rng).forEach((y, i) => parts[i].push(y.values.slice()));
    }));
    if (isDataset(x)) {
      for await (const batch of x.batches()) {
        const xs = portList(op, 'the batch\'s xs', 'xs' in batch ? (batch as { xs: unknown }).xs : batch.x, this.ports('input'));
        this.checkX(op, xs, !held);
        keep(xs, 0);
      }
    } else {
      const xs = this.lists(op, x).xs;
      const n = this.checkX(op, xs, !held);
      for (let from = 0; from < n; from += batchSize) keep(xs.map((t) => takeRows(t, from, Math.min(n, from + batchSize))), from);
    }
    return parts.map((ps, i) => joinRows(ps, rows[i], this.outputShapes[i]));
  }

  /** One optimizer step on one batch; returns that batch's loss and metrics. */
  async trainOnBatch(x: ModelData, y: ModelData, args: { sampleWeight?: Tensor | Float32Array; classWeight?: ClassWeight } = {}): Promise<Logs> {
    const op = 'trainOnBatch';
    this.requireCompiled(op);
    getBackend().wake?.();
    checkOptions(op, args, ['sampleWeight', 'classWeight']);
    const { xs, ys } = this.lists(op, x, y);
    const held = testsHeld();
    const n = this.checkX(op, xs, !held);
    this.checkY(op, ys, n);
    if (ys.length > 1 && (args.sampleWeight !== undefined || args.classWeight !== undefined)) {
      throw new Error(`${op}: sampleWeight and classWeight are not supported for a model with several outputs`);
    }
    const units = this.outputShapes[0][this.outputShapes[0].length - 1];
    const w = sampleWeights(op, ys[0], args.classWeight, args.sampleWeight, { sparse: this.sparseLabels, units });
    this.ensureInitialized();
    const { loss, losses, yPreds } = this.step(xs, ys.map((t) => t.values), w, this.rng, null, held ? op : undefined)!;
    for (const ms of this.outputMetrics) for (const m of ms) m.reset();
    this.updateMetrics(ys, yPreds, n);
    return this.collectLogs(loss, losses, '');
  }

  /** Copies of every weight in Keras order (per layer: kernel, bias; BatchNormalization: gamma, beta, movingMean, movingVariance). */
  getWeights(): Tensor[] {
    this.ensureInitialized();
    return this.params().map((p) => new Tensor(p.value.slice(), [...p.shape] as unknown as Shape));
  }

  /** Sets every weight, in `getWeights()` order. Validates all shapes first; on error nothing changes. */
  setWeights(weights: Tensor[]): void {
    const params = this.params();
    checkWeightTensors('setWeights', params, weights);
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
    const out = summaryTable(this.name, this.summaryRows(), this.layers);
    if (args.print ?? true) console.log(out);
    return out;
  }

  /**
   * The layer named `name`, or at position `index` of `layers`. Throws naming what was asked for.
   *
   * @example
   * model.getLayer('conv2d').trainable = false;
   */
  getLayer(nameOrIndex: string | number): Layer {
    return findLayer(this.name, this.layers, nameOrIndex);
  }
}
