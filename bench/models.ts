// The user's seed model in tscnn, random batches for it, and a timing hook that wraps each layer's
// forward/backward (on the instances: src is untouched) to break one training step down by layer.
import { optimizers, Sequential, tensor, type Tensor } from '../src/index.js';
import { BatchNormalization } from '../src/layers/batch-normalization.js';
import { Conv2D } from '../src/layers/conv2d.js';
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
    const forward = layer.forward.bind(layer);
    const backward = layer.backward.bind(layer);
    layer.forward = ((x, ctx) => {
      const t0 = performance.now();
      const r = forward(x, ctx);
      cur[i]!.fwd += performance.now() - t0;
      return r;
    }) as typeof layer.forward;
    layer.backward = ((dy, need) => {
      const t0 = performance.now();
      const r = backward(dy, need);
      cur[i]!.bwd += performance.now() - t0;
      return r;
    }) as typeof layer.backward;
    // A Conv2D or BatchNormalization fused with the Activation and MaxPooling2D after it in
    // training (src/training-fusion.ts) runs these instead: its row then holds the run's time.
    if (layer instanceof Conv2D) {
      const fwdPool = layer.forwardPool.bind(layer);
      const bwdPool = layer.backwardPool.bind(layer);
      layer.forwardPool = ((x, act, size) => {
        const t0 = performance.now();
        const r = fwdPool(x, act, size);
        cur[i]!.fwd += performance.now() - t0;
        return r;
      }) as typeof layer.forwardPool;
      layer.backwardPool = ((dy, need) => {
        const t0 = performance.now();
        const r = bwdPool(dy, need);
        cur[i]!.bwd += performance.now() - t0;
        return r;
      }) as typeof layer.backwardPool;
    }
    if (layer instanceof BatchNormalization) {
      const fwdPool = layer.forwardActPool.bind(layer);
      const bwdPool = layer.backwardActPool.bind(layer);
      layer.forwardActPool = ((x, act, size) => {
        const t0 = performance.now();
        const r = fwdPool(x, act, size);
        cur[i]!.fwd += performance.now() - t0;
        return r;
      }) as typeof layer.forwardActPool;
      layer.backwardActPool = ((dy, need) => {
        const t0 = performance.now();
        const r = bwdPool(dy, need);
        cur[i]!.bwd += performance.now() - t0;
        return r;
      }) as typeof layer.backwardActPool;
    }
  });
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
