// More Keras 3 losses, same conventions as losses.ts: float64 sums, per-sample mean over the
// last axis, reduction sum_i(l_i · w_i) / batch, and the exact derivative with respect to yPred.
import { checkOptions, clipP, clipPasses, elementwiseLoss, validate } from './loss-checks.js';
import type { Loss } from './losses.js';

/**
 * Mean absolute error: `l_i = mean_j |p_ij − y_ij|`, gradient `sign(p − y)` (0 where equal).
 *
 * Shapes: yTrue, yPred `[batch, units]`; sampleWeight `[batch]`.
 *
 * @example
 * meanAbsoluteError().compute(new Float32Array([1, 0]), new Float32Array([0.5, 0.25]), 1, 2).loss; // 0.375
 */
export function meanAbsoluteError(): Loss {
  return elementwiseLoss('meanAbsoluteError', {}, () => (y, p, out) => {
    const d = p - y;
    out.value = Math.abs(d);
    out.grad = Math.sign(d);
  });
}

/**
 * Huber loss, Keras: with `e = p − y`, `½e²` where `|e| ≤ delta`, else `delta·|e| − ½delta²`;
 * mean over the last axis. Gradient `e` inside, `delta·sign(e)` outside. Default `delta = 1`.
 *
 * @example
 * huber().compute(new Float32Array([0, 0]), new Float32Array([0.5, 3]), 1, 2).loss; // (0.125 + 2.5) / 2 = 1.3125
 */
export function huber(opts?: { delta?: number }): Loss {
  checkOptions('huber', opts, ['delta']);
  const delta = opts?.delta ?? 1;
  if (typeof delta !== 'number' || !Number.isFinite(delta) || delta <= 0) throw new Error(`huber: delta must be a positive finite number, got ${String(delta)}`);
  return elementwiseLoss('huber', { delta }, () => (y, p, out) => {
    const e = p - y;
    const a = Math.abs(e);
    if (a <= delta) {
      out.value = 0.5 * e * e;
      out.grad = e;
    } else {
      out.value = delta * a - 0.5 * delta * delta;
      out.grad = delta * Math.sign(e);
    }
  });
}

/**
 * Hinge loss, Keras 3: labels are −1/1; when every label of the batch is 0 or 1 they are first
 * mapped to −1/1 (`2y − 1`). `l_i = mean_j max(1 − y_ij·p_ij, 0)`; gradient `−y` where
 * `1 − y·p ≥ 0` (tf.maximum passes ties to its first argument), else 0.
 *
 * @example
 * hinge().compute(new Float32Array([1, -1]), new Float32Array([0.3, -2]), 1, 2).loss; // (0.7 + 0) / 2 = 0.35
 */
export function hinge(): Loss {
  return elementwiseLoss('hinge', {}, (yTrue) => {
    const binary = yTrue.every((v) => v === 0 || v === 1);
    return (y, p, out) => {
      const t = binary ? 2 * y - 1 : y;
      const m = 1 - t * p;
      out.value = Math.max(m, 0);
      out.grad = m >= 0 ? -t : 0;
    };
  });
}

/** Options of {@link binaryFocalCrossentropy}. */
export interface BinaryFocalCrossentropyConfig {
  /** Weight the terms by `α` (label 1) and `1 − α` (label 0). Default false. */
  applyClassBalancing?: boolean;
  /** Default 0.25. */
  alpha?: number;
  /** Focusing exponent γ ≥ 0. Default 2. */
  gamma?: number;
  /** yPred are logits; a sigmoid is applied first. Default false. */
  fromLogits?: boolean;
  /** Labels become `y·(1 − s) + s/2`. Default 0. */
  labelSmoothing?: number;
}

/**
 * Binary focal crossentropy, Keras 3: with `p` the probability (sigmoid of the logit when
 * `fromLogits`), `y` the smoothed label, `bce = −(y·log c + (1−y)·log(1−c))`, `c = clip(p, 1e-7, 1 − 1e-7)`,
 * `p_t = y·p + (1−y)·(1−p)`: element loss `(1 − p_t)^γ · bce`, times `y·α + (1−y)·(1−α)` with
 * class balancing; mean over the last axis. bce's gradient is 0 where p is clipped, as tf.clip_by_value.
 *
 * @example
 * binaryFocalCrossentropy().compute(new Float32Array([1]), new Float32Array([0.5]), 1, 1).loss; // 0.25·log 2 = 0.1733
 */
export function binaryFocalCrossentropy(opts?: BinaryFocalCrossentropyConfig): Loss {
  const name = 'binaryFocalCrossentropy';
  checkOptions(name, opts, ['applyClassBalancing', 'alpha', 'gamma', 'fromLogits', 'labelSmoothing']);
  const applyClassBalancing = opts?.applyClassBalancing ?? false;
  const alpha = opts?.alpha ?? 0.25;
  const gamma = opts?.gamma ?? 2;
  const fromLogits = opts?.fromLogits ?? false;
  const labelSmoothing = opts?.labelSmoothing ?? 0;
  if (typeof applyClassBalancing !== 'boolean') throw new Error(`${name}: applyClassBalancing must be a boolean, got ${String(applyClassBalancing)}`);
  if (typeof fromLogits !== 'boolean') throw new Error(`${name}: fromLogits must be a boolean, got ${String(fromLogits)}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`${name}: alpha must be in [0, 1], got ${String(alpha)}`);
  if (!(gamma >= 0 && Number.isFinite(gamma))) throw new Error(`${name}: gamma must be a non-negative finite number, got ${String(gamma)}`);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new Error(`${name}: labelSmoothing must be in [0, 1], got ${String(labelSmoothing)}`);
  const config = { applyClassBalancing, alpha, gamma, fromLogits, labelSmoothing };
  return elementwiseLoss(name, config, () => (label, z, out) => {
    const y = label * (1 - labelSmoothing) + 0.5 * labelSmoothing;
    const p = fromLogits ? (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))) : z;
    const c = clipP(p);
    const bce = -(y * Math.log(c) + (1 - y) * Math.log(1 - c));
    const dBce = clipPasses(p) ? -y / c + (1 - y) / (1 - c) : 0;
    const base = 1 - (y * p + (1 - y) * (1 - p));
    const focal = base ** gamma;
    // d(1 − p_t)^γ/dp = −γ·(1 − p_t)^(γ−1)·(2y − 1); zero when γ = 0 (0^−1 would give NaN).
    const dFocal = gamma === 0 ? 0 : -gamma * base ** (gamma - 1) * (2 * y - 1);
    const balance = applyClassBalancing ? y * alpha + (1 - y) * (1 - alpha) : 1;
    out.value = balance * focal * bce;
    const dp = balance * (dFocal * bce + focal * dBce);
    out.grad = fromLogits ? dp * p * (1 - p) : dp;
  });
}
