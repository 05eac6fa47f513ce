// Fusion: which runs of layers run as one backend call, decided in this one place from the
// backend's capability record `backend.fused` (src/backend/types.ts). One matcher (matchRun) reads
// the layer sequence; planFusion turns its runs into units that call the fused ops, and every
// other layer into a unit that calls the layer's own forward and backward.
//   training:  BatchNormalization → [Activation(relu | linear)] → MaxPooling2D(non-overlapping) → batchNormActPool
//              Conv2D(relu | linear) [→ Activation(relu | linear)] → MaxPooling2D(non-overlapping) → conv.conv2dMaxPoolTrain
//              Conv2D(relu | linear) alone → conv.conv2d (relu' is read off its output)
//   inference: Conv2D(linear) [→ BatchNormalization, folded] [→ Activation(relu | linear)] [→ MaxPooling2D] → conv.conv2dMaxPool / conv.conv2d
//              Conv2D(relu) [→ MaxPooling2D] likewise
// The fold: with s = gamma / sqrt(movingVariance + epsilon), w'[…, f] = w[…, f]·s[f] and
// b'[f] = (b[f] − movingMean[f])·s[f] + beta[f], computed from the current weights at an inference
// forward after any of them changed (their versions, src/layers/weight.ts), so training can change
// them freely. Fused results equal the layer-by-layer
// pass up to the rounding of sums (the reference backend's fused ops are those very layers' ops).
import type { Backend, FusedActivation, FusedOps, GradNeed } from '../backend/types.js';
import { conv2dInfo, type Conv2DInfo } from '../geometry.js';
import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { addInto } from '../layers/kernel-layer.js';
import type { ForwardContext, Layer } from '../layers/layer.js';
import { MaxPooling2D } from '../layers/max-pooling2d.js';
import { weightValues, weightVersion } from '../layers/weight.js';
import { wrap, type Tensor } from '../tensor.js';

/** Training runs save what backward needs; inference runs fold batch norm and accept any pool. */
export type FusionMode = 'training' | 'inference';

/** A run of layers that runs as one fused call (see {@link matchRun}). */
export type FusedRun =
  | { kind: 'conv'; conv: Conv2D; bn: BatchNormalization | null; activation: FusedActivation; pool: MaxPooling2D | null; length: number }
  | { kind: 'batchNorm'; bn: BatchNormalization; activation: FusedActivation; pool: MaxPooling2D; length: number };

/** One step of a pass: a fused run of layers, or a layer on its own. */
export interface FusionUnit {
  /** The model's layers this unit stands for, in order. */
  readonly layers: readonly Layer[];
  /** The fused op it calls, as `group.op` of `backend.fused` (e.g. 'conv.conv2dMaxPoolTrain'); null: the layer's own forward. */
  readonly op: string | null;
  forward(x: Tensor, ctx: ForwardContext): Tensor;
  /** Adds the run's weight gradients; returns dx when asked. Inference units throw. */
  backward(dy: Tensor, needInputGrad: boolean): Tensor | null;
}

function fusedActivation(layer: Layer | undefined): FusedActivation | null {
  return layer instanceof Activation && (layer.activation === 'relu' || layer.activation === 'linear') ? layer.activation : null;
}

function channelBatchNorm(layer: Layer | undefined): BatchNormalization | null {
  return layer instanceof BatchNormalization && (layer.axis === -1 || layer.axis === 3) ? layer : null;
}

// The training ops take pools whose windows tile the input: strides = pool size, 'valid'.
function tilingPool(layer: Layer | undefined): MaxPooling2D | null {
  if (!(layer instanceof MaxPooling2D) || layer.padding !== 'valid') return null;
  return layer.strides[0] === layer.poolSize[0] && layer.strides[1] === layer.poolSize[1] ? layer : null;
}

/**
 * The run starting at `layers[i]` that `fused` can run in `mode`, or null (the layer runs on its
 * own). The table at the top of src/model/fusion.ts lists the runs.
 *
 * @example
 * matchRun(model.layers, 0, 'training', getBackend().fused); // { kind: 'conv', …, length: 1 }
 */
export function matchRun(layers: readonly Layer[], i: number, mode: FusionMode, fused: FusedOps): FusedRun | null {
  const first = layers[i];
  if (first instanceof BatchNormalization) {
    const bn = channelBatchNorm(first);
    // A frozen BatchNormalization trains in inference mode: the fused op would use batch statistics.
    if (mode !== 'training' || !fused.batchNormActPool || !bn || !bn.trainable) return null;
    const act = fusedActivation(layers[i + 1]);
    const j = act ? i + 2 : i + 1;
    const pool = tilingPool(layers[j]);
    return pool ? { kind: 'batchNorm', bn, activation: act ?? 'linear', pool, length: j - i + 1 } : null;
  }
  if (!(first instanceof Conv2D) || !fused.conv) return null;
  const own = first.activation;
  if (own !== 'relu' && own !== 'linear') return null;
  let j = i + 1;
  let bn: BatchNormalization | null = null;
  let activation: FusedActivation = own;
  if (own === 'linear') {
    bn = mode === 'inference' ? channelBatchNorm(layers[j]) : null;
    if (bn) j++;
    const act = fusedActivation(layers[j]);
    if (act) {
      activation = act;
      j++;
    }
  }
  const next = layers[j];
  const pool = mode === 'training' ? tilingPool(next) : next instanceof MaxPooling2D ? next : null;
  if (pool) return { kind: 'conv', conv: first, bn, activation, pool, length: j - i + 1 };
  if (bn) return { kind: 'conv', conv: first, bn, activation, pool: null, length: j - i };
  return { kind: 'conv', conv: first, bn: null, activation: own, pool: null, length: 1 };
}

/**
 * Folds the BatchNormalization's moving statistics into the Conv2D's kernel `[kh, kw, inC, F]`
 * and bias `[F]` (gamma 1 without `scale`, beta 0 without `center`, conv bias 0 without `useBias`).
 *
 * @example
 * const { kernel, bias } = foldConvBn(conv, bn); // conv2d(x, kernel) + bias = bn(conv(x)) at inference
 */
export function foldConvBn(conv: Conv2D, bn: BatchNormalization): { kernel: Float32Array; bias: Float32Array } {
  const { kernel: k, bias: b } = conv.convWeights();
  const { gamma, beta, movingMean, movingVariance } = bn.bnWeights();
  // Read without counting as writes (src/layers/weight.ts): the fold is cached on those counts.
  const w = weightValues(k);
  const [bv, gv, betav, mean, variance] = [b, gamma, beta, movingMean, movingVariance].map((p) => (p ? weightValues(p) : null));
  const F = conv.filters;
  const s = new Float64Array(F);
  const bias = new Float32Array(F);
  for (let f = 0; f < F; f++) {
    s[f] = (gv ? gv[f] : 1) / Math.sqrt(variance![f] + bn.epsilon);
    bias[f] = ((bv ? bv[f] : 0) - mean![f]) * s[f] + (betav ? betav[f] : 0);
  }
  const kernel = new Float32Array(w.length);
  for (let r = 0; r < w.length; r += F) {
    for (let f = 0; f < F; f++) kernel[r + f] = w[r + f] * s[f];
  }
  return { kernel, bias };
}

// Folds made so far: each fold's kernel carries a version of its own (see cachedFold).
let folds = 0;

/**
 * foldConvBn(conv, bn), computed again only when one of the weights it reads changed (their
 * versions, src/layers/weight.ts); a weight without a version is folded every call. A new fold is
 * written into the arrays of the last one under a new `version` (undefined when a weight has
 * none), so that a backend's prepared copy of the kernel (conv2dMaxPool's `wVersion`) is replaced
 * rather than piled up.
 */
function cachedFold(conv: Conv2D, bn: BatchNormalization): () => { kernel: Float32Array; bias: Float32Array; version: number | undefined } {
  let held: { versions: (number | null)[]; kernel: Float32Array; bias: Float32Array; version: number | undefined } | null = null;
  return () => {
    const { kernel, bias } = conv.convWeights();
    const { gamma, beta, movingMean, movingVariance } = bn.bnWeights();
    const versions = [kernel, bias, gamma, beta, movingMean, movingVariance].map((p) => (p ? weightVersion(p) : -1));
    const versioned = versions.every((v) => v !== null);
    if (held && versioned && versions.every((v, i) => v === held!.versions[i])) return held;
    const fold = foldConvBn(conv, bn);
    const version = versioned ? ++folds : undefined;
    if (held && held.kernel.length === fold.kernel.length && held.bias.length === fold.bias.length) {
      held.kernel.set(fold.kernel);
      held.bias.set(fold.bias);
      Object.assign(held, { versions, version });
    } else held = { versions, ...fold, version };
    return held;
  };
}

function poolOver(info: Conv2DInfo, pool: MaxPooling2D, mode: FusionMode): Conv2DInfo {
  const [strides, padding] = mode === 'training' ? [pool.poolSize, 'valid' as const] : [pool.strides, pool.padding];
  return conv2dInfo([info.batch, info.outHeight, info.outWidth, info.outChannels], [...pool.poolSize], info.outChannels, [...strides], padding);
}

function inferenceOnly(name: string): never {
  throw new Error(`fusion: ${name} is an inference unit; training plans its own units (planFusion(layers, backend, 'training'))`);
}

function convUnit(run: Extract<FusedRun, { kind: 'conv' }>, layers: readonly Layer[], backend: Backend, mode: FusionMode): FusionUnit {
  const ops = backend.fused.conv;
  if (!ops) throw new Error(`fusion: backend '${backend.name}' has no fused convolution ops`);
  const { conv, activation, pool } = run;
  const F = conv.filters;
  let saved: { x: Float32Array; info: Conv2DInfo; y: Float32Array; argmax: Int32Array | null } | null = null;
  const op = pool ? (mode === 'training' ? 'conv.conv2dMaxPoolTrain' : 'conv.conv2dMaxPool') : 'conv.conv2d';
  const folded = run.bn ? cachedFold(conv, run.bn) : null;
  return {
    layers,
    op,
    forward(x) {
      const info = conv.inputInfo(x);
      const { kernel: k, bias: b } = conv.convWeights();
      // Inference reads the weights past their counters (it never writes them) and hands the
      // kernel's version on, so that the backend may keep its transform between calls.
      const { kernel, bias, version } = folded
        ? folded()
        : mode === 'inference'
          ? { kernel: weightValues(k), bias: b ? weightValues(b) : null, version: weightVersion(k) ?? undefined }
          : { kernel: k.value, bias: b ? b.value : null, version: undefined };
      if (!pool) {
        const y = ops.conv2d(x.values, kernel, bias, info, activation);
        saved = mode === 'training' ? { x: x.values, info, y, argmax: null } : null;
        return wrap<4>(y, [info.batch, info.outHeight, info.outWidth, F]);
      }
      const p = poolOver(info, pool, mode);
      const shape: [number, number, number, number] = [info.batch, p.outHeight, p.outWidth, F];
      if (mode === 'inference') return wrap<4>(ops.conv2dMaxPool(x.values, kernel, bias, info, activation, p, version), shape);
      const r = ops.conv2dMaxPoolTrain(x.values, kernel, bias, info, activation, p);
      saved = { x: x.values, info, y: r.y, argmax: r.argmax };
      return wrap<4>(r.y, shape);
    },
    backward(dy, needInputGrad) {
      if (mode === 'inference') inferenceOnly(op);
      const s = saved;
      if (!s) throw new Error(`Conv2D '${conv.name}': backward called without a training-mode forward`);
      saved = null;
      const { kernel, bias } = conv.convWeights();
      const need: GradNeed = { dx: needInputGrad, dw: kernel.trainable, db: !!bias && bias.trainable };
      const g = s.argmax
        ? ops.conv2dMaxPoolBackward(s.x, kernel.value, dy.values, s.y, s.argmax, s.info, activation, need)
        : ops.conv2dBackward(s.x, kernel.value, dy.values, s.y, s.info, activation, need);
      if (g.db && bias) addInto(bias.grad, g.db);
      if (g.dw) addInto(kernel.grad, g.dw);
      const { info } = s;
      return g.dx ? wrap<4>(g.dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]) : null;
    },
  };
}

function batchNormUnit(run: Extract<FusedRun, { kind: 'batchNorm' }>, layers: readonly Layer[], backend: Backend): FusionUnit {
  const ops = backend.fused.batchNormActPool;
  if (!ops) throw new Error(`fusion: backend '${backend.name}' has no fused batch norm → activation → pool ops`);
  const { bn, activation } = run;
  type Saved = { x: Float32Array; mean: Float32Array; invStd: Float32Array; argmax: Int32Array; gamma: Float32Array; beta: Float32Array; pool: Conv2DInfo };
  let saved: Saved | null = null;
  return {
    layers,
    op: 'batchNormActPool.train',
    forward(x) {
      const { gamma: g, beta: b, movingMean } = bn.bnWeights();
      const c = movingMean.shape[0];
      if (x.rank !== 4 || x.shape[3] !== c) throw new Error(`BatchNormalization '${bn.name}': expects (None, height, width, ${c}) before a pool, got [${x.shape.join(', ')}]`);
      const [batch, h, w] = x.shape as [number, number, number, number];
      const pool = conv2dInfo([batch, h, w, c], [...run.pool.poolSize], c, [...run.pool.poolSize], 'valid');
      const gamma = g ? g.value : new Float32Array(c).fill(1);
      const beta = b ? b.value : new Float32Array(c);
      const r = ops.train(x.values, gamma, beta, c, bn.epsilon, activation, pool);
      bn.updateMovingStatistics(r.mean, r.variance);
      saved = { x: x.values, mean: r.mean, invStd: r.invStd, argmax: r.argmax, gamma, beta, pool };
      return wrap<4>(r.y, [batch, pool.outHeight, pool.outWidth, c]);
    },
    backward(dy, needInputGrad) {
      const s = saved;
      if (!s) throw new Error(`BatchNormalization '${bn.name}': backward called without a training-mode forward`);
      saved = null;
      const p = s.pool;
      const g = ops.backward(dy.values, s.x, s.gamma, s.beta, s.mean, s.invStd, s.argmax, p.inChannels, activation, p);
      const { gamma, beta } = bn.bnWeights();
      if (gamma?.trainable) addInto(gamma.grad, g.dGamma);
      if (beta?.trainable) addInto(beta.grad, g.dBeta);
      return needInputGrad ? wrap<4>(g.dx, [p.batch, p.inHeight, p.inWidth, p.inChannels]) : null;
    },
  };
}

function single(layer: Layer): FusionUnit {
  return { layers: [layer], op: null, forward: (x, ctx) => layer.forward(x, ctx), backward: (dy, need) => layer.backward(dy, need) };
}

/**
 * The units a pass over `layers` runs on `backend` in `mode`: fused runs where `backend.fused`
 * has the ops, every other layer on its own. Training units run backward in reverse order.
 *
 * @example
 * const units = planFusion(model.layers, getBackend(), 'training');
 * units.map((u) => u.op); // ['conv.conv2d', 'batchNormActPool.train', 'conv.conv2dMaxPoolTrain', …]
 */
export function planFusion(layers: readonly Layer[], backend: Backend, mode: FusionMode): FusionUnit[] {
  const units: FusionUnit[] = [];
  for (let i = 0; i < layers.length; ) {
    const run = matchRun(layers, i, mode, backend.fused);
    if (!run) {
      units.push(single(layers[i]));
      i++;
      continue;
    }
    const runLayers = layers.slice(i, i + run.length);
    units.push(run.kind === 'conv' ? convUnit(run, runLayers, backend, mode) : batchNormUnit(run, runLayers, backend));
    i += run.length;
  }
  return units;
}

/**
 * The plans of one model, kept while its layers, the active backend and that backend's fused-op
 * record stay the same (units keep a training step's saved values between forward and backward).
 */
export class FusionPlans {
  private readonly cache = new Map<FusionMode, { backend: Backend; fused: FusedOps; count: number; frozen: string; units: FusionUnit[] }>();

  /** The units for `layers` on `backend` in `mode`, planned again when any of them changed. */
  get(layers: readonly Layer[], backend: Backend, mode: FusionMode): FusionUnit[] {
    const hit = this.cache.get(mode);
    // Freezing a layer changes what may fuse (a frozen BatchNormalization trains in inference mode).
    const frozen = layers.map((l) => (l.trainable ? 1 : 0)).join('');
    if (hit && hit.backend === backend && hit.fused === backend.fused && hit.count === layers.length && hit.frozen === frozen) return hit.units;
    const units = planFusion(layers, backend, mode);
    this.cache.set(mode, { backend, fused: backend.fused, count: layers.length, frozen, units });
    return units;
  }
}
