// The peers: TensorFlow.js 4.22 with its pure-JS 'cpu' backend and its WebAssembly backend
// (XNNPACK, SIMD, one thread in Node). tfjs-wasm ships no Conv2DBackpropFilter kernel, so it
// cannot train a CNN as shipped: we supply one here, built from its own wasm kernels, and check
// it against tfjs cpu's gradient before any timing.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { buildUserModelTfjs } from '../examples/lib/user-model.js';

export { tf };
export type PeerName = 'tfjs-wasm' | 'tfjs-cpu';
export const peerBackend: Record<PeerName, 'wasm' | 'cpu'> = { 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu' };

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: { disposeData(id: object): void }; attrs: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => TensorInfo;

function wasmKernel(name: string): KernelFn {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs-wasm has no '${name}' kernel to build Conv2DBackpropFilter from`);
  return k.kernelFunc as unknown as KernelFn;
}

/**
 * dW [kh, kw, C, O] of a 2-D convolution as a convolution itself: the input transposed to
 * [C, H, W, N] and padded is convolved with the output gradient transposed to [OH, OW, N, O]
 * (batch becomes the reduced channel axis; the stride becomes the filter's dilation), giving
 * [C, kh, kw, O], transposed back. Every step is one of tfjs-wasm's own kernels.
 */
function conv2dBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x!;
  const dy = inputs.dy!;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const strides = attrs.strides as number | [number, number];
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error('bench Conv2DBackpropFilter (wasm): only NHWC');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  const [kh, kw, C, O] = filterShape;
  const transpose = wasmKernel('Transpose');
  const pad = wasmKernel('PadV2');
  const conv = wasmKernel('Conv2D');
  const slice = wasmKernel('Slice');
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
  try {
    let xt = keep(transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } })); // [C, H, W, N]
    const { top, bottom, left, right } = info.padInfo;
    if (top || bottom || left || right) {
      xt = keep(pad({ inputs: { x: xt }, backend, attrs: { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 } }));
    }
    const dyt = keep(transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } })); // [OH, OW, N, O]
    let r = keep(
      conv({
        inputs: { x: xt, filter: dyt },
        backend,
        attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth], dimRoundingMode: undefined },
      }),
    ); // [C, kh', kw', O], kh' ≥ kh
    if (r.shape[1] !== kh || r.shape[2] !== kw) {
      r = keep(slice({ inputs: { x: r }, backend, attrs: { begin: [0, 0, 0, 0], size: [C, kh, kw, O] } }));
    }
    return transpose({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

let loaded = false;

/** Loads tfjs-wasm from node_modules (as a file path: Node has no fetch of file URLs) and adds the filter gradient. */
export async function loadPeers(): Promise<{ wasmDir: string; simd: boolean; threads: boolean }> {
  const require = createRequire(import.meta.url);
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  if (!loaded) {
    tfwasm.setWasmPaths(wasmDir);
    if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
      tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as never });
    }
    // Silence tfjs' "install tfjs-node" banner and its warnings (PROD only skips debug checks).
    tf.env().set('PROD', true);
    loaded = true;
  }
  await tf.setBackend('wasm');
  await tf.ready();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean;
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') as boolean;
  return { wasmDir, simd, threads };
}

export async function usePeer(peer: PeerName): Promise<void> {
  if (tf.getBackend() !== peerBackend[peer]) await tf.setBackend(peerBackend[peer]);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
}

/**
 * Checks the supplied wasm filter gradient against tfjs cpu's own kernel on small cases
 * ('same' and 'valid', strides 1 and 2, odd sizes). Returns the largest relative error.
 */
export async function verifyWasmFilterGradient(): Promise<{ maxRelErr: number; cases: number }> {
  const cases: { x: [number, number, number, number]; k: [number, number]; o: number; s: number; pad: 'same' | 'valid' }[] = [
    { x: [3, 9, 8, 4], k: [3, 3], o: 5, s: 1, pad: 'same' },
    { x: [2, 7, 6, 3], k: [3, 3], o: 4, s: 2, pad: 'same' },
    { x: [2, 8, 7, 3], k: [3, 2], o: 2, s: 1, pad: 'valid' },
    { x: [2, 9, 9, 2], k: [3, 3], o: 3, s: 2, pad: 'valid' },
  ];
  let maxRelErr = 0;
  const rnd = lcg(7);
  for (const c of cases) {
    const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.o];
    const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.s, 1, c.pad);
    const dyShape = info.outShape;
    const xv = Float32Array.from({ length: c.x.reduce((a, b) => a * b) }, rnd);
    const dyv = Float32Array.from({ length: dyShape.reduce((a, b) => a * b) }, rnd);
    const run = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xv, c.x);
      const dy = tf.tensor4d(dyv, dyShape);
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', filterShape } as never) as tf.Tensor;
      const out = dw.dataSync() as Float32Array;
      if (dw.shape.join() !== filterShape.join()) throw new Error(`supplied Conv2DBackpropFilter returned shape [${dw.shape}] instead of [${filterShape}]`);
      tf.dispose([x, dy, dw]);
      return out.slice();
    };
    const want = await run('cpu');
    const got = await run('wasm');
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < want.length; i++) maxRelErr = Math.max(maxRelErr, Math.abs(got[i]! - want[i]!) / Math.max(scale, 1e-6));
  }
  await tf.setBackend('wasm');
  return { maxRelErr, cases: cases.length };
}

/** tfjs' registered gradient of a kernel, as tfjs' own backprop runs it. */
export function gradFunc(kernel: string): NonNullable<ReturnType<typeof tf.getGradient>>['gradFunc'] {
  const g = tf.getGradient(kernel);
  if (!g) throw new Error(`tfjs has no gradient for '${kernel}'`);
  return g.gradFunc;
}

/** The seed model in tf.layers, as the user wrote it in Keras. */
export function buildTfModel(size: number): tf.Sequential {
  const model = buildUserModelTfjs(tf, size);
  model.compile({ optimizer: tf.train.sgd(1e-4), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return model;
}
