// Weight regularizers (Keras L1, L2, L1L2): a penalty added to the training loss, and its
// gradient added to the weight's gradient, for every trainable weight that has one.
import { checkOptionKeys } from '../util/options.js';
import type { Param } from '../layers/layer.js';
import { deviceCombine } from '../device-storage.js';

/**
 * `penalty(w) = l1·Σ|w| + l2·Σw²`, gradient `l1·sign(w) + 2·l2·w` (sign(0) = 0, as TensorFlow's
 * gradient of |w|). Saved in the TF.js form `{ class_name: 'L1L2', config: { l1, l2 } }`.
 *
 * @example
 * new layers.Dense({ units: 10, kernelRegularizer: regularizers.l2({ l2: 1e-4 }) });
 */
export class L1L2 {
  readonly className = 'L1L2';
  readonly l1: number;
  readonly l2: number;

  constructor(config: { l1?: number; l2?: number } = {}, owner = 'L1L2') {
    if (typeof config !== 'object' || config === null) throw new Error(`${owner}: expected { l1, l2 }, got ${String(config)}`);
    checkOptionKeys(owner, config, ['l1', 'l2']);
    const check = (key: 'l1' | 'l2'): number => {
      const v = config[key] ?? 0;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${owner}: ${key} must be a non-negative finite number, got ${String(v)}`);
      return v;
    };
    this.l1 = check('l1');
    this.l2 = check('l2');
  }

  /** The penalty of `w`, in float64. */
  penalty(w: Float32Array): number {
    let a = 0;
    let s = 0;
    for (let i = 0; i < w.length; i++) {
      a += Math.abs(w[i]);
      s += w[i] * w[i];
    }
    return this.l1 * a + this.l2 * s;
  }

  /** grad += d penalty / d w; an L2 penalty's on the device when grad is a device array there. */
  addGradient(w: Float32Array, grad: Float32Array): void {
    const { l1 } = this;
    if (l1 === 0 && deviceCombine(grad, grad, w, 1, 2 * this.l2)) return;
    const twoL2 = 2 * this.l2;
    for (let i = 0; i < w.length; i++) grad[i] += l1 * Math.sign(w[i]) + twoL2 * w[i];
  }

  /** tfjs-layers' config: `{ l1, l2 }`. */
  getConfig(): { l1: number; l2: number } {
    return { l1: this.l1, l2: this.l2 };
  }
}

/**
 * L1 penalty `l1·Σ|w|`; `l1` defaults to 0.01 (Keras and TF.js).
 *
 * @example
 * regularizers.l1({ l1: 1e-5 });
 */
export function l1(config: { l1?: number } = {}): L1L2 {
  return new L1L2({ l1: config.l1 ?? 0.01, ...rest(config, 'l1', 'l1') }, 'l1');
}

/**
 * L2 penalty `l2·Σw²` (no ½); `l2` defaults to 0.01 (Keras and TF.js).
 *
 * @example
 * regularizers.l2({ l2: 1e-4 });
 */
export function l2(config: { l2?: number } = {}): L1L2 {
  return new L1L2({ l2: config.l2 ?? 0.01, ...rest(config, 'l2', 'l2') }, 'l2');
}

/**
 * Both penalties, `l1·Σ|w| + l2·Σw²`. Defaults l1 = l2 = 0.01 as TF.js' `tf.regularizers.l1l2`
 * (Keras 3's `L1L2()` defaults to 0 and 0).
 *
 * @example
 * regularizers.l1l2({ l1: 1e-5, l2: 1e-4 });
 */
export function l1l2(config: { l1?: number; l2?: number } = {}): L1L2 {
  return new L1L2({ l1: config.l1 ?? 0.01, l2: config.l2 ?? 0.01, ...rest(config, 'l1l2', 'l1', 'l2') }, 'l1l2');
}

/** Throws on keys other than `known`, naming the factory. */
function rest(config: object, owner: string, ...known: string[]): Record<string, never> {
  if (typeof config !== 'object' || config === null) throw new Error(`${owner}: expected { ${known.join(', ')} }, got ${String(config)}`);
  checkOptionKeys(owner, config, known);
  return {};
}

/** What layers accept as `kernelRegularizer` / `biasRegularizer`: an instance or a name with its defaults. */
export type RegularizerSpec = L1L2 | 'l1' | 'l2' | 'l1l2' | 'l1_l2';

/** Resolves a regularizer option, naming the layer and option on error. `null`/`undefined` mean none. */
export function getRegularizer(spec: RegularizerSpec | null | undefined, owner: string): L1L2 | null {
  if (spec === undefined || spec === null) return null;
  if (spec instanceof L1L2) return spec;
  if (spec === 'l1') return l1();
  if (spec === 'l2') return l2();
  if (spec === 'l1l2' || spec === 'l1_l2') return l1l2();
  throw new Error(`${owner}: unknown regularizer ${JSON.stringify(spec)}; known: 'l1', 'l2', 'l1l2' or regularizers.l1({ l1 }), l2({ l2 }), l1l2({ l1, l2 })`);
}

/** Keras' serialised regularizer (`L1L2`, `L1`, `L2`, or the names above) → an {@link L1L2}, or null. */
export function regularizerFromKeras(v: unknown, owner: string): L1L2 | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return getRegularizer(v as RegularizerSpec, owner);
  const o = v as { class_name?: unknown; config?: Record<string, unknown> };
  if (typeof o !== 'object' || typeof o.class_name !== 'string') throw new Error(`${owner}: regularizer ${JSON.stringify(v)} is not { class_name, config }`);
  const cfg = o.config ?? {};
  const num = (key: string): number | undefined => (cfg[key] === undefined || cfg[key] === null ? undefined : (cfg[key] as number));
  switch (o.class_name) {
    case 'L1L2':
      return new L1L2({ l1: num('l1'), l2: num('l2') }, owner);
    case 'L1':
      return new L1L2({ l1: num('l1') ?? 0.01 }, owner);
    case 'L2':
      return new L1L2({ l2: num('l2') ?? 0.01 }, owner);
    default:
      throw new Error(`${owner}: regularizer ${o.class_name} is not supported (known: L1L2, L1, L2)`);
  }
}

/**
 * The summed penalty of every trainable parameter with a regularizer, as Keras adds
 * `model.losses` to the loss; with `addGradients`, also adds each penalty's gradient into `grad`.
 *
 * @example
 * const penalty = regularizationLoss(model.params(), true);
 */
export function regularizationLoss(params: readonly Param[], addGradients: boolean): number {
  let total = 0;
  for (const p of params) {
    if (!p.trainable || !p.regularizer) continue;
    total += p.regularizer.penalty(p.value);
    if (addGradients) p.regularizer.addGradient(p.value, p.grad);
  }
  return total;
}
