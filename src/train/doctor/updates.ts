// Update-size and finiteness checks: lr-too-low, lr-too-high, non-finite.
//
// Every step the weights are copied before the forward pass (a native copy into two buffers kept
// for the whole fit, alternating, so the copy from one step earlier is always there too). After
// the optimizer's update, ‖Δw‖/‖w‖ of every kernel is estimated on a fixed strided sample of its
// elements against the copy: a full pass over the seed model's 790k weights in JavaScript cost
// more than the 2 % budget of a step. A weight that stops being finite shows in the next step's
// forward output (every kernel, bias and gamma element enters some output, and NaN·0 is NaN), and
// the last update of an epoch is checked in full at the epoch's end; fit then stops with the
// newest copy that is entirely finite.
import type { Param } from '../../layers/layer.js';
import { median, num, type Diagnostic } from './types.js';
/**
 * lr-too-low, first condition: a kernel's median ‖Δw‖/‖w‖ per step over the first epoch below
 * this. The usual range is around 1e-3 (updates a thousandth of the weights per step); 1e-4 is a
 * tenth of it, where a few hundred steps move the weights by a few per cent.
 */
export const LOW_RATIO = 1e-4;
/** lr-too-low, second condition: more than this share of the kernels that moved at all are below {@link LOW_RATIO}. */
export const LOW_SHARE = 0.5;
/**
 * lr-too-low, third condition: the loss is not falling: the mean batch loss of the epoch's last
 * third is less than this fraction below that of its first third, or still no better than the
 * constant predictor's loss (see loss-curve.ts; batch losses with Dropout are noisy enough to
 * drop 5 % by chance while the model learns nothing). A learning rate that is small but works
 * shows a loss falling below that baseline, and is left alone.
 */
export const MIN_LOSS_DROP = 0.05;
/**
 * lr-too-high: a kernel's median ‖Δw‖/‖w‖ per step over an epoch at or above this: a hundred
 * times the usual 1e-3, each step moving the weights by a tenth of their size.
 */
export const HIGH_RATIO = 0.1;
/**
 * lr-too-high, single-step form: some step changed a kernel by at least its own size. A learning
 * rate that throws the weights that far often leaves ReLUs dead and the gradients zero, so the
 * median of the later steps can look small.
 */
export const HIGH_RATIO_ONCE = 1;
/** lr-too-high, loss form: the epoch's last third averages at least this multiple of its first third. */
export const LOSS_GROWTH = 1.5;

/** Elements per kernel that the update ratio is estimated on (evenly strided). */
export const RATIO_SAMPLE = 2048;

interface Tracked {
  param: Param;
  layer: string;
  kernel: boolean;
  copies: [Float32Array, Float32Array];
}

/** Index of the first value that is NaN or ±Infinity, or -1. */
export function firstNonFinite(values: Float32Array): number {
  // v·0 is 0 for finite v and NaN otherwise: one sum over the array decides, then find it.
  let s0 = 0, s1 = 0;
  const n = values.length;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    s0 += values[i] * 0;
    s1 += values[i + 1] * 0;
  }
  for (; i < n; i++) s0 += values[i] * 0;
  if (s0 + s1 === 0) return -1;
  for (let j = 0; j < n; j++) if (!Number.isFinite(values[j])) return j;
  return -1;
}

/** Mean of `values[from, to)`. */
function mean(values: readonly number[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i];
  return s / Math.max(1, to - from);
}

/** Mean batch loss of the first and the last third of an epoch. */
export function lossThirds(losses: readonly number[]): { first: number; last: number } {
  const third = Math.max(1, Math.floor(losses.length / 3));
  return { first: mean(losses, 0, third), last: mean(losses, losses.length - third, losses.length) };
}

/** Copies the weights before each step, estimates each update, and restores the last finite weights. */
export class UpdateMonitor {
  private readonly tracked: Tracked[];
  /** ‖Δw‖/‖w‖ of every step of the current epoch, per kernel name. */
  private ratios = new Map<string, number[]>();
  /** Which of the two copies the last snapshot wrote; -1 before the first. */
  private current = -1;
  private snapshots = 0;

  constructor(params: readonly { param: Param; layer: string }[]) {
    this.tracked = params.map(({ param, layer }) => ({
      param, layer, kernel: param.trainable && /\/(\w+_)?kernel$/.test(param.name), copies: [new Float32Array(0), new Float32Array(0)],
    }));
  }

  /** Copies every weight (called before the forward pass, which moves the BN statistics). */
  snapshot(): void {
    this.current = this.current === 0 ? 1 : 0;
    this.snapshots++;
    for (const t of this.tracked) {
      const n = t.param.value.length;
      if (t.copies[this.current].length !== n) t.copies[this.current] = new Float32Array(n);
      t.copies[this.current].set(t.param.value);
    }
  }

  /** The first weight holding a non-finite value now, or null (a full pass: for rare checks). */
  firstNonFiniteWeight(): { param: Param; layer: string; index: number } | null {
    for (const t of this.tracked) {
      const index = firstNonFinite(t.param.value);
      if (index >= 0) return { param: t.param, layer: t.layer, index };
    }
    return null;
  }

  /**
   * Puts back the newest copy whose every value is finite (the one taken before this step, or
   * the one before it when the previous update already broke the weights). False if neither is.
   */
  restore(): boolean {
    const order = [this.current, 1 - this.current].slice(0, Math.min(2, this.snapshots));
    for (const k of order) {
      if (this.tracked.some((t) => firstNonFinite(t.copies[k]) >= 0)) continue;
      for (const t of this.tracked) t.param.value.set(t.copies[k]);
      return true;
    }
    return false;
  }

  /** After the update: records each kernel's ‖Δw‖/‖w‖, estimated on {@link RATIO_SAMPLE} strided elements. */
  measure(): void {
    for (const t of this.tracked) {
      if (!t.kernel) continue;
      const w = t.param.value;
      const c = t.copies[this.current];
      const stride = Math.max(1, Math.floor(w.length / RATIO_SAMPLE));
      let d2 = 0, w2 = 0;
      for (let i = 0; i < w.length; i += stride) {
        const a = c[i];
        const d = w[i] - a;
        d2 += d * d;
        w2 += a * a;
      }
      if (!(w2 > 0) || !Number.isFinite(d2)) continue;
      let list = this.ratios.get(t.param.name);
      if (!list) this.ratios.set(t.param.name, (list = []));
      list.push(Math.sqrt(d2 / w2));
    }
  }

  /** Median and largest ‖Δw‖/‖w‖ per kernel over the epoch so far, with the kernel's layer. */
  medians(): { name: string; layer: string; ratio: number; max: number }[] {
    const out: { name: string; layer: string; ratio: number; max: number }[] = [];
    for (const t of this.tracked) {
      const list = this.ratios.get(t.param.name);
      if (list?.length) out.push({ name: t.param.name, layer: t.layer, ratio: median(list), max: Math.max(...list) });
    }
    return out;
  }

  /** Forgets the epoch's ratios. */
  resetEpoch(): void {
    this.ratios = new Map();
  }
}

/** What the learning-rate checks need to know besides the ratios. */
export interface LearningRateContext {
  epoch: number;
  /** True for the first epoch of this fit. */
  first: boolean;
  /** Batch losses of the epoch, in order. */
  losses: readonly number[];
  /** e.g. "SGD (learning rate 0.0001)". */
  optimizer: string;
  /** The constant predictor's loss (NaN when unknown). */
  baseline: number;
}

/** lr-too-low and lr-too-high at the end of an epoch (see the thresholds above). */
export function checkLearningRate(monitor: UpdateMonitor, ctx: LearningRateContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const kernels = monitor.medians();
  const { first, last } = lossThirds(ctx.losses);
  const drop = first > 0 ? (first - last) / first : 0;
  const high = kernels.filter((k) => k.ratio >= HIGH_RATIO).sort((a, b) => b.ratio - a.ratio);
  const once = kernels.filter((k) => k.max >= HIGH_RATIO_ONCE).sort((a, b) => b.max - a.max);
  if (high.length > 0) {
    const k = high[0];
    out.push({
      code: 'lr-too-high',
      epoch: ctx.epoch,
      layer: k.layer,
      message:
        `each step changes ${k.name} by a median ${num(k.ratio)} of its size (${high.length} of ${kernels.length} kernels at or above ${num(HIGH_RATIO)}; ` +
        `the usual range is around 1e-3). ${ctx.optimizer} is too large: lower it about tenfold.`,
    });
  } else if (once.length > 0) {
    const k = once[0];
    out.push({
      code: 'lr-too-high',
      epoch: ctx.epoch,
      layer: k.layer,
      message:
        `one step changed ${k.name} by ${num(k.max)} times its size (threshold ${HIGH_RATIO_ONCE}; the usual range is around 1e-3 per step). ` +
        `${ctx.optimizer} is too large: lower it about tenfold.`,
    });
  } else if (ctx.losses.length >= 3 && first > 0 && last >= LOSS_GROWTH * first) {
    out.push({
      code: 'lr-too-high',
      epoch: ctx.epoch,
      message: `the loss grew over the epoch from ${num(first)} (first third) to ${num(last)} (last third). ${ctx.optimizer} is probably too large: lower it about tenfold.`,
    });
  }
  if (out.length === 0 && ctx.first && kernels.length > 0 && ctx.losses.length >= 3) {
    // A kernel that did not move at all has a zero gradient (dead units, zero inputs): that is not
    // the learning rate's doing, so it counts for neither side.
    const moving = kernels.filter((k) => k.ratio > 0);
    const low = moving.filter((k) => k.ratio < LOW_RATIO);
    if (moving.length > LOW_SHARE * kernels.length && low.length > LOW_SHARE * moving.length && (drop < MIN_LOSS_DROP || last >= ctx.baseline)) {
      const all = median(moving.map((k) => k.ratio));
      out.push({
        code: 'lr-too-low',
        epoch: ctx.epoch,
        message:
          `each step changes the weights by a median ${num(all)} of their size (${low.length} of ${moving.length} kernels under ${num(LOW_RATIO)}; ` +
          `the usual range is around 1e-3), and the loss is not falling (${num(first)} in the first third of the epoch, ${num(last)} in the last; ${num(ctx.baseline)} for always predicting the class frequencies). ` +
          `${ctx.optimizer} is too small for this model: raise the learning rate (SGD 1e-2 with momentum 0.9) or use Adam (1e-3).`,
      });
    }
  }
  return out;
}
