// The per-layer micro-benchmarks: each op of the seed model at batch 32, forward and backward
// apart, as a tscnn backend op (called directly) and as the same computation in tfjs.
import { conv2dInfo, type Backend } from '../src/index.js';
import { OutputArena } from '../src/backend/arena.js';
import { residentCopy } from '../src/backend/wasm/resident.js';
import { gradFunc, tf } from './peers.js';

export interface OpSpec {
  /** Short unique id, matched by --filter. */
  id: string;
  layer: string;
  pass: string;
  shape: string;
  /** 2·MACs, or 0 where a FLOP count means little (memory-bound ops). */
  flops: number;
  /** tfjs cpu runs this op at most once by default (naive kernels that take seconds). */
  slowOnTfjsCpu?: 'skip' | 'once';
  /** How the tfjs time is obtained, when not a direct kernel call. */
  tfjsNote?: string;
  tscnn(b: Backend): () => unknown;
  tfjs(): { fn: () => unknown; dispose(): void };
}

// Where tscnn's inputs live. In a model step an op's input is the previous op's output, which
// the cpu backend leaves in its WebAssembly memory (a resident region, src/backend/arena.ts);
// tfjs's inputs likewise live in its own heap. So the cpu cells get each large input as a
// resident copy, made once and held (by an arena kept alive here) for the whole run.
const held = new Map<Float32Array | Int32Array, Float32Array | Int32Array>();
const holders: OutputArena[] = [];
function input<T extends Float32Array | Int32Array>(b: Backend, a: T): T {
  if (b.name !== 'cpu') return a;
  let r = held.get(a);
  if (!r) {
    const arena = new OutputArena();
    holders.push(arena);
    r = arena.run(() => residentCopy(a));
    held.set(a, r);
  }
  return r as T;
}

function rand(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Runs `f` in a tidy scope and disposes its result: the op's output is produced, then freed. */
const tidyRun = (f: () => tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>) => (): void => {
  tf.dispose(tf.tidy(f) as tf.Tensor);
};

export const BATCH = 32;
export const CONVS = [
  { name: 'conv1', h: 100, c: 3, o: 16 },
  { name: 'conv2', h: 50, c: 16, o: 32 },
  { name: 'conv3', h: 25, c: 32, o: 64 },
  { name: 'conv4', h: 12, c: 64, o: 128 },
];

export function opSpecs(): OpSpec[] {
  const specs: OpSpec[] = [];
  const N = BATCH;
  for (const cv of CONVS) {
    const xShape = [N, cv.h, cv.h, cv.c] as const;
    const wShape = [3, 3, cv.c, cv.o] as const;
    const info = conv2dInfo(xShape, [3, 3], cv.o, [1, 1], 'same');
    const yShape = [N, info.outHeight, info.outWidth, cv.o] as const;
    const flops = 2 * N * info.outHeight * info.outWidth * 9 * cv.c * cv.o;
    const x = rand(size(xShape), 1);
    const w = rand(size(wShape), 2);
    const dy = rand(size(yShape), 3);
    const shape = `${cv.h}×${cv.h}×${cv.c}→${cv.o}`;
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
    specs.push({
      id: `${cv.name}.fwd`,
      layer: `Conv2D ${cv.name.slice(4)}`,
      pass: 'forward',
      shape,
      flops,
      tscnn: (b) => {
        const xi = input(b, x);
        return () => b.conv2d(xi, w, info);
      },
      tfjs: () => {
        const tx = tf.tensor4d(x, [...xShape]);
        const tw = tf.tensor4d(w, [...wShape]);
        return { fn: tidyRun(() => tf.conv2d(tx, tw, 1, 'same')), dispose: () => tf.dispose([tx, tw]) };
      },
    });
    specs.push({
      id: `${cv.name}.dx`,
      layer: `Conv2D ${cv.name.slice(4)}`,
      pass: 'input grad',
      shape,
      flops,
      slowOnTfjsCpu: 'once',
      tscnn: (b) => {
        const dyi = input(b, dy);
        return () => b.conv2dBackpropInput(dyi, w, info);
      },
      tfjs: () => {
        const tdy = tf.tensor4d(dy, [...yShape]);
        const tw = tf.tensor4d(w, [...wShape]);
        const run = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: tdy, filter: tw }, { ...attrs, inputShape: [...xShape] } as never) as tf.Tensor;
        return { fn: tidyRun(run), dispose: () => tf.dispose([tdy, tw]) };
      },
    });
    specs.push({
      id: `${cv.name}.dw`,
      layer: `Conv2D ${cv.name.slice(4)}`,
      pass: 'filter grad',
      shape,
      flops,
      slowOnTfjsCpu: 'skip',
      tscnn: (b) => {
        const [xi, dyi] = [input(b, x), input(b, dy)];
        return () => b.conv2dBackpropFilter(xi, dyi, info);
      },
      tfjs: () => {
        const tx = tf.tensor4d(x, [...xShape]);
        const tdy = tf.tensor4d(dy, [...yShape]);
        const run = () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tx, dy: tdy }, { ...attrs, filterShape: [...wShape] } as never) as tf.Tensor;
        return { fn: tidyRun(run), dispose: () => tf.dispose([tx, tdy]) };
      },
    });
  }

  // MaxPooling2D 2×2 on the first block's activations.
  {
    const xShape = [N, 100, 100, 16] as const;
    const info = conv2dInfo(xShape, [2, 2], 16, [2, 2], 'valid');
    const x = rand(size(xShape), 4);
    const dy = rand(N * info.outHeight * info.outWidth * 16, 5);
    specs.push({
      id: 'maxpool.fwd',
      layer: 'MaxPooling2D',
      pass: 'forward',
      shape: fmt(xShape),
      flops: 0,
      tscnn: (b) => {
        const xi = input(b, x);
        return () => b.maxPool(xi, info);
      },
      tfjs: () => {
        const tx = tf.tensor4d(x, [...xShape]);
        return { fn: tidyRun(() => tf.maxPool(tx, 2, 2, 'valid')), dispose: () => tf.dispose(tx) };
      },
    });
    specs.push({
      id: 'maxpool.bwd',
      layer: 'MaxPooling2D',
      pass: 'backward',
      shape: fmt(xShape),
      flops: 0,
      tscnn: (b) => {
        const argmax = input(b, b.maxPool(x, info).argmax);
        const dyi = input(b, dy);
        return () => b.maxPoolBackprop(dyi, argmax, x.length);
      },
      tfjs: () => {
        const tx = tf.tensor4d(x, [...xShape]);
        const ty = tf.maxPool(tx, 2, 2, 'valid');
        const tdy = tf.tensor4d(dy, ty.shape);
        const run = () => tf.engine().runKernel('MaxPoolGrad', { dy: tdy, input: tx, output: ty }, { filterSize: 2, strides: 2, pad: 'valid' } as never) as tf.Tensor;
        return { fn: tidyRun(run), dispose: () => tf.dispose([tx, ty, tdy]) };
      },
    });
  }

  // BatchNormalization in training mode (batch statistics), as tf.layers runs it: moments + batchNorm.
  for (const shape of [[N, 100, 100, 16], [N, 150]] as const) {
    const C = shape[shape.length - 1]!;
    const x = rand(size(shape), 6);
    const dy = rand(size(shape), 7);
    const gamma = rand(C, 8).map((v) => 1 + 0.1 * v);
    const beta = rand(C, 9);
    const axes = shape.length === 4 ? [0, 1, 2] : [0];
    const eps = 1e-3;
    const tfForward = (tx: tf.Tensor, tg: tf.Tensor, tb: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(tx, axes);
      return tf.batchNorm(tx, mean, variance, tb, tg, eps);
    };
    const id = shape.length === 4 ? 'bn4d' : 'bn2d';
    specs.push({
      id: `${id}.fwd`,
      layer: 'BatchNormalization (training)',
      pass: 'forward',
      shape: fmt(shape),
      flops: 0,
      tscnn: (b) => {
        const xi = input(b, x);
        return () => b.batchNormTrain(xi, gamma, beta, C, eps);
      },
      tfjs: () => {
        const tx = tf.tensor(x, [...shape]);
        const tg = tf.tensor1d(gamma);
        const tb = tf.tensor1d(beta);
        return { fn: tidyRun(() => tfForward(tx, tg, tb)), dispose: () => tf.dispose([tx, tg, tb]) };
      },
    });
    specs.push({
      id: `${id}.bwd`,
      layer: 'BatchNormalization (training)',
      pass: 'backward',
      shape: fmt(shape),
      flops: 0,
      tfjsNote: 'bn-grad',
      ...(shape.length === 4 ? { slowOnTfjsCpu: 'skip' as const } : {}),
      tscnn: (b) => {
        const r = b.batchNormTrain(x, gamma, beta, C, eps);
        const [dyi, xHat] = [input(b, dy), input(b, r.xHat)];
        return () => b.batchNormBackward(dyi, xHat, gamma, r.invStd, C);
      },
      // tfjs' gradient of (moments + batchNorm) through its tape; the forward it re-runs is
      // subtracted afterwards (see run.ts), since tfjs cannot replay a recorded tape.
      tfjs: () => {
        const tx = tf.tensor(x, [...shape]);
        const tg = tf.tensor1d(gamma);
        const tb = tf.tensor1d(beta);
        const tdy = tf.tensor(dy, [...shape]);
        const g = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tfForward(a, gg, bb));
        return { fn: tidyRun(() => g([tx, tg, tb], tdy)), dispose: () => tf.dispose([tx, tg, tb, tdy]) };
      },
    });
  }

  // Dense 4608 → 150 (with bias), forward and backward (dW, dX, db).
  {
    const K = 4608;
    const U = 150;
    const x = rand(N * K, 10);
    const w = rand(K * U, 11).map((v) => v * 0.03);
    const bias = rand(U, 12);
    const dy = rand(N * U, 13);
    const flops = 2 * N * K * U;
    specs.push({
      id: 'dense.fwd',
      layer: 'Dense',
      pass: 'forward',
      shape: `${N}×${K}→${U}`,
      flops,
      tscnn: (b) => {
        const xi = input(b, x);
        return () => b.biasAdd(b.matmul(xi, w, N, K, U, false, false), bias, U);
      },
      tfjs: () => {
        const tx = tf.tensor2d(x, [N, K]);
        const tw = tf.tensor2d(w, [K, U]);
        const tb = tf.tensor1d(bias);
        return { fn: tidyRun(() => tf.fused.matMul({ a: tx, b: tw, bias: tb })), dispose: () => tf.dispose([tx, tw, tb]) };
      },
    });
    specs.push({
      id: 'dense.bwd',
      layer: 'Dense',
      pass: 'backward',
      shape: `${N}×${K}→${U}`,
      flops: 2 * flops,
      tscnn: (b) => {
        const xi = input(b, x);
        return () => [b.matmul(xi, dy, K, N, U, true, false), b.matmul(dy, w, N, U, K, false, true), b.biasGrad(dy, U)];
      },
      tfjs: () => {
        const tx = tf.tensor2d(x, [N, K]);
        const tw = tf.tensor2d(w, [K, U]);
        const tdy = tf.tensor2d(dy, [N, U]);
        const g = gradFunc('BatchMatMul');
        const run = () => {
          const r = g(tdy, [tx, tw], { transposeA: false, transposeB: false });
          return [r.a!(), r.b!(), tf.sum(tdy, 0)];
        };
        return { fn: tidyRun(run), dispose: () => tf.dispose([tx, tw, tdy]) };
      },
    });
  }

  // Activations on the largest activation tensor of the model.
  for (const kind of ['relu', 'sigmoid'] as const) {
    const shape = [N, 100, 100, 16] as const;
    const x = rand(size(shape), 14);
    const dy = rand(size(shape), 15);
    specs.push({
      id: `${kind}.fwd`,
      layer: `Activation ${kind}`,
      pass: 'forward',
      shape: fmt(shape),
      flops: 0,
      tscnn: (b) => {
        const xi = input(b, x);
        return () => b.activation(kind, xi, 16, 0);
      },
      tfjs: () => {
        const tx = tf.tensor(x, [...shape]);
        return { fn: tidyRun(() => (kind === 'relu' ? tf.relu(tx) : tf.sigmoid(tx))), dispose: () => tf.dispose(tx) };
      },
    });
    specs.push({
      id: `${kind}.bwd`,
      layer: `Activation ${kind}`,
      pass: 'backward',
      shape: fmt(shape),
      flops: 0,
      tscnn: (b) => {
        const [xi, dyi, y] = [input(b, x), input(b, dy), input(b, b.activation(kind, x, 16, 0))];
        return () => b.activationBackward(kind, dyi, xi, y, 16, 0);
      },
      tfjs: () => {
        const tx = tf.tensor(x, [...shape]);
        const ty = kind === 'relu' ? tf.relu(tx) : tf.sigmoid(tx);
        const tdy = tf.tensor(dy, [...shape]);
        // tfjs' registered gradients: Relu saves its input, Sigmoid its output.
        const g = gradFunc(kind === 'relu' ? 'Relu' : 'Sigmoid');
        const run = () => g(tdy, [kind === 'relu' ? tx : ty], {}).x!();
        return { fn: tidyRun(run), dispose: () => tf.dispose([tx, ty, tdy]) };
      },
    });
  }
  return specs;
}
