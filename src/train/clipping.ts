// Gradient clipping and decoupled weight decay, applied by every optimizer before its update as
// Keras 3's BaseOptimizer.apply does: clip the gradients, decay the weights, then the update
// rule (which runs through the backend ops).
import type { Param } from '../layers/layer.js';
import { deviceCombine } from '../device-storage.js';

/** Gradient clipping options every optimizer accepts (Keras `clipnorm`, `clipvalue`, `global_clipnorm`); at most one. */
export interface ClipConfig {
  /** Each gradient g becomes `g · clipNorm / max(‖g‖₂, clipNorm)`. */
  clipNorm?: number;
  /** Each gradient element is clipped to `[−clipValue, clipValue]`. */
  clipValue?: number;
  /** All gradients are scaled by `globalClipNorm / max(‖(g₁, g₂, …)‖₂, globalClipNorm)`. */
  globalClipNorm?: number;
}

/** Which clipping an optimizer does, validated. */
export type Clipping = { kind: 'norm' | 'value' | 'globalNorm'; limit: number } | null;

/** Validates the clipping options (positive finite, at most one set) and returns the one set. */
export function checkClipping(owner: string, config: ClipConfig): Clipping {
  const set: Clipping[] = [];
  for (const [key, kind] of [['clipNorm', 'norm'], ['clipValue', 'value'], ['globalClipNorm', 'globalNorm']] as const) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${owner}: ${key} must be a positive finite number, got ${String(v)}`);
    set.push({ kind, limit: v });
  }
  if (set.length > 1) throw new Error(`${owner}: only one of clipNorm, clipValue and globalClipNorm can be set, got ${JSON.stringify(config)}`);
  return set[0] ?? null;
}

function sumSquares(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

function scale(a: Float32Array, k: number): void {
  for (let i = 0; i < a.length; i++) a[i] *= k;
}

/**
 * Clips the `grad` of every parameter in place, Keras semantics. A zero gradient stays zero. With
 * `globalNorm`, a non-finite global norm makes every gradient NaN, as tf.clip_by_global_norm does.
 *
 * @example
 * clipGradients(params, { kind: 'globalNorm', limit: 1 });
 */
export function clipGradients(params: readonly Param[], clipping: Clipping): void {
  if (!clipping) return;
  const c = clipping.limit;
  if (clipping.kind === 'value') {
    for (const p of params) {
      const g = p.grad;
      for (let i = 0; i < g.length; i++) g[i] = g[i] < -c ? -c : g[i] > c ? c : g[i];
    }
    return;
  }
  if (clipping.kind === 'norm') {
    for (const p of params) {
      const norm = Math.sqrt(sumSquares(p.grad));
      if (norm > c) scale(p.grad, c / norm);
    }
    return;
  }
  let total = 0;
  for (const p of params) total += sumSquares(p.grad);
  const norm = Math.sqrt(total);
  if (!Number.isFinite(norm)) {
    for (const p of params) p.grad.fill(NaN);
  } else if (norm > c) {
    for (const p of params) scale(p.grad, c / norm);
  }
}

/**
 * Decoupled weight decay, Keras 3: `w ← w − w·weightDecay·lr` for every parameter, in float32
 * (lr is the learning rate of this step, so schedules scale the decay too).
 *
 * @example
 * applyWeightDecay(params, 0.004, 0.001);
 */
export function applyWeightDecay(params: readonly Param[], weightDecay: number, lr: number): void {
  const wd = Math.fround(weightDecay);
  const rate = Math.fround(lr);
  for (const p of params) {
    const w = p.value;
    // A device array is decayed on its device (w + (−wd·lr)·w: the product rounded once less).
    if (deviceCombine(w, w, w, 1, -(wd * rate))) continue;
    for (let i = 0; i < w.length; i++) w[i] = w[i] - Math.fround(Math.fround(w[i] * wd) * rate);
  }
}
