// The user's seed model in tscnn, random batches for it, and a timing hook that wraps each layer's
// and each fused unit's forward/backward (on the instances: src is untouched) to break one training step down by layer.
import { optimizers, Sequential, tensor, type Tensor } from '../src/index.js';
import { buildUserModel } from '../examples/lib/user-model.js';

/** The seed model of issue 2 for `size`×`size`×3 images. */
export function buildSeedModel(size: number): Sequential {
  const model = buildUserModel(size);
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-4 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
  return model;
}

/** Pixel values in [0, 1) and 0/1 labels, deterministic. */
export function randomBatch(batch: number, size: number, seed = 1): { x: Float32Array; y: Float32Array } {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const x = new Float32Array(batch * size * size * 3);
  for (let i = 0; i < x.length; i++) x[i] = next();
  const y = new Float32Array(batch);
  for (let i = 0; i < batch; i++) y[i] = next() < 0.5 ? 0 : 1;
  return { x, y };
}

export function batchTensors(batch: number, size: number, seed = 1): { x: Tensor; y: Tensor } {
  const { x, y } = randomBatch(batch, size, seed);
  return { x: tensor(x, [batch, size, size, 3]), y: tensor(y, [batch, 1]) };
}

export interface LayerTiming {
  name: string;
  className: string;
  outputShape: string;
  /** One entry per recorded training step, ms. */
  fwd: number[];
  bwd: number[];
}

/** Replaces obj[key] (a method) by a wrapper that reports each call's duration (ms) to `add`. */
function timeMethod<T extends object>(obj: T, key: keyof T & string, add: (ms: number) => void): void {
  const method = (obj[key] as (...args: unknown[]) => unknown).bind(obj);
  (obj as Record<string, unknown>)[key] = (...args: unknown[]) => {
    const t0 = performance.now();
    const r = method(...args);
    add(performance.now() - t0);
    return r;
  };
}

/**
 * Wraps every layer's forward and backward with a timer. Each call to `mark()` closes one step:
 * the times since the previous mark are pushed as one sample per layer.
 */
export function instrument(model: Sequential): { timings: LayerTiming[]; mark(): void; reset(): void } {
  const timings: LayerTiming[] = [];
  const cur: { fwd: number; bwd: number }[] = [];
  model.layers.forEach((layer, i) => {
    timings.push({ name: layer.name, className: layer.className, outputShape: `(None, ${layer.outputShape!.join(', ')})`, fwd: [], bwd: [] });
    cur.push({ fwd: 0, bwd: 0 });
    const fwd = (ms: number) => void (cur[i]!.fwd += ms);
    const bwd = (ms: number) => void (cur[i]!.bwd += ms);
    timeMethod(layer, 'forward', fwd);
    timeMethod(layer, 'backward', bwd);
  });
  // A fused run (src/model/fusion.ts) calls no layer method: its time goes to the row of its first
  // layer, and the rows of the layers it absorbed read 0. The plan is the one the model keeps for
  // the backend active now, so instrument after setBackend.
  for (const unit of model.fusionPlan('training')) {
    if (unit.op === null) continue;
    const i = model.layers.indexOf(unit.layers[0]!);
    timeMethod(unit as { forward: unknown; backward: unknown }, 'forward', (ms) => void (cur[i]!.fwd += ms));
    timeMethod(unit as { forward: unknown; backward: unknown }, 'backward', (ms) => void (cur[i]!.bwd += ms));
  }
  return {
    timings,
    mark() {
      timings.forEach((t, i) => {
        t.fwd.push(cur[i]!.fwd);
        t.bwd.push(cur[i]!.bwd);
        cur[i] = { fwd: 0, bwd: 0 };
      });
    },
    reset() {
      timings.forEach((t, i) => {
        t.fwd.length = 0;
        t.bwd.length = 0;
        cur[i] = { fwd: 0, bwd: 0 };
      });
    },
  };
}
