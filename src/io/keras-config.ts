// Keras ↔ tscnn translation of the small values inside layer configs: key case, activation
// names and initializers. Shared by the writer (save.ts) and the reader (layer-from-config.ts).
import type { ActivationKind } from '../backend/types.js';
import { getInitializer, type InitializerName } from '../initializers.js';
import { resolveActivation } from '../layers/activations.js';
import type { KerasObject } from './types.js';

/** `kernelSize` → `kernel_size`, `pool_size` stays. */
export function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** `kernel_size` → `kernelSize`, as tfjs' `toCamelCase`. */
export function camelKey(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/** Activation names as Keras writes them (snake_case); TF.js reads them through its camel-casing. */
const KERAS_ACTIVATION: Partial<Record<ActivationKind, string>> = { leakyRelu: 'leaky_relu', hardSigmoid: 'hard_sigmoid' };

export function activationToKeras(kind: string): string {
  return KERAS_ACTIVATION[kind as ActivationKind] ?? kind;
}

/** Reads an activation name written by Keras or TF.js (`'relu'`, `'hard_sigmoid'`, `'hardSigmoid'`); throws naming the owner. */
export function activationFromKeras(value: unknown, owner: string): ActivationKind {
  if (value === null || value === undefined) return 'linear';
  if (typeof value === 'object' && value !== null && typeof (value as KerasObject).class_name === 'string') {
    // Keras 3 may write `{ module: 'keras.activations', class_name: 'function', config: 'relu' }`.
    const cfg = (value as { config: unknown }).config;
    if (typeof cfg === 'string') return activationFromKeras(cfg, owner);
  }
  if (typeof value !== 'string') throw new Error(`${owner}: unsupported option activation = ${JSON.stringify(value)}`);
  try {
    return resolveActivation(value, owner);
  } catch {
    throw new Error(`${owner}: unsupported option activation = '${value}' (tscnn knows linear, relu, relu6, sigmoid, tanh, softmax, leaky_relu, elu, selu, softplus, softsign, swish, hard_sigmoid)`);
  }
}

/** tscnn initializer name → Keras / TF.js serialised form. */
export function initializerToKeras(name: string, owner: string): KerasObject {
  const seed = { seed: null };
  switch (name) {
    case 'zeros':
      return { class_name: 'Zeros', config: {} };
    case 'ones':
      return { class_name: 'Ones', config: {} };
    case 'glorotUniform':
      return { class_name: 'GlorotUniform', config: seed };
    case 'glorotNormal':
      return { class_name: 'GlorotNormal', config: seed };
    case 'heUniform':
      return { class_name: 'HeUniform', config: seed };
    case 'heNormal':
      return { class_name: 'HeNormal', config: seed };
    // Keras spells these LecunUniform, TF.js LeCunUniform; VarianceScaling reads in both.
    case 'lecunUniform':
      return { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_in', distribution: 'uniform', seed: null } };
    case 'lecunNormal':
      return { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_in', distribution: 'truncated_normal', seed: null } };
    case 'randomUniform':
      return { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } };
    case 'randomNormal':
      return { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.05, seed: null } };
    default:
      throw new Error(`${owner}: initializer '${name}' cannot be saved in the TF.js format (known: zeros, ones, glorotUniform, glorotNormal, heUniform, heNormal, lecunUniform, lecunNormal, randomUniform, randomNormal)`);
  }
}

const norm = (s: unknown): string => (typeof s === 'string' ? s.replace(/_/g, '').toLowerCase() : String(s));

/** VarianceScaling (scale, mode, distribution) → the tscnn initializer that draws the same way. */
function varianceScalingName(cfg: Record<string, unknown>): InitializerName | null {
  const scale = cfg.scale ?? 1;
  const mode = norm(cfg.mode ?? 'fan_in');
  const dist = norm(cfg.distribution ?? 'truncated_normal');
  const normal = dist === 'normal' || dist === 'truncatednormal';
  if (!normal && dist !== 'uniform') return null;
  if (scale === 1 && mode === 'fanavg') return normal ? 'glorotNormal' : 'glorotUniform';
  if (scale === 2 && mode === 'fanin') return normal ? 'heNormal' : 'heUniform';
  if (scale === 1 && mode === 'fanin') return normal ? 'lecunNormal' : 'lecunUniform';
  return null;
}

/**
 * Reads an initializer written by Keras or TF.js (`'glorot_uniform'`, `{ class_name:
 * 'GlorotUniform', config: { seed: null } }`, `VarianceScaling`, ...). Returns undefined for null
 * (the layer's default). Seeds are accepted and not used: a loaded model's weights come from
 * the file, so initializers only matter for layers added later.
 */
export function initializerFromKeras(value: unknown, owner: string, option: string): InitializerName | undefined {
  if (value === null || value === undefined) return undefined;
  const fail = (): never => {
    throw new Error(`${owner}: unsupported option ${option} = ${JSON.stringify(value)}`);
  };
  if (typeof value === 'string') {
    try {
      return getInitializer(value, owner).name as InitializerName;
    } catch {
      return fail();
    }
  }
  if (typeof value !== 'object' || typeof (value as KerasObject).class_name !== 'string') return fail();
  const { class_name: className } = value as KerasObject;
  const raw = ((value as KerasObject).config ?? {}) as Record<string, unknown>;
  const cfg: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) cfg[camelKey(k)] = v;
  const only = (allowed: string[]): void => {
    for (const k of Object.keys(cfg)) if (k !== 'seed' && !allowed.includes(k)) fail();
  };
  switch (norm(className)) {
    case 'zeros':
      only([]);
      return 'zeros';
    case 'ones':
      only([]);
      return 'ones';
    case 'constant':
      only(['value']);
      if (cfg.value === 0) return 'zeros';
      if (cfg.value === 1) return 'ones';
      return fail();
    case 'glorotuniform':
    case 'glorotnormal':
    case 'heuniform':
    case 'henormal':
    case 'lecununiform':
    case 'lecunnormal': {
      only([]);
      const n = norm(className);
      const table: Record<string, InitializerName> = {
        glorotuniform: 'glorotUniform',
        glorotnormal: 'glorotNormal',
        heuniform: 'heUniform',
        henormal: 'heNormal',
        lecununiform: 'lecunUniform',
        lecunnormal: 'lecunNormal',
      };
      return table[n];
    }
    case 'variancescaling': {
      only(['scale', 'mode', 'distribution']);
      return varianceScalingName(cfg) ?? fail();
    }
    case 'randomuniform':
      only(['minval', 'maxval']);
      if ((cfg.minval ?? -0.05) === -0.05 && (cfg.maxval ?? 0.05) === 0.05) return 'randomUniform';
      return fail();
    case 'randomnormal':
      only(['mean', 'stddev']);
      if ((cfg.mean ?? 0) === 0 && (cfg.stddev ?? 0.05) === 0.05) return 'randomNormal';
      return fail();
    default:
      return fail();
  }
}

/** Keras' shape with a batch axis (`[null, 36, 36, 3]`) → a tscnn sample shape. */
export function sampleShape(value: unknown, owner: string, option: string): number[] {
  if (!Array.isArray(value) || value.length < 2 || value.slice(1).some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${owner}: unsupported option ${option} = ${JSON.stringify(value)} (expected [null, positive sizes...])`);
  }
  return value.slice(1) as number[];
}
