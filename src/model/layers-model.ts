// The model base Sequential and the functional Model share: the training step around their
// forward and backward, fit (src/model/fit.ts), evaluate, predict, weights, save and summary.
import { OutputArena } from '../backend/arena.js';
import { getBackend } from '../backend/index.js';
import type { Logs } from '../train/callbacks.js';
import { saveModel } from '../io/save.js';
import { formatShape, type Layer, type Param } from '../layers/layer.js';
import { getLoss, type Loss } from '../train/losses.js';
import { getMetric, type Metric } from '../train/metrics/index.js';
import { getOptimizer, type Optimizer } from '../train/optimizers.js';
import { regularizationLoss } from '../train/regularizers.js';
import { formatLogs } from '../util/progress.js';
import { getGlobalRandom, Random } from '../util/random.js';
import { Tensor, wrap, type Shape } from '../tensor.js';
import type { Doctor } from '../train/doctor/index.js';
import { checkWeightValues, renameErrors } from '../util/errors.js';
import { checkSparseLabels, type ClassWeight } from '../train/label-checks.js';
import { fitModel, type FitHost } from './fit.js';
import {
  History,
  checkCount,
  checkFinite,
  checkOptions,
  copyTensor,
  isDataset,
  sampleWeights,
  takeRows,
  type BatchDataset,
  type CompileArgs,
  type FitArgs,
} from './data-args.js';


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
  loss: Loss | null = null;
  metrics: Metric[] = [];
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

  /** Inference forward of a batch (the arena of the caller holds the result). */
  protected abstract forward(x: Tensor, rng: Random): Tensor;

  /** Training forward of a batch, saving what {@link backward} needs; calls the doctor's per-unit hook. */
  protected abstract trainForward(x: Tensor, rng: Random, doctor: Doctor | null | undefined): Tensor;

  /** Back-propagates the loss gradient of the last {@link trainForward}, adding into every trainable weight's grad. */
  protected abstract backward(dy: Tensor): void;

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

  /** One optimizer step on a batch; returns the batch loss and predictions, or null when the doctor stopped training. */
  protected step(x: Tensor, y: Float32Array, sampleWeight: Float32Array | undefined, rng: Random, doctor?: Doctor | null): { loss: number; yPred: Tensor } | null {
    const { optimizer, loss } = this.requireCompiled('fit');
    const params = this.trainableParams();
    // yPred stays valid until the next step of this arena (the caller updates metrics with it).
    this.holdWeights(true);
    const backend = getBackend();
    return this.trainArena.run(() => backend.scope(() => {
      for (const p of params) p.grad.fill(0);
      doctor?.beginStep();
      // The first layer reads the batch forward and backward: the gpu backend uploads it once.
      const yPred = this.trainForward(wrap(backend.hold(x.values), x.shape), rng, doctor);
      if (doctor && !doctor.outputFinite(yPred)) return null;
      const batch = yPred.shape[0]!;
      const units = yPred.size / Math.max(batch, 1);
      const result = loss.compute(y, yPred.values, batch, units, sampleWeight);
      if (doctor && !doctor.lossFinite(result.loss)) return null;
      this.backward(wrap(result.dyPred, yPred.shape));
      // Keras adds the weight penalties (before this step's update) to the loss it reports.
      const penalty = regularizationLoss(params, true);
      optimizer.apply(params);
      doctor?.afterUpdate();
      return { loss: result.loss + penalty, yPred };
    }));
  }

  /**
   * Hands the weights (and, for training, the gradients) to the active backend's `hold`: the gpu
   * backend keeps them on its device across steps; the CPU backends bring a device copy back.
   */
  protected holdWeights(grads: boolean): void {
    const backend = getBackend();
    for (const p of this.params()) {
      p.value = backend.hold(p.value);
      if (grads && p.trainable) p.grad = backend.hold(p.grad);
    }
  }

  /**
   * Trains the model. Accepts tensors (`fit(x, y, args)`) or a streaming dataset (`fit(ds, args)`).
   * Metrics stream over the whole epoch and are reset per epoch and separately for validation.
   */
  async fit(x: Tensor, y: Tensor, args?: FitArgs): Promise<History>;
  async fit(dataset: BatchDataset, args?: FitArgs): Promise<History>;
  async fit(xOrData: Tensor | BatchDataset, yOrArgs?: Tensor | FitArgs, maybeArgs?: FitArgs): Promise<History> {
    return fitModel(this.fitHost(), xOrData, yOrArgs, maybeArgs);
  }

  /** The private steps the fit loop (src/model/fit.ts) drives. */
  private fitHost(): FitHost {
    return {
      model: this,
      rng: this.rng,
      requireCompiled: (op) => this.requireCompiled(op),
      checkX: (op, x) => this.checkX(op, x),
      checkY: (op, y, n) => this.checkY(op, y, n),
      ensureInitialized: (rng) => this.ensureInitialized(rng),
      step: (x, y, w, rng, doctor) => this.step(x, y, w, rng, doctor),
      collectLogs: (loss, prefix) => this.collectLogs(loss, prefix),
      evaluate: (data, batchSize, prefix, doctor) => this.evaluateInternal(data, batchSize, prefix, doctor),
      probe: (prefix, x) => this.inferArena.run(() => copyTensor(this.forwardPrefix(prefix, x))),
      clearTrainArena: () => this.trainArena.clear(),
    };
  }

  /** Labels are class indices (a sparse loss) rather than one-hot or 0/1 values. */
  private get sparseLabels(): boolean {
    return !!this.loss?.name.startsWith('sparse');
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
    const backend = getBackend();
    // In a scope: the device arrays a batch's forward made are freed when the batch is consumed, not by GC.
    const consume = (xb: Tensor, yb: Tensor): void => this.inferArena.run(() => backend.scope(() => {
      const yPred = this.forward(xb, this.rng);
      const b = xb.shape[0]!;
      const units = yPred.size / Math.max(b, 1);
      lossSum += (loss.compute(yb.values, yPred.values, b, units).loss + penalty) * b;
      seen += b;
      for (const m of this.metrics) m.update(yb.values, yPred.values, b, units);
      doctor?.observeValidation(yb, yPred);
    }));
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
    const backend = getBackend();
    // Each batch in a scope: the device arrays its forward made are freed once its outputs are copied out.
    const outputs = (xb: Tensor): Float32Array => this.inferArena.run(() => backend.scope(() => Float32Array.from(this.forward(xb, this.rng).values)));
    if (isDataset(x)) {
      const parts: Float32Array[] = [];
      for await (const batch of x.batches()) parts.push(outputs(batch.x));
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
      out.set(outputs(takeRows(x, from, to)), from * outRow);
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
    const w = sampleWeights(op, y, args.classWeight, args.sampleWeight, { sparse: this.sparseLabels, units: this.outputShape[this.outputShape.length - 1] });
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
    const { header, rows } = this.summaryRows();
    const minWidths = [29, 26, 10, 20];
    const widths = header.map((_, c) => Math.max(minWidths[c], ...rows.flatMap((r) => r[c].split('\n').map((s) => s.length + 1))));
    if (header.length === 3) widths[2] = 10;
    const total = widths.reduce((a, b) => a + b, 0) + header.length;
    const line = (cells: string[]): string[] => {
      const parts = cells.map((c) => c.split('\n'));
      const height = Math.max(...parts.map((p) => p.length));
      return Array.from({ length: height }, (_, k) => ' ' + parts.map((p, i) => (p[k] ?? '').padEnd(widths[i])).join(' ').trimEnd());
    };
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
      ...line(header),
      '='.repeat(total),
      ...rows.flatMap((r, i) => [...line(r), ...(i < rows.length - 1 ? [''] : [])]),
      '='.repeat(total),
      `Total params: ${(trainable + nonTrainable).toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${nonTrainable.toLocaleString('en-US')}`,
      '_'.repeat(total),
    ].join('\n');
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
    if (typeof nameOrIndex === 'number') {
      const layer = Number.isInteger(nameOrIndex) ? this.layers[nameOrIndex] : undefined;
      if (!layer) throw new Error(`getLayer: index ${nameOrIndex} is out of range; model '${this.name}' has ${this.layers.length} layers`);
      return layer;
    }
    const layer = this.layers.find((l) => l.name === nameOrIndex);
    if (!layer) throw new Error(`getLayer: model '${this.name}' has no layer named ${JSON.stringify(nameOrIndex)} (layers: ${this.layers.map((l) => l.name).join(', ')})`);
    return layer;
  }
}
