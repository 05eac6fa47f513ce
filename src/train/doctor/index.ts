// The training doctor: diagnostics computed during fit (see each module for its codes and
// thresholds). Sequential.fit makes one Doctor per call and calls its hooks; everything the
// doctor computes is a few reductions per step (see updates.ts and activations.ts).
import type { Layer, Param } from '../../layers/layer.js';
import { Tensor, type Shape } from '../../tensor.js';
import { checkBatchNormStatistics, DeadUnitMonitor, BN_SAMPLES } from './activations.js';
import { checkConstantPredictions, checkImbalance, checkOneClassValidation, PredictionStats, TargetStats, targetKind } from './classes.js';
import { checkNotLearning, checkOverfitting } from './loss-curve.js';
import { formatDiagnostic, num, type Diagnostic } from './types.js';
import { checkLearningRate, firstNonFinite, UpdateMonitor } from './updates.js';
import { writeOut } from '../../util/host.js';

export { formatDiagnostic, type Diagnostic, type DiagnosticCode } from './types.js';

/** What the doctor needs to know about the model and the fit call. */
export interface DoctorConfig {
  layers: readonly Layer[];
  lossName: string;
  /** True when the loss takes logits (binary threshold 0 instead of 0.5). */
  fromLogits: boolean;
  /** e.g. "SGD (learning rate 0.0001)". */
  optimizer: string;
  /** classWeight or sampleWeight was given. */
  weighted: boolean;
  /** Index of the last epoch fit will run. */
  lastEpoch: number;
  /** Print each diagnostic as a warning line when it is raised. */
  print: boolean;
  classNames?: readonly string[];
  /** Where the validation data came from, for messages ("validationSplit 0.2", "validationData"). */
  validationSource?: string;
}

/** Runs the diagnostics of one `fit` call; `fit` calls the hooks in the order they are listed. */
export class Doctor {
  readonly diagnostics: Diagnostic[] = [];
  /** Set when a non-finite value stopped training; the weights of the last finite step are back. */
  stopped = false;
  private readonly cfg: DoctorConfig;
  private readonly units: number;
  private readonly updates: UpdateMonitor;
  private readonly dead = new DeadUnitMonitor();
  private readonly train: TargetStats;
  private val: TargetStats;
  private preds: PredictionStats;
  private readonly raised = new Set<string>();
  private epoch = 0;
  private first = true;
  private step = 0;
  private losses: number[] = [];
  private unitOutputs: { layers: readonly Layer[]; out: Tensor }[] = [];
  private lastX: Tensor | null = null;
  private constantRun = 0;
  private readonly epochLoss: number[] = [];
  private readonly epochValLoss: number[] = [];

  constructor(cfg: DoctorConfig) {
    this.cfg = cfg;
    const last = cfg.layers[cfg.layers.length - 1];
    const shape = last.outputShape!;
    this.units = shape[shape.length - 1];
    const kind = targetKind(cfg.lossName, this.units);
    this.train = new TargetStats(kind, this.units);
    this.val = new TargetStats(kind, this.units);
    this.preds = new PredictionStats(kind, cfg.fromLogits ? 0 : 0.5);
    const params: { param: Param; layer: string }[] = cfg.layers.flatMap((l) => l.params().map((param) => ({ param, layer: l.name })));
    this.updates = new UpdateMonitor(params);
  }

  /** Before each epoch. */
  beginEpoch(epoch: number): void {
    this.epoch = epoch;
    this.step = 0;
    this.losses = [];
    this.updates.resetEpoch();
    this.val = new TargetStats(this.val.kind, this.units);
    this.preds = new PredictionStats(this.preds.kind, this.preds.threshold);
  }

  /** Step hook, before the forward pass: keeps a copy of the weights. */
  beginStep(): void {
    this.unitOutputs.length = 0;
    this.updates.snapshot();
  }

  /** Step hook, after each training unit's forward pass. */
  afterUnit(layers: readonly Layer[], out: Tensor): void {
    this.unitOutputs.push({ layers, out });
    this.dead.observe(layers, out);
  }

  /** Step hook, before the loss: false (and training stops) when the predictions are not finite. */
  outputFinite(yPred: Tensor): boolean {
    if (firstNonFinite(yPred.values) < 0) return true;
    const bad = this.unitOutputs.find((u) => firstNonFinite(u.out.values) >= 0) ?? this.unitOutputs[this.unitOutputs.length - 1];
    const names = bad.layers.map((l) => l.name);
    const index = firstNonFinite(bad.out.values);
    const weight = this.updates.firstNonFiniteWeight();
    const cause = weight
      ? `; weight ${weight.param.name} already holds ${weight.param.value[weight.index]} (flat index ${weight.index}) from the previous step's update`
      : '';
    return this.stop(weight?.layer ?? names[0], `the output of '${names.join(' → ')}' holds ${bad.out.values[index]} (flat index ${index}) in the forward pass${cause}`);
  }

  /** Step hook, after the loss: false (and training stops) when it is not finite. */
  lossFinite(loss: number): boolean {
    return Number.isFinite(loss) || this.stop(undefined, `the batch loss is ${loss} while the predictions are finite (logits too large for the loss)`);
  }

  /** Step hook, after the optimizer's update: estimates the update size (finiteness shows in the next step's output). */
  afterUpdate(): void {
    this.updates.measure();
  }

  private stop(layer: string | undefined, what: string, step = this.step): false {
    const restored = this.updates.restore();
    this.stopped = true;
    this.raise({
      code: 'non-finite',
      epoch: this.epoch,
      step,
      ...(layer ? { layer } : {}),
      message:
        `${what}. Training stopped here${restored ? ', with the weights of the last finite step' : ' (no finite copy of the weights was left)'}. Usual causes: a learning rate too high (see lr-too-high), ` +
        `inputs far from unit scale, or a loss on probabilities given logits (use fromLogits). Lower the learning rate tenfold and check the inputs.`,
    });
    return false;
  }

  /** After each finished training batch. */
  afterBatch(x: Tensor, y: Tensor, w: Float32Array | undefined, loss: number): void {
    this.losses.push(loss);
    if (this.first) this.train.add(y.values, w, y.shape[0]!);
    this.lastX = x;
    this.step++;
  }

  /** For each validation batch of the epoch. */
  observeValidation(y: Tensor, yPred: Tensor): void {
    const batch = y.shape[0]!;
    this.val.add(y.values, undefined, batch);
    this.preds.add(yPred.values, batch, yPred.size / Math.max(1, batch));
  }

  /**
   * At the end of an epoch: the epoch-level checks. `infer(prefix, x)` runs the layers `prefix` in
   * inference mode (for bn-statistics).
   */
  endEpoch(logs: Record<string, number>, infer: (prefix: readonly Layer[], x: Tensor) => Tensor): void {
    const epoch = this.epoch;
    const names = this.cfg.classNames;
    // The epoch's last update has no next forward pass to show a non-finite weight: check it in full.
    const weight = this.stopped ? null : this.updates.firstNonFiniteWeight();
    if (weight) this.stop(weight.layer, `weight ${weight.param.name} holds ${weight.param.value[weight.index]} (flat index ${weight.index}) after the epoch's last update`, this.step - 1);
    if (this.first) this.raise(checkImbalance(this.train, epoch, this.cfg.weighted, names));
    if (this.first && this.val.n > 0) this.raise(checkOneClassValidation(this.val, epoch, this.cfg.validationSource ?? 'validation', names));
    const baseline = this.train.baselineLoss();
    for (const d of checkLearningRate(this.updates, { epoch, first: this.first, losses: this.losses, optimizer: this.cfg.optimizer, baseline })) this.raise(d);
    this.raise(checkNotLearning(this.losses, baseline, epoch));
    if (this.preds.n > 0) {
      this.constantRun = this.preds.constantClass() >= 0 ? this.constantRun + 1 : 0;
      this.raise(checkConstantPredictions(this.preds, this.val, epoch, this.constantRun, epoch === this.cfg.lastEpoch, names));
    }
    if (logs.loss !== undefined && logs.val_loss !== undefined) {
      this.epochLoss.push(logs.loss);
      this.epochValLoss.push(logs.val_loss);
      this.raise(checkOverfitting(this.epochLoss, this.epochValLoss, epoch));
    }
    for (const d of this.dead.check(epoch)) this.raise(d);
    if (this.lastX && !this.stopped) {
      const n = Math.min(this.lastX.shape[0]!, BN_SAMPLES);
      const row = this.lastX.size / this.lastX.shape[0]!;
      const x = new Tensor(this.lastX.values.subarray(0, n * row), [n, ...(this.lastX.shape as readonly number[]).slice(1)] as unknown as Shape);
      for (const d of checkBatchNormStatistics(this.cfg.layers, x, epoch, infer)) this.raise(d);
    }
    this.first = false;
    this.lastX = null;
  }

  // Each code is raised at most once per layer (or once, for model-wide codes) per fit.
  private raise(d: Diagnostic | null): void {
    if (!d) return;
    const key = `${d.code}|${d.layer ?? ''}`;
    if (this.raised.has(key)) return;
    this.raised.add(key);
    this.diagnostics.push(d);
    if (this.cfg.print) writeOut(`${formatDiagnostic(d)}\n`);
  }
}

/** A one-line description of an optimizer for messages: "SGD (learning rate 0.0001, momentum 0.9)". */
export function describeOptimizer(opt: { className: string; learningRate: number; getConfig(): Record<string, unknown> }): string {
  const momentum = opt.getConfig().momentum;
  return `${opt.className} (learning rate ${num(opt.learningRate)}${typeof momentum === 'number' && momentum > 0 ? `, momentum ${momentum}` : ''})`;
}

/** What {@link createDoctor} reads of a model. */
export interface DiagnosableModel {
  readonly layers: readonly Layer[];
  loss: { name: string; getConfig(): Record<string, unknown> } | null;
  optimizer: { className: string; learningRate: number; getConfig(): Record<string, unknown> } | null;
}

/**
 * The doctor for one `fit` call of a compiled model, from fit's options.
 *
 * @example
 * const doctor = createDoctor(model, { validationSplit: 0.2 }, { epochs: 10, verbose: 1 });
 */
export function createDoctor(
  model: DiagnosableModel,
  args: { classWeight?: unknown; sampleWeight?: unknown; validationData?: unknown; validationSplit?: number },
  run: { epochs: number; verbose: number; classNames?: readonly string[] },
): Doctor {
  const loss = model.loss!;
  const split = args.validationSplit ?? 0;
  return new Doctor({
    layers: model.layers,
    lossName: loss.name,
    fromLogits: loss.getConfig().fromLogits === true,
    optimizer: describeOptimizer(model.optimizer!),
    weighted: args.classWeight !== undefined || args.sampleWeight !== undefined,
    lastEpoch: run.epochs - 1,
    print: run.verbose > 0,
    classNames: run.classNames,
    validationSource: args.validationData !== undefined ? 'validationData' : `validationSplit ${split}: the last ${Math.round(split * 100)} % of the arrays, taken before shuffling`,
  });
}
